/**
 * The wheels stage: one wheel per pin, collected from local --find-links or
 * built with `pip wheel --no-deps`, in parallel, build requirements pinned in
 * the reqset built first and used at their pins, built wheels cached by
 * content, pinned hashes verified.
 */
import { copyFile, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { InputError, ToolError } from '../errors.ts';
import { sha256, sha256File, withTempDir } from '../fsutil.ts';
import type { MarkerEnvironment } from '../python/markers.ts';
import { evaluateMarker } from '../python/markers.ts';
import { parseRequirement, RequirementSyntaxError } from '../python/requirement.ts';
import { incompatibility, isPureWheel, parseWheelFilename, type TagTarget } from '../python/tags.ts';
import type { IndexOptions, Pin } from '../reqset/load.ts';
import type { Progress } from '../progress.ts';
import { localBuilder, type Builder } from '../builders/builder.ts';
import { hookCommand, hookKeyInputs, type Hooks } from '../builders/hooks.ts';
import type { WheelFacts } from './facts.ts';
import { cacheKey, type BuildInputs, WheelCache } from './cache.ts';
import { listFindLinks, locate, sdistBuildRequires } from './locate.ts';
import { DEFAULT_WHEEL_LIMITS, openWheel, type WheelLimits } from './source.ts';

export type WheelOrigin = 'collected' | 'built' | 'cached';

export interface WheelRecord {
  pin: Pin;
  filename: string;
  /** In the output wheels directory. */
  path: string;
  sha256: string;
  size: number;
  origin: WheelOrigin;
  facts: WheelFacts;
  /** Pins named in the sdist's `[build-system] requires` (built and cached wheels): what it was compiled against. */
  buildRequirements: string[];
  /** The wheel's member names, as validated here (later stages need not open it again to list them). */
  members: string[];
}

export interface WheelhouseOptions {
  reqsetName: string;
  pins: Pin[];
  index: IndexOptions;
  target: { name: string; pythonVersion: string; tags: TagTarget; env: MarkerEnvironment; format?: 'rpm' | 'deb' };
  /** Where the wheels are written (a staging directory the caller moves into place). */
  wheelsDir: string;
  cache: WheelCache;
  jobs: number;
  /** The local builder's interpreter (when no `builder` is given). */
  python?: string;
  /** Where builds run (src/builders): default pip on this machine with `python`. */
  builder?: Builder;
  /** Per-package build hooks (packaging/hooks of the workspace), by normalized name. */
  hooks?: Hooks;
  progress: Progress;
  /** Extra inputs for a pin's cache key, e.g. its build hook. */
  extraBuildInputs?: (pin: Pin) => Promise<Record<string, string>>;
  /** Overrides of the wheel size limits (source.ts DEFAULT_WHEEL_LIMITS) every wheel is opened with. */
  wheelLimits?: Partial<WheelLimits>;
  /** reqset's version: part of a cached wheel verdict's key, as the validator may change with it. */
  toolVersion: string;
}

const label = (pin: Pin) => `${pin.name}==${pin.version}`;

/** Default SOURCE_DATE_EPOCH for builds: 1980-01-01, the earliest time a zip can hold. */
const DEFAULT_EPOCH = '315532800';

async function verifyHash(pin: Pin, file: string, digest: string): Promise<void> {
  if (pin.hashes.length === 0) return;
  const sha256s = pin.hashes.filter((h) => h.startsWith('sha256:')).map((h) => h.slice(7));
  if (sha256s.length === 0) return;
  if (!sha256s.includes(digest)) {
    throw new InputError(
      `${pin.source}: hash mismatch for ${label(pin)}: ${path.basename(file)} has sha256:${digest}, the pin list allows ${sha256s.map((h) => `sha256:${h}`).join(', ')}: check where the file came from, then fix the --hash`,
    );
  }
}

/** `pip` arguments that select where distributions come from. */
function indexArguments(index: IndexOptions, extraFindLinks: string[]): string[] {
  const args: string[] = [];
  if (index.noIndex) args.push('--no-index');
  else {
    if (index.indexUrl) args.push('--index-url', index.indexUrl);
    for (const url of index.extraIndexUrls) args.push('--extra-index-url', url);
  }
  for (const link of [...index.findLinks, ...extraFindLinks]) args.push('--find-links', link);
  for (const value of index.onlyBinary) args.push('--only-binary', value);
  for (const value of index.noBinary) args.push('--no-binary', value);
  return args;
}

/**
 * What is built follows from the pin list and the command line only, never
 * from the user's pip settings. pip runs with --isolated (no PIP_* variables,
 * no user config) and PIP_CONFIG_FILE=/dev/null (pip's os.devnull: no config
 * file at all, global and site ones included), which also holds for the
 * build-requirements install pip runs as a subprocess without --isolated; the
 * local builder removes every inherited PIP_* variable. The constraints reach
 * pip wheel by --constraint (--isolated ignores PIP_CONSTRAINT) and that
 * subprocess by PIP_CONSTRAINT: so pinned build requirements are used at their pins.
 */
function pipEnvironment(constraintsFile: string): Record<string, string> {
  return { PIP_CONFIG_FILE: '/dev/null', PIP_CONSTRAINT: constraintsFile };
}

/** Keys of the requirements that apply on the target and are pinned, in order. */
function pinnedKeys(requirements: string[], env: MarkerEnvironment, pins: ReadonlyMap<string, Pin>): string[] {
  const keys: string[] = [];
  for (const text of requirements) {
    try {
      const requirement = parseRequirement(text);
      if (requirement.marker && !evaluateMarker(requirement.marker, env)) continue;
      if (pins.has(requirement.key) && !keys.includes(requirement.key)) keys.push(requirement.key);
    } catch (error) {
      if (!(error instanceof RequirementSyntaxError)) throw error;
    }
  }
  return keys;
}

export async function buildWheelhouse(options: WheelhouseOptions): Promise<WheelRecord[]> {
  const { pins, target, wheelsDir, cache, progress } = options;
  await mkdir(wheelsDir, { recursive: true });
  const files = await listFindLinks(options.index.findLinks, options.index.findLinksNamedAt);
  const pinByKey = new Map(pins.map((p) => [p.key, p]));
  const limit = pLimit(Math.max(1, options.jobs));
  const builder = options.builder ?? localBuilder(target.pythonVersion, options.python);
  // Local find-links directories: a container build sees them at the same paths.
  const findLinkDirs = options.index.findLinks.flatMap((link) => {
    if (link.startsWith('file:')) return [fileURLToPath(link)];
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(link) ? [] : [link];
  });

  const constraints = pins.map((p) => `${p.name}==${p.version}`).join('\n') + '\n';
  const ready = new Map<string, Promise<WheelRecord>>();
  const failures: Error[] = [];

  /** A wheel's facts: validated once per content (and limits and reqset version), then from the cache's verdict. */
  const checkedWheel = async (file: string, digest: string): Promise<WheelVerdict> => {
    const key = sha256(JSON.stringify({ wheel: digest, limits: { ...DEFAULT_WHEEL_LIMITS, ...options.wheelLimits }, validator: options.toolVersion }));
    const known = await cache.verdict<WheelVerdict>(key);
    if (known?.facts && Array.isArray(known.members)) return known;
    const verdict = await readWheel(file, options.wheelLimits);
    await cache.storeVerdict(key, verdict);
    return verdict;
  };

  /** Places a wheel in the output directory atomically (pip may be reading it). */
  const place = async (pin: Pin, source: string, origin: WheelOrigin, started: number, buildRequirements: string[] = []): Promise<WheelRecord> => {
    const filename = path.basename(source);
    const destination = path.join(wheelsDir, filename);
    await copyFile(source, `${destination}.part`);
    await rename(`${destination}.part`, destination);
    const digest = await sha256File(destination);
    const { size } = await stat(destination);
    progress({ stage: 'wheels', item: label(pin), state: origin, elapsedMs: Date.now() - started, detail: filename });
    const { facts, members } = await checkedWheel(destination, digest);
    return { pin, filename, path: destination, sha256: digest, size, origin, facts, members, buildRequirements };
  };

  /** Waits until every pinned build requirement, and what it needs at run time, is in the wheelhouse. */
  const awaitBuildEnvironment = async (requirements: string[], seen = new Set<string>()): Promise<Record<string, string>> => {
    const digests: Record<string, string> = {};
    for (const text of requirements) {
      let key: string;
      try {
        const requirement = parseRequirement(text);
        if (requirement.marker && !evaluateMarker(requirement.marker, target.env)) continue;
        key = requirement.key;
      } catch (error) {
        if (error instanceof RequirementSyntaxError) continue;
        throw error;
      }
      if (seen.has(key) || !pinByKey.has(key)) continue;
      seen.add(key);
      const dependency = await ready.get(key);
      if (!dependency) continue;
      digests[key] = dependency.sha256;
      Object.assign(digests, await awaitBuildEnvironment(dependency.facts.requiresDist, seen));
    }
    return digests;
  };

  const build = async (pin: Pin, sdist: string | undefined, started: number): Promise<WheelRecord> => {
    const buildRequires = sdist ? await sdistBuildRequires(sdist) : [];
    const buildDependencies = await awaitBuildEnvironment(buildRequires);
    const pinnedBuildRequirements = pinnedKeys(buildRequires, target.env, pinByKey);
    const prepared = await builder.prepare();
    const python = prepared.python;
    const hook = options.hooks?.get(pin.key);
    let source: string;
    if (sdist) {
      const digest = await sha256File(sdist);
      await verifyHash(pin, sdist, digest);
      source = `sdist:${digest}`;
    } else {
      source = `index:${JSON.stringify([options.index.indexUrl ?? '', options.index.extraIndexUrls, pin.hashes])}`;
    }
    const inputs: BuildInputs = {
      key: pin.key,
      version: pin.version,
      builder: prepared.identity,
      source,
      buildDependencies,
      extra: { ...((await options.extraBuildInputs?.(pin)) ?? {}), ...hookKeyInputs(hook) },
    };
    const key = cacheKey(inputs);
    const cached = await cache.lookup(key);
    if (cached.hit) return place(pin, cached.path, 'cached', started, pinnedBuildRequirements);
    if (cached.discarded) progress({ stage: 'wheels', item: label(pin), state: 'warning', detail: `discarded a bad wheel cache entry, building again: ${cached.discarded}` });

    return limit(async () => {
      progress({ stage: 'wheels', item: label(pin), state: 'start' });
      const unpinned = buildRequires.filter((r) => {
        try {
          return !pinByKey.has(parseRequirement(r).key);
        } catch {
          return true;
        }
      });
      const log = cache.logFile(options.reqsetName, target.name, `${pin.key}-${pin.version}`);
      await mkdir(path.dirname(log), { recursive: true });
      const built = await withTempDir('reqset-pip-', async (tmp) => {
        const out = path.join(tmp, 'out');
        const constraintsFile = path.join(tmp, 'constraints.txt');
        await writeFile(constraintsFile, constraints);
        await writeFile(path.join(tmp, 'requirement.txt'), `${pin.name}==${pin.version}${pin.hashes.map((h) => ` --hash=${h}`).join('')}\n`);
        await mkdir(out);
        const pip = [
          python.path, '-m', 'pip', 'wheel', '--no-deps', '--isolated', '--no-cache-dir', '--disable-pip-version-check', '--no-input',
          '--constraint', constraintsFile, '--wheel-dir', out, ...indexArguments(options.index, [wheelsDir]), '-r', path.join(tmp, 'requirement.txt'),
        ];
        const env = { ...pipEnvironment(constraintsFile), SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH ?? DEFAULT_EPOCH, PYTHONHASHSEED: '0' };
        if (hook) await builder.prepareHook(hook);
        const command = hook
          ? hookCommand(hook, pip, { distribution: pin.name, version: pin.version, target: target.name, format: target.format, python: python.path, wheelDir: out, sdist })
          : { argv: pip, env: {} };
        const result = await builder.run({
          argv: command.argv,
          env: { ...env, ...command.env },
          read: [wheelsDir, ...findLinkDirs, ...(hook ? [path.dirname(hook.file)] : [])],
          write: [tmp],
          cwd: tmp,
          network: !options.index.noIndex,
          hook,
        });
        await writeFile(log, `$ ${result.command}\n${result.stdout}\n${result.stderr}`);
        if (result.exitCode !== 0) {
          const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
          throw new ToolError(
            `pip could not build ${label(pin)} (exit code ${result.exitCode}); last lines:\n${tail.replace(/^/gm, '  | ')}\n  full log: ${log}` +
              (unpinned.length ? `\n  note: its build requirements ${unpinned.join(', ')} are not pinned in the reqset and must come from the index or --find-links` : ''),
          );
        }
        const produced = (await readdir(out)).filter((f) => f.endsWith('.whl'));
        if (produced.length !== 1 || !produced[0]) throw new ToolError(`pip wheel for ${label(pin)} produced ${produced.length} wheels (${produced.join(', ')}); expected one. Log: ${log}`);
        const wheelName = parseWheelFilename(produced[0]);
        if (wheelName && !isPureWheel(wheelName) && python.version !== target.pythonVersion) {
          throw new InputError(
            `${label(pin)} builds a compiled wheel (${produced[0]}) with Python ${python.version}, but ${target.name} has Python ${target.pythonVersion}: build with python${target.pythonVersion} (--python PATH) or a builder container`,
          );
        }
        return cache.store(key, path.join(out, produced[0]), inputs);
      });
      return place(pin, built, 'built', started, pinnedBuildRequirements);
    });
  };

  const produce = async (pin: Pin): Promise<WheelRecord> => {
    const started = Date.now();
    const local = locate(files, pin.key, pin.version, target.tags);
    const best = local.wheels[0];
    const compatible = best && incompatibility(best.name, target.tags) === undefined;
    if (compatible || (best && !local.sdist && options.index.noIndex)) {
      // An incompatible wheel is collected only when nothing else can be had,
      // so that the closure check reports exactly why it does not fit.
      const digest = await sha256File(best.path);
      await verifyHash(pin, best.path, digest);
      return place(pin, best.path, 'collected', started);
    }
    return build(pin, local.sdist, started);
  };

  for (const pin of pins) {
    const promise = produce(pin);
    ready.set(pin.key, promise);
    promise.catch((error: Error) => {
      failures.push(error);
      progress({ stage: 'wheels', item: label(pin), state: 'failed' });
    });
  }
  const settled = await Promise.allSettled(ready.values());
  if (failures.length) {
    // One cause shared by every build (no engine, no builder image, no Python): report it once.
    const distinct = [...new Set(failures)];
    if (failures.length > 1 && distinct.length === 1 && distinct[0]) throw distinct[0];
    const inputErrors = failures.filter((e) => e instanceof InputError);
    if (inputErrors.length === failures.length) throw new InputError('the wheelhouse cannot be made', inputErrors.map((e) => e.message));
    const bug = failures.find((e) => !(e instanceof InputError || e instanceof ToolError));
    if (bug) throw bug;
    throw new ToolError(`${failures.length} of ${pins.length} wheels failed:\n${failures.map((e) => e.message).join('\n')}`);
  }
  return settled.map((s) => (s as PromiseFulfilledResult<WheelRecord>).value);
}

/** Top-level modules of a wheel's root: `pkg/__init__.py` gives pkg, `mod.py` or `mod.cpython-311-x86_64-linux-gnu.so` gives mod. */
export function topLevelModules(members: string[]): string[] {
  const modules = new Set<string>();
  for (const name of members) {
    const [head, second] = name.split('/');
    if (!head || head.endsWith('.dist-info') || head.endsWith('.data')) continue;
    if (second === '__init__.py') modules.add(head);
    else if (second === undefined) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\.py|\.[A-Za-z0-9_-]+\.so|\.so)$/.exec(head);
      if (m?.[1]) modules.add(m[1]);
    }
  }
  return [...modules].sort();
}

/** Opens (and so validates) a wheel and keeps what the closure check and the packages need. */
interface WheelVerdict {
  facts: WheelFacts;
  members: string[];
}

async function readWheel(wheel: string, limits: Partial<WheelLimits> = {}): Promise<WheelVerdict> {
  const source = await openWheel(wheel, { limits });
  try {
    const name = parseWheelFilename(source.filename);
    if (!name) throw new InputError(`${source.filename}: not a valid wheel file name`);
    const members = source.members.map((m) => m.name);
    const facts = {
      name,
      metadataName: source.metadata.name,
      metadataVersion: source.metadata.version,
      summary: source.metadata.summary,
      requiresDist: source.metadata.requiresDist,
      requiresPython: source.metadata.requiresPython,
      providesExtra: source.metadata.providesExtra,
      consoleScripts: Object.keys(source.entryPoints.console_scripts ?? {}).sort(),
      topLevel: topLevelModules(members),
    };
    return { facts, members };
  } finally {
    await source.close();
  }
}
