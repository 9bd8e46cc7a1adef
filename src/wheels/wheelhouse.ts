/**
 * The wheels stage: one wheel per pin, collected from local --find-links or
 * built with `pip wheel --no-deps` (which also fetches wheels from an index),
 * in parallel, build requirements pinned in the reqset built first and used
 * at their pins, built wheels cached by content, pinned hashes verified.
 * Index URLs may hold credentials: pip reads them from a requirement file in
 * a private directory, never from its command line, and every text that
 * leaves this stage (logs, progress, errors) is redacted.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { sourceDateEpoch } from '../epoch.ts';
import { InputError, ToolError } from '../errors.ts';
import { sha256, sha256File, withTempDir } from '../fsutil.ts';
import type { MarkerEnvironment } from '../python/markers.ts';
import { evaluateMarker } from '../python/markers.ts';
import { parseRequirement, RequirementSyntaxError } from '../python/requirement.ts';
import { incompatibility, isPureWheel, parseWheelFilename, type TagTarget } from '../python/tags.ts';
import { DEFAULT_INDEX_URL, describeIndex, hashProblems, redactIndex, type IndexOptions, type Pin } from '../reqset/load.ts';
import type { Progress } from '../progress.ts';
import { formatCommand, traceNote, type RunResult } from '../run.ts';
import { localBuilder, type Builder, type PreparedBuilder } from '../builders/builder.ts';
import { hookCommand, hookKeyInputs, type Hook, type Hooks } from '../builders/hooks.ts';
import type { WheelFacts } from './facts.ts';
import { cacheKey, type BuildInputs, WheelCache } from './cache.ts';
import { listFindLinks, locate, sdistBuildRequires } from './locate.ts';
import { openWheel } from './source.ts';
import { DEFAULT_WHEEL_LIMITS, type WheelLimits } from './limits.ts';

export type WheelOrigin = 'collected' | 'built' | 'cached';

/** Where the distribution of a wheel was found and how its pinned hash was checked: what the manifest records. */
export interface ArtifactRecord {
  /** A local file, or the URL pip downloaded (credentials redacted); for a wheel cached from an index, that index. */
  from: string;
  /** The distribution's sha256 (the wheel itself, or the local sdist) when reqset read it. */
  sha256?: string;
  /**
   * Who checked it against the pin's --hash: `reqset` (`sha256`, or another of
   * the pin's algorithms, matched), `pip` (an sdist pip downloaded and built, in
   * its hash-checking mode), or `none` (the pin has no hash).
   */
  hashCheckedBy: 'reqset' | 'pip' | 'none';
}

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
  artifact: ArtifactRecord;
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
  /** Overrides of the wheel size limits (source.ts DEFAULT_WHEEL_LIMITS) every wheel is opened with. */
  wheelLimits?: Partial<WheelLimits>;
  /** reqset's version: part of a cached wheel verdict's key, as the validator may change with it. */
  toolVersion: string;
}

const label = (pin: Pin) => `${pin.name}==${pin.version}`;

