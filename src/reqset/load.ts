/**
 * Loading a reqset: reads `reqsets/<name>.txt` and the files it includes,
 * resolves relative paths against the file that names them, and checks the
 * pins. Every problem of every file is reported in one InputError.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { evaluateMarker, type Marker, type MarkerEnvironment } from '../python/markers.ts';
import { redact } from '../python/urls.ts';
import { decodePinFile, parsePinFile, type PinLine } from './parse.ts';

export const REQSET_NAME = /^[a-z0-9][a-z0-9-]*$/;

export interface Pin {
  /** PEP 503 normalized name. */
  key: string;
  name: string;
  version: string;
  extras: string[];
  marker?: Marker;
  markerText?: string;
  hashes: string[];
  /** "file:line", for messages. */
  source: string;
}

/**
 * Where pip looks for distributions. URLs are as pip uses them, `${VAR}`
 * expanded and credentials included: show them only through `redactIndex`
 * (or python/urls.ts `redact` with `secrets`).
 */
export interface IndexOptions {
  /** Unset: pip's default, PyPI (https://pypi.org/simple). */
  indexUrl?: string;
  extraIndexUrls: string[];
  /** Absolute paths or URLs. */
  findLinks: string[];
  /** Where each local find-links directory is named ("file:line"), for messages; not those of the command line. */
  findLinksNamedAt: Record<string, string>;
  noIndex: boolean;
  onlyBinary: string[];
  noBinary: string[];
  /** `--require-hashes`: every pin must carry a --hash (pip's hash-checking mode, on even for a list without hashes). */
  requireHashes: boolean;
  /** Values of `${VAR}` expanded into the pin list's URLs, to redact wherever text leaves the process. */
  secrets: string[];
}

/** pip's default index when neither the pin list nor the command line names one. */
export const DEFAULT_INDEX_URL = 'https://pypi.org/simple';

/** Redacts credentials (`user:pass@`, expanded `${VAR}` values) of these index options from a text. */
export function redactIndex(text: string, index: Pick<IndexOptions, 'secrets'>): string {
  return redact(text, index.secrets);
}

/** The effective index options as pip options, credentials redacted: what `--verbose` shows. */
export function describeIndex(index: IndexOptions): string {
  const options = index.noIndex
    ? ['--no-index']
    : [`--index-url ${index.indexUrl ?? `${DEFAULT_INDEX_URL} (pip's default)`}`, ...index.extraIndexUrls.map((u) => `--extra-index-url ${u}`)];
  for (const link of index.findLinks) options.push(`--find-links ${link}`);
  for (const value of index.onlyBinary) options.push(`--only-binary ${value}`);
  for (const value of index.noBinary) options.push(`--no-binary ${value}`);
  if (index.requireHashes) options.push('--require-hashes');
  return redactIndex(options.join(' '), index);
}

export interface Reqset {
  name: string;
  file: string;
  pins: Pin[];
  index: IndexOptions;
}

export function reqsetFile(workspace: string, name: string): string {
  return path.join(workspace, 'reqsets', `${name}.txt`);
}

const isUrl = (value: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(value);

interface Collected {
  requirements: PinLine[];
  constraints: PinLine[];
  index: IndexOptions;
  problems: string[];
}

async function collect(file: string, display: (f: string) => string, asConstraint: boolean, into: Collected, stack: string[]) {
  const label = display(file);
  if (stack.includes(file)) {
    into.problems.push(`${label}: included again from itself (${[...stack, file].map(display).join(' -> ')}): remove the cycle`);
    return;
  }
  const decoded = decodePinFile(await readFile(file), label);
  if ('problem' in decoded) {
    into.problems.push(decoded.problem);
    return;
  }
  const parsed = parsePinFile(decoded.content, label, process.env);
  into.problems.push(...parsed.problems);
  into.index.secrets.push(...parsed.secrets);
  (asConstraint ? into.constraints : into.requirements).push(...parsed.pins);
  const dir = path.dirname(file);
  for (const option of parsed.options) {
    switch (option.kind) {
      case 'no-index':
        into.index.noIndex = true;
        break;
      case 'require-hashes':
        into.index.requireHashes = true;
        break;
      case 'index-url':
        into.index.indexUrl = option.value;
        break;
      case 'extra-index-url':
        into.index.extraIndexUrls.push(option.value);
        break;
      case 'find-links': {
        const link = isUrl(option.value) ? option.value : path.resolve(dir, option.value);
        into.index.findLinks.push(link);
        into.index.findLinksNamedAt[link] ??= `${label}:${option.line}`;
        break;
      }
      case 'only-binary':
        into.index.onlyBinary.push(option.value);
        break;
      case 'no-binary':
        into.index.noBinary.push(option.value);
        break;
      case 'requirement-file':
      case 'constraint-file': {
        const included = path.resolve(dir, option.value);
        try {
          await collect(included, display, asConstraint || option.kind === 'constraint-file', into, [...stack, file]);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          into.problems.push(`${label}:${option.line}: ${option.value} does not exist (looked for ${included}): fix the path, relative to ${label}`);
        }
        break;
      }
    }
  }
}

const where = (p: PinLine) => `${p.file}:${p.line}`;

/** Checks pins are exact, unique and consistent with constraints (and hashed, with --require-hashes); returns the pins. */
export function checkPins(requirements: PinLine[], constraints: PinLine[], requireHashes = false): { pins: Pin[]; problems: string[] } {
  const problems: string[] = [];
  const constraintFor = new Map<string, PinLine>();
  for (const c of constraints) {
    if (!c.version) {
      problems.push(`${where(c)}: constraint "${c.text}" is not an exact pin: write "${c.requirement.name}==<version>"`);
      continue;
    }
    const earlier = constraintFor.get(c.requirement.key);
    if (earlier && earlier.version !== c.version && earlier.requirement.markerText === c.requirement.markerText) {
      problems.push(`${where(c)}: conflicting constraints ${c.requirement.name}==${c.version} and ==${earlier.version} (at ${where(earlier)}): keep one`);
    }
    constraintFor.set(c.requirement.key, c);
  }

  const pins: Pin[] = [];
  const seen = new Map<string, PinLine>();
  for (const r of requirements) {
    const { requirement } = r;
    const constraint = constraintFor.get(requirement.key);
    let version = r.version;
    if (!version) {
      if (constraint?.version && !requirement.specifier) version = constraint.version;
      else {
        problems.push(`${where(r)}: "${r.text}" is not pinned exactly: write "${requirement.name}==<version>"${requirement.specifier ? '' : ' or pin it in a -c constraints file'}`);
        continue;
      }
    } else if (constraint?.version && constraint.version !== version) {
      problems.push(`${where(r)}: ${requirement.name}==${version} conflicts with the constraint ${requirement.name}==${constraint.version} at ${where(constraint)}: make them agree`);
    }
    const key = `${requirement.key}\0${requirement.markerText ?? ''}`;
    const earlier = seen.get(key);
    if (earlier) {
      problems.push(
        earlier.version === version
          ? `${where(r)}: ${requirement.name} is pinned twice (also at ${where(earlier)}): remove one of the lines`
          : `${where(r)}: ${requirement.name}==${version} conflicts with ${requirement.name}==${earlier.version} at ${where(earlier)}: keep one version`,
      );
      continue;
    }
    seen.set(key, { ...r, version });
    pins.push({
      key: requirement.key,
      name: requirement.name,
      version,
      extras: requirement.extras,
      marker: requirement.marker,
      markerText: requirement.markerText,
      hashes: r.hashes.length ? r.hashes : (constraint?.hashes ?? []),
      source: where(r),
    });
  }

  return { pins, problems: [...problems, ...hashProblems(pins, requireHashes)] };
}

/** pip's hash-checking mode: with --require-hashes, or once any pin has a --hash, every pin needs one. */
export function hashProblems(pins: Pin[], requireHashes: boolean): string[] {
  const hashed = pins.filter((p) => p.hashes.length > 0);
  if (!requireHashes && (hashed.length === 0 || hashed.length === pins.length)) return [];
  const why = requireHashes ? '--require-hashes is in force' : "other pins do (pip's hash-checking mode needs all)";
  return pins
    .filter((p) => p.hashes.length === 0)
    .map((p) => `${p.source}: ${p.name} has no --hash while ${why}: add --hash=sha256:... to it (pip-compile --generate-hashes and uv export write them)`);
}

/** Orders "file:line: ..." messages by file, then line number. */
function sortByLocation(problems: string[]): string[] {
  const key = (p: string) => /^(.*?):(\d+):/.exec(p);
  return [...problems].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    if (!ka || !kb) return 0;
    return (ka[1] ?? '').localeCompare(kb[1] ?? '') || Number(ka[2]) - Number(kb[2]);
  });
}

export async function loadReqset(workspace: string, name: string): Promise<Reqset> {
  if (!REQSET_NAME.test(name)) {
    throw new InputError(`invalid reqset name ${JSON.stringify(name)}: use lower-case letters, digits and "-", starting with a letter or digit`);
  }
  const file = reqsetFile(workspace, name);
  // Files are named relative to the workspace, as its owner writes them.
  const display = (f: string) => {
    const relative = path.relative(workspace, f);
    return relative.startsWith('..') ? f : relative;
  };
  const collected: Collected = {
    requirements: [],
    constraints: [],
    index: { extraIndexUrls: [], findLinks: [], findLinksNamedAt: {}, noIndex: false, onlyBinary: [], noBinary: [], requireHashes: false, secrets: [] },
    problems: [],
  };
  try {
    await collect(file, display, false, collected, []);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError(`no reqset ${JSON.stringify(name)}: ${display(file)} does not exist (a workspace keeps its pin lists in reqsets/<name>.txt; use --workspace DIR to point elsewhere)`);
    }
    throw error;
  }
  const { pins, problems } = checkPins(collected.requirements, collected.constraints, collected.index.requireHashes);
  const all = sortByLocation([...collected.problems, ...problems]).map((p) => redactIndex(p, collected.index));
  if (all.length) throw new InputError(`${display(file)}: ${all.length} problem${all.length > 1 ? 's' : ''} in the pin list`, all);
  if (pins.length === 0) throw new InputError(`${display(file)}: the pin list pins nothing: add lines like "name==version"`);
  return { name, file, pins, index: collected.index };
}