const isUrl = (link: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(link);


/** A file's digest in one of pip's hash algorithms (sha256, sha384, sha512). */
function fileDigest(file: string, algorithm: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash(algorithm);
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function hashMismatch(pin: Pin, what: string, got: string): InputError {
  return new InputError(
    `${pin.source}: hash mismatch for ${label(pin)}: ${what} has ${got}, the pin list allows ${pin.hashes.join(', ')}: check where the file came from, then fix the --hash`,
  );
}

/** Checks a file against the pin's --hash values, any of which may match (as in pip). */
async function verifyHash(pin: Pin, file: string, digest: string): Promise<ArtifactRecord['hashCheckedBy']> {
  if (pin.hashes.length === 0) return 'none';
  for (const algorithm of new Set(pin.hashes.map((h) => h.slice(0, h.indexOf(':'))))) {
    const value = algorithm === 'sha256' ? digest : await fileDigest(file, algorithm);
    if (pin.hashes.includes(`${algorithm}:${value}`)) return 'reqset';
  }
  throw hashMismatch(pin, path.basename(file), `sha256:${digest}`);
}

/** pip's options that select where distributions come from, each as [option, value?]. */
function indexOptions(index: IndexOptions, extraFindLinks: string[]): string[][] {
  const options: string[][] = [];
  if (index.noIndex) options.push(['--no-index']);
  else {
    if (index.indexUrl) options.push(['--index-url', index.indexUrl]);
    for (const url of index.extraIndexUrls) options.push(['--extra-index-url', url]);
  }
  for (const link of [...index.findLinks, ...extraFindLinks]) options.push(['--find-links', link]);
  for (const value of index.onlyBinary) options.push(['--only-binary', value]);
  for (const value of index.noBinary) options.push(['--no-binary', value]);
  if (index.requireHashes) options.push(['--require-hashes']);
  return options;
}

/**
 * The requirement file pip wheel reads: the index options, so that no
 * credential is on a command line another user can list, and the pin with its
 * hashes. pip splits option lines as a shell would.
 */
function requirementFile(pin: Pin, index: IndexOptions, extraFindLinks: string[]): string {
  const options = indexOptions(index, extraFindLinks).map((option) => formatCommand(option));
  return [...options, `${label(pin)}${pin.hashes.map((h) => ` --hash=${h}`).join('')}`, ''].join('\n');
}

/** The user's netrc (NETRC, else ~/.netrc), where pip finds the credentials of an index URL that has none. */
function netrcFile(): string | undefined {
  const file = process.env.NETRC || path.join(homedir(), '.netrc');
  return existsSync(file) ? file : undefined;
}

/**
 * What is built follows from the pin list and the command line only, never
 * from the user's pip settings. pip runs with --isolated (no PIP_* variables,
 * no user config) and PIP_CONFIG_FILE=/dev/null (pip's os.devnull: no config
 * file at all, global and site ones included), which also holds for the
 * build-requirements install pip runs as a subprocess without --isolated; the
 * local builder removes every inherited PIP_* variable. The constraints reach
 * pip wheel by --constraint (--isolated ignores PIP_CONSTRAINT) and that
 * subprocess by PIP_CONSTRAINT: so pinned build requirements are used at their
 * pins. NETRC names the netrc, which a container build sees at the same path.
 */
function pipEnvironment(constraintsFile: string, netrc: string | undefined): Record<string, string> {
  return { PIP_CONFIG_FILE: '/dev/null', PIP_CONSTRAINT: constraintsFile, ...(netrc ? { NETRC: netrc } : {}) };
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

/** The URL pip downloaded the pin's distribution from (pip prints it without a password, redacted again by the caller). */
function downloadedFrom(output: string): string | undefined {
  return /^\s*Downloading (\S+)/m.exec(output)?.[1];
}

/**
 * pip's report of a download whose hash the pin list does not allow
 * ("THESE PACKAGES DO NOT MATCH THE HASHES ..."): the file and what it has.
 */
function pipHashMismatch(output: string): { what: string; got: string } | undefined {
  const m = /^\s*\S+ from (\S+)[^\n]*\n\s*Expected (\w+) [\s\S]*?\n\s*Got\s+([0-9a-f]+)\s*$/m.exec(output);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { what: m[1].replace(/#.*$/, ''), got: `${m[2]}:${m[3]}` };
}

/** A failed pip run as the error to report: a hash mismatch is the pin list's (exit 2), anything else pip's. */
function pipFailure(pin: Pin, exitCode: number, output: string, log: string, unpinned: string[]): Error {
  const mismatch = pipHashMismatch(output);
  if (mismatch) return hashMismatch(pin, mismatch.what, mismatch.got);
  const tail = output.trim().split('\n').slice(-15).join('\n');
  return new ToolError(
    `pip could not build ${label(pin)} (exit code ${exitCode}); last lines:\n${tail.replace(/^/gm, '  | ')}\n  full log: ${log}` +
      (unpinned.length ? `\n  note: its build requirements ${unpinned.join(', ')} are not pinned in the reqset and must come from the index or --find-links` : ''),
  );
}

/** How a wheel got into the wheelhouse; its artifact record is made from the wheel's sha256. */
interface Placement {
  origin: WheelOrigin;
  artifact: (wheelSha256: string) => ArtifactRecord;
  buildRequirements?: string[];
}

/** One run of the wheels stage: every pin's wheel, each a promise others (its build requirements' users) can wait on. */
class Wheelhouse {
  readonly ready = new Map<string, Promise<WheelRecord>>();
  private readonly pinByKey: Map<string, Pin>;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly builder: Builder;
  private readonly constraints: string;
  /** Local find-links directories: a container build sees them at the same paths. */
  private readonly findLinkDirs: string[];
  private readonly netrc = netrcFile();

  constructor(
    private readonly options: WheelhouseOptions,
    private readonly files: string[],
  ) {
    this.pinByKey = new Map(options.pins.map((p) => [p.key, p]));
    this.limit = pLimit(Math.max(1, options.jobs));
    this.builder = options.builder ?? localBuilder(options.target.pythonVersion, options.python);
    this.constraints = options.pins.map((p) => `${p.name}==${p.version}`).join('\n') + '\n';
    this.findLinkDirs = options.index.findLinks.flatMap((link) => (link.startsWith('file:') ? [fileURLToPath(link)] : isUrl(link) ? [] : [link]));
  }

  private redact(text: string): string {
    return redactIndex(text, this.options.index);
  }

  /** A wheel's facts: validated once per content (and limits and reqset version), then from the cache's verdict. */
  private async checkedWheel(file: string, digest: string): Promise<WheelVerdict> {
    const { cache, wheelLimits, toolVersion } = this.options;
    const key = sha256(JSON.stringify({ wheel: digest, limits: { ...DEFAULT_WHEEL_LIMITS, ...wheelLimits }, validator: toolVersion }));
    const known = await cache.verdict<WheelVerdict>(key);
    if (known?.facts && Array.isArray(known.members)) return known;
    const verdict = await readWheel(file, wheelLimits);
    await cache.storeVerdict(key, verdict);
    return verdict;
  }

  /** Places a wheel in the output directory atomically (pip may be reading it). */
  private async place(pin: Pin, source: string, started: number, placement: Placement): Promise<WheelRecord> {
    const filename = path.basename(source);
    const destination = path.join(this.options.wheelsDir, filename);
    await copyFile(source, `${destination}.part`);
    await rename(`${destination}.part`, destination);
    const digest = await sha256File(destination);
    const { size } = await stat(destination);
    const { origin } = placement;
    this.options.progress({ stage: 'wheels', item: label(pin), state: origin, elapsedMs: Date.now() - started, detail: filename });
    const { facts, members } = await this.checkedWheel(destination, digest);
    const buildRequirements = placement.buildRequirements ?? [];
    return { pin, filename, path: destination, sha256: digest, size, origin, facts, members, buildRequirements, artifact: placement.artifact(digest) };
  }

  /** Waits until every pinned build requirement, and what it needs at run time, is in the wheelhouse. */
  private async awaitBuildEnvironment(requirements: string[], seen = new Set<string>()): Promise<Record<string, string>> {
    const digests: Record<string, string> = {};
    for (const text of requirements) {
      let key: string;
      try {
        const requirement = parseRequirement(text);
        if (requirement.marker && !evaluateMarker(requirement.marker, this.options.target.env)) continue;
        key = requirement.key;
      } catch (error) {
        if (error instanceof RequirementSyntaxError) continue;
        throw error;
      }
      if (seen.has(key) || !this.pinByKey.has(key)) continue;
      seen.add(key);
      const dependency = await this.ready.get(key);
      if (!dependency) continue;
      digests[key] = dependency.sha256;
      Object.assign(digests, await this.awaitBuildEnvironment(dependency.facts.requiresDist, seen));
    }
    return digests;
  }

  /** A compatible local wheel is collected; otherwise pip builds or fetches it. */
  async produce(pin: Pin): Promise<WheelRecord> {
    const started = Date.now();
    const { tags } = this.options.target;
    const local = locate(this.files, pin.key, pin.version, tags);
    const best = local.wheels[0];
    const compatible = best && incompatibility(best.name, tags) === undefined;
    if (compatible || (best && !local.sdist && this.options.index.noIndex)) {
      // An incompatible wheel is collected only when nothing else can be had,
      // so that the closure check reports exactly why it does not fit.
      const digest = await sha256File(best.path);
      const hashCheckedBy = await verifyHash(pin, best.path, digest);
      return this.place(pin, best.path, started, { origin: 'collected', artifact: () => ({ from: best.path, sha256: digest, hashCheckedBy }) });
    }
    return this.build(pin, local.sdist, started);
  }

  /** Where an index build comes from, for its cache key: the indexes (credentials redacted) and the pinned hashes. */
  private indexSource(pin: Pin): string {
    const { indexUrl, extraIndexUrls } = this.options.index;
    return `index:${JSON.stringify([this.redact(indexUrl ?? ''), extraIndexUrls.map((u) => this.redact(u)), pin.hashes])}`;
  }

  /** The record of a wheel pip fetched from an index, or built from an sdist it fetched there. */
  private indexArtifact(pin: Pin, downloaded: string | undefined): (wheelSha256: string) => ArtifactRecord {
    const from = this.redact(downloaded ?? this.options.index.indexUrl ?? DEFAULT_INDEX_URL);
    return (digest) => {
      const pinned = pin.hashes.includes(`sha256:${digest}`);
      const sha256 = pinned || downloaded?.endsWith('.whl') ? digest : undefined;
      return { from, ...(sha256 ? { sha256 } : {}), hashCheckedBy: pin.hashes.length === 0 ? 'none' : pinned ? 'reqset' : 'pip' };
    };
  }

  private async build(pin: Pin, sdist: string | undefined, started: number): Promise<WheelRecord> {
    const buildRequires = sdist ? await sdistBuildRequires(sdist) : [];
    const buildDependencies = await this.awaitBuildEnvironment(buildRequires);
    const buildRequirements = pinnedKeys(buildRequires, this.options.target.env, this.pinByKey);
    const prepared = await this.builder.prepare();
    const hook = this.options.hooks?.get(pin.key);
    const sdistDigest = sdist ? await sha256File(sdist) : undefined;
    const sdistArtifact = sdist && sdistDigest ? { from: sdist, sha256: sdistDigest, hashCheckedBy: await verifyHash(pin, sdist, sdistDigest) } : undefined;
    const inputs: BuildInputs = {
      key: pin.key,
      version: pin.version,
      builder: prepared.identity,
      source: sdistDigest ? `sdist:${sdistDigest}` : this.indexSource(pin),
      buildDependencies,
      extra: hookKeyInputs(hook),
    };
    const key = cacheKey(inputs);
    const { cache, progress } = this.options;
    const cached = await cache.lookup(key);
    if (cached.hit) {
      const artifact = sdistArtifact ? () => sdistArtifact : this.indexArtifact(pin, undefined);
      return this.place(pin, cached.path, started, { origin: 'cached', artifact, buildRequirements });
    }
    if (cached.discarded) progress({ stage: 'wheels', item: label(pin), state: 'warning', detail: `discarded a bad wheel cache entry, building again: ${cached.discarded}` });

    return this.limit(async () => {
      progress({ stage: 'wheels', item: label(pin), state: 'start' });
      const built = await this.runPip(pin, { sdist, prepared, hook, buildRequires }, (wheel) => cache.store(key, wheel, inputs));
      const artifact = sdistArtifact ? () => sdistArtifact : this.indexArtifact(pin, downloadedFrom(built.output));
      return this.place(pin, built.wheel, started, { origin: 'built', artifact, buildRequirements });
    });
  }

  /**
   * Runs pip wheel (or the pin's build hook) in a private directory; `keep`
   * stores the one wheel it makes before the directory is removed. The log and
   * every message are redacted.
   */
  private async runPip(
    pin: Pin,
    build: { sdist?: string; prepared: PreparedBuilder; hook?: Hook; buildRequires: string[] },
    keep: (wheel: string) => Promise<string>,
  ): Promise<{ wheel: string; output: string }> {
    const { target, index, wheelsDir } = this.options;
    const { sdist, hook, prepared } = build;
    const log = this.options.cache.logFile(this.options.reqsetName, target.name, `${pin.key}-${pin.version}`);
    await mkdir(path.dirname(log), { recursive: true });
    return withTempDir('reqset-pip-', async (tmp) => {
      const out = path.join(tmp, 'out');
      const constraintsFile = path.join(tmp, 'constraints.txt');
      const requirements = path.join(tmp, 'requirement.txt');
      await writeFile(constraintsFile, this.constraints);
      await writeFile(requirements, requirementFile(pin, index, [wheelsDir]), { mode: 0o600 });
      await mkdir(out);
      const python = prepared.python.path;
      const pip = [python, '-m', 'pip', 'wheel', '--no-deps', '--isolated', '--no-cache-dir', '--disable-pip-version-check', '--no-input', '--constraint', constraintsFile, '--wheel-dir', out, '-r', requirements];
      const env = { ...pipEnvironment(constraintsFile, this.netrc), SOURCE_DATE_EPOCH: String(sourceDateEpoch()), PYTHONHASHSEED: '0' };
      if (hook) await this.builder.prepareHook(hook);
      const context = { distribution: pin.name, version: pin.version, target: target.name, format: target.format, python, wheelDir: out, sdist };
      const command = hook ? hookCommand(hook, pip, context) : { argv: pip, env: {} };
      const result: RunResult = await this.builder.run({
        argv: command.argv,
        env: { ...env, ...command.env },
        read: [wheelsDir, ...this.findLinkDirs, ...(this.netrc ? [this.netrc] : []), ...(hook ? [path.dirname(hook.file)] : [])],
        write: [tmp],
        cwd: tmp,
        network: !index.noIndex || index.findLinks.some(isUrl),
        hook,
      });
      const output = this.redact(`${result.stdout}\n${result.stderr}`);
      await writeFile(log, `$ ${this.redact(result.command)}\n${output}`);
      if (result.exitCode !== 0) throw pipFailure(pin, result.exitCode, output, log, this.unpinned(build.buildRequires));
      return { wheel: await keep(await this.producedWheel(pin, out, prepared, log)), output };
    });
  }

  /** Build requirements the reqset does not pin, for the note of a failed build. */
  private unpinned(buildRequires: string[]): string[] {
    return buildRequires.filter((r) => {
      try {
        return !this.pinByKey.has(parseRequirement(r).key);
      } catch {
        return true;
      }
    });
  }

  /** The one wheel a build made; a compiled one only from the target's Python version. */
  private async producedWheel(pin: Pin, out: string, prepared: PreparedBuilder, log: string): Promise<string> {
    const { target } = this.options;
    const produced = (await readdir(out)).filter((f) => f.endsWith('.whl'));
    if (produced.length !== 1 || !produced[0]) throw new ToolError(`pip wheel for ${label(pin)} produced ${produced.length} wheels (${produced.join(', ')}); expected one. Log: ${log}`);
    const wheelName = parseWheelFilename(produced[0]);
    if (wheelName && !isPureWheel(wheelName) && prepared.python.version !== target.pythonVersion) {
      throw new InputError(
        `${label(pin)} builds a compiled wheel (${produced[0]}) with Python ${prepared.python.version}, but ${target.name} has Python ${target.pythonVersion}: build with python${target.pythonVersion} (--python PATH) or a builder container`,
      );
    }
    return path.join(out, produced[0]);
  }
}

/** One error for every failed pin: a cause shared by all once, input errors as one input error. */
function wheelhouseError(failures: Error[], pins: number): Error {
  // One cause shared by every build (no engine, no builder image, no Python): report it once.
  const distinct = [...new Set(failures)];
  if (failures.length > 1 && distinct.length === 1 && distinct[0]) return distinct[0];
  const inputErrors = failures.filter((e) => e instanceof InputError);
  if (inputErrors.length === failures.length) return new InputError('the wheelhouse cannot be made', inputErrors.map((e) => e.message));
  const bug = failures.find((e) => !(e instanceof InputError || e instanceof ToolError));
  if (bug) return bug;
  return new ToolError(`${failures.length} of ${pins} wheels failed:\n${failures.map((e) => e.message).join('\n')}`);
}

export async function buildWheelhouse(options: WheelhouseOptions): Promise<WheelRecord[]> {
  const { pins, index, progress } = options;
  // The pin list's --require-hashes was checked when it was read; the command line's is checked here.
  const unhashed = hashProblems(pins, index.requireHashes);
  if (unhashed.length) throw new InputError(`${unhashed.length} pin${unhashed.length > 1 ? 's have' : ' has'} no --hash`, unhashed);
  traceNote(`pip index options: ${describeIndex(index)}`);
  await mkdir(options.wheelsDir, { recursive: true });
  const wheelhouse = new Wheelhouse(options, await listFindLinks(index.findLinks, index.findLinksNamedAt));
  const failures: Error[] = [];
  for (const pin of pins) {
    const promise = wheelhouse.produce(pin);
    wheelhouse.ready.set(pin.key, promise);
    promise.catch((error: Error) => {
      failures.push(error);
      progress({ stage: 'wheels', item: label(pin), state: 'failed' });
    });
  }
  const settled = await Promise.allSettled(wheelhouse.ready.values());
  if (failures.length) throw wheelhouseError(failures, pins.length);
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