export interface CliIndexOptions {
  findLinks?: string[];
  noIndex?: boolean;
  indexUrl?: string;
  extraIndexUrls?: string[];
  requireHashes?: boolean;
}

/** Command-line options add find-links and extra indexes, override the index choice of the file and may require hashes. */
export function withCliIndexOptions(index: IndexOptions, cli: CliIndexOptions): IndexOptions {
  return {
    ...index,
    findLinks: [...index.findLinks, ...(cli.findLinks ?? []).map((f) => (isUrl(f) ? f : path.resolve(f)))],
    noIndex: cli.indexUrl ? false : (cli.noIndex ?? false) || index.noIndex,
    indexUrl: cli.indexUrl ?? index.indexUrl,
    extraIndexUrls: [...index.extraIndexUrls, ...(cli.extraIndexUrls ?? [])],
    requireHashes: (cli.requireHashes ?? false) || index.requireHashes,
  };
}

/** The pins whose markers hold on the target; two pins of one name that both hold are an error. */
export function pinsForTarget(reqset: Reqset, env: MarkerEnvironment, targetName: string): Pin[] {
  const selected = reqset.pins.filter((p) => !p.marker || evaluateMarker(p.marker, env));
  const byKey = new Map<string, Pin>();
  const problems: string[] = [];
  for (const pin of selected) {
    const other = byKey.get(pin.key);
    if (other) problems.push(`${pin.source}: ${pin.name}==${pin.version} and ${other.name}==${other.version} (at ${other.source}) both apply to target ${targetName}: make their markers exclusive`);
    else byKey.set(pin.key, pin);
  }
  if (problems.length) throw new InputError(`${path.basename(reqset.file)}: conflicting pins for target ${targetName}`, problems);
  return selected;
}
