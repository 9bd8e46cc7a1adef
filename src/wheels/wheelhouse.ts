/**
 * The wheels stage: one wheel per pin, collected from local --find-links or
 * fetched from an index (fetch.ts), else built from the local or fetched sdist
 * with `pip wheel --no-deps`, in parallel: an sdist's build requirements are
 * read first, must be pinned in the reqset (unless the user allows the index
 * to supply the others), are built first and used at their pins. Built wheels
 * are cached by content, pinned hashes verified by reqset. Index URLs may hold
 * credentials: pip reads them from a requirement file in a private directory,
 * never from its command line, and every text that leaves this stage (logs,
 * progress, errors) is redacted.
 */
import { copyFile, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
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
import { describeIndex, hashProblems, redactIndex, type IndexOptions, type Pin } from '../reqset/load.ts';
import type { Progress } from '../progress.ts';
import { traceNote, type RunResult } from '../run.ts';
import { localBuilder, type Builder, type PreparedBuilder } from '../builders/builder.ts';
import { hookCommand, hookKeyInputs, type Hook, type Hooks } from '../builders/hooks.ts';
import { WHEEL_FACTS_VERSION, type WheelFacts } from './facts.ts';
import { cacheKey, type BuildInputs, type EntryNotes, WheelCache } from './cache.ts';
import { IndexFetcher, isRemoteUrl, netrcFile } from './fetch.ts';
import { pinLabel as label, verifyHash, type HashCheck } from './hashes.ts';
import { listFindLinks, locate, sdistBuildRequires } from './locate.ts';
import { installedUnpinned, pipEnvironment, pipFailure, sdistRequirementFile, splitBuildRequires, unpinnedError } from './pip.ts';
import { copyrightNotices, licenseFileMembers } from './metadata.ts';
import { openWheel, type WheelSource } from './source.ts';
import { DEFAULT_WHEEL_LIMITS, type WheelLimits } from './limits.ts';

export type WheelOrigin = 'collected' | 'built' | 'cached';

/** Where the distribution of a wheel was found and how its pinned hash was checked: what the manifest records. */
export interface ArtifactRecord {
  /** A local file, or the URL it was fetched from (credentials redacted). */
  from: string;
  /** The distribution's sha256 (the wheel itself, or the sdist it was built from). */
  sha256: string;
  /** `reqset` when it matched one of the pin's --hash values (any algorithm). */
  hashCheckedBy: HashCheck;
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
  /** Build requirements pip took from the index, as `name==version` (only with allowUnpinnedBuildRequirements). */
  unpinnedBuildRequirements: string[];
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
  /** Build requirements the reqset does not pin come from the index (else they are an input error). */
  allowUnpinnedBuildRequirements?: boolean;
}

/** How a wheel got into the wheelhouse. */
interface Placement {
  origin: WheelOrigin;
  artifact: ArtifactRecord;
  buildRequirements?: string[];
  unpinnedBuildRequirements?: string[];
}

/** An sdist to build: local, or fetched from an index, and checked against the pin's hashes. */
interface Sdist {
  path: string;
  artifact: ArtifactRecord;
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
  private readonly fetcher: IndexFetcher;
  /** Whether a pin may come from an index or a --find-links URL. */
  private readonly remote: boolean;

  constructor(
    private readonly options: WheelhouseOptions,
    private readonly files: string[],
  ) {
    this.pinByKey = new Map(options.pins.map((p) => [p.key, p]));
    this.limit = pLimit(Math.max(1, options.jobs));
    this.builder = options.builder ?? localBuilder(options.target.pythonVersion, options.python);
    this.constraints = options.pins.map((p) => `${p.name}==${p.version}`).join('\n') + '\n';
    this.findLinkDirs = options.index.findLinks.flatMap((link) => (link.startsWith('file:') ? [fileURLToPath(link)] : isRemoteUrl(link) ? [] : [link]));
    const warn = (pin: Pin, detail: string) => options.progress({ stage: 'wheels', item: label(pin), state: 'warning', detail });
    this.fetcher = new IndexFetcher(options.index, options.target.tags, options.cache, (text) => this.redact(text), warn, this.netrc);
    this.remote = !options.index.noIndex || options.index.findLinks.some(isRemoteUrl);
  }

  private redact(text: string): string {
    return redactIndex(text, this.options.index);
  }

  /** A wheel's facts: validated once per content (and limits and reqset version), then from the cache's verdict. */
  private async checkedWheel(file: string, digest: string): Promise<WheelVerdict> {
    const { cache, wheelLimits, toolVersion } = this.options;
    const key = sha256(JSON.stringify({ wheel: digest, limits: { ...DEFAULT_WHEEL_LIMITS, ...wheelLimits }, validator: toolVersion, facts: WHEEL_FACTS_VERSION }));
    const known = await cache.verdicts.read<WheelVerdict>(key);
    if (known?.facts && Array.isArray(known.members)) return known;
    const verdict = await readWheel(file, wheelLimits);
    await cache.verdicts.write(key, verdict);
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
    const { artifact, buildRequirements = [], unpinnedBuildRequirements = [] } = placement;
    return { pin, filename, path: destination, sha256: digest, size, origin, facts, members, buildRequirements, unpinnedBuildRequirements, artifact };
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

  /**
   * A compatible local wheel is collected, else a local sdist built; else the
   * pin's distribution is fetched from the index: a wheel is collected, an
   * sdist built like a local one.
   */
  async produce(pin: Pin): Promise<WheelRecord> {
    const started = Date.now();
    const { tags } = this.options.target;
    const local = locate(this.files, pin.key, pin.version, tags);
    const best = local.wheels[0];
    const compatible = best && incompatibility(best.name, tags) === undefined;
    if (compatible || (best && !local.sdist && !this.remote)) {
      // An incompatible wheel is collected only when nothing else can be had,
      // so that the closure check reports exactly why it does not fit.
      const digest = await sha256File(best.path);
      const hashCheckedBy = await verifyHash(pin, best.path, digest, path.basename(best.path));
      return this.place(pin, best.path, started, { origin: 'collected', artifact: { from: best.path, sha256: digest, hashCheckedBy } });
    }
    if (local.sdist) {
      const digest = await sha256File(local.sdist);
      const hashCheckedBy = await verifyHash(pin, local.sdist, digest, path.basename(local.sdist));
      return this.build(pin, { path: local.sdist, artifact: { from: local.sdist, sha256: digest, hashCheckedBy } }, started);
    }
    if (!this.remote) throw new InputError(`${pin.source}: ${label(pin)} has no wheel or sdist in the --find-links directories, and --no-index is in force: add it there, or use an index`);
    const fetched = await this.fetcher.fetch(pin);
    const artifact = { from: fetched.from, sha256: fetched.sha256, hashCheckedBy: fetched.hashCheckedBy };
    if (fetched.kind === 'wheel') return this.place(pin, fetched.path, started, { origin: 'collected', artifact });
    return this.build(pin, { path: fetched.path, artifact }, started);
  }

  /**
   * Builds an sdist once its pinned build requirements are in the wheelhouse,
   * or takes the wheel from the cache (keyed by the sdist's sha256, the
   * builder, those requirements' wheels and the hook).
   */
  private async build(pin: Pin, sdist: Sdist, started: number): Promise<WheelRecord> {
    const buildRequires = await sdistBuildRequires(sdist.path);
    const { pinned: buildRequirements, unpinned } = splitBuildRequires(buildRequires, this.options.target.env, this.pinByKey);
    if (unpinned.length && !this.options.allowUnpinnedBuildRequirements) throw unpinnedError(pin, sdist.path, unpinned);
    const buildDependencies = await this.awaitBuildEnvironment(buildRequires);
    const prepared = await this.builder.prepare();
    const hook = this.options.hooks?.get(pin.key);
    const inputs: BuildInputs = {
      key: pin.key,
      version: pin.version,
      builder: prepared.identity,
      source: `sdist:${sdist.artifact.sha256}`,
      buildDependencies,
      extra: hookKeyInputs(hook),
    };
    const key = cacheKey(inputs);
    const { cache, progress } = this.options;
    const cached = await cache.lookup(key);
    const { artifact } = sdist;
    if (cached.hit) return this.place(pin, cached.path, started, { origin: 'cached', artifact, buildRequirements, unpinnedBuildRequirements: cached.unpinnedBuildRequirements });
    if (cached.discarded) progress({ stage: 'wheels', item: label(pin), state: 'warning', detail: `discarded a bad wheel cache entry, building again: ${cached.discarded}` });

    return this.limit(async () => {
      progress({ stage: 'wheels', item: label(pin), state: 'start' });
      const built = await this.runPip(pin, { sdist: sdist.path, prepared, hook }, (wheel, notes) => cache.store(key, wheel, inputs, notes));
      return this.place(pin, built.wheel, started, { origin: 'built', artifact, buildRequirements, unpinnedBuildRequirements: built.unpinnedBuildRequirements });
    });
  }

  /**
   * Runs pip wheel (or the pin's build hook) on the sdist in a private
   * directory; `keep` stores the one wheel it makes before the directory is
   * removed. Build requirements come from the wheelhouse, and the index only
   * when unpinned ones are allowed (pip then says which versions it took).
   * The log and every message are redacted.
   */
  private async runPip(
    pin: Pin,
    build: { sdist: string; prepared: PreparedBuilder; hook?: Hook },
    keep: (wheel: string, notes: EntryNotes) => Promise<string>,
  ): Promise<{ wheel: string; unpinnedBuildRequirements: string[] }> {
    const { target, index, wheelsDir } = this.options;
    const { sdist, hook, prepared } = build;
    const fromIndex = this.options.allowUnpinnedBuildRequirements === true;
    const log = this.options.cache.logFile(this.options.reqsetName, target.name, `${pin.key}-${pin.version}`);
    await mkdir(path.dirname(log), { recursive: true });
    return withTempDir('reqset-pip-', async (tmp) => {
      const out = path.join(tmp, 'out');
      const constraintsFile = path.join(tmp, 'constraints.txt');
      const requirements = path.join(tmp, 'requirement.txt');
      await writeFile(constraintsFile, this.constraints);
      await writeFile(requirements, sdistRequirementFile(sdist, pin, index, wheelsDir, fromIndex), { mode: 0o600 });
      await mkdir(out);
      const python = prepared.python.path;
      const verbose = fromIndex ? ['-v'] : [];
      const pip = [python, '-m', 'pip', 'wheel', ...verbose, '--no-deps', '--isolated', '--no-cache-dir', '--disable-pip-version-check', '--no-input', '--constraint', constraintsFile, '--wheel-dir', out, '-r', requirements];
      const netrc = fromIndex ? this.netrc : undefined;
      const env = { ...pipEnvironment(constraintsFile, netrc), SOURCE_DATE_EPOCH: String(sourceDateEpoch()), PYTHONHASHSEED: '0' };
      if (hook) await this.builder.prepareHook(hook);
      const context = { distribution: pin.name, version: pin.version, target: target.name, format: target.format, python, wheelDir: out, sdist };
      const command = hook ? hookCommand(hook, pip, context) : { argv: pip, env: {} };
      const result: RunResult = await this.builder.run({
        argv: command.argv,
        env: { ...env, ...command.env },
        read: [wheelsDir, path.dirname(sdist), ...(fromIndex ? this.findLinkDirs : []), ...(netrc ? [netrc] : []), ...(hook ? [path.dirname(hook.file)] : [])],
        write: [tmp],
        cwd: tmp,
        network: fromIndex && this.remote,
        hook,
      });
      const output = this.redact(`${result.stdout}\n${result.stderr}`);
      await writeFile(log, `$ ${this.redact(result.command)}\n${output}`);
      if (result.exitCode !== 0) throw pipFailure(pin, sdist, { exitCode: result.exitCode, output, log, fromIndex });
      const unpinnedBuildRequirements = fromIndex ? installedUnpinned(output, this.pinByKey) : [];
      const wheel = await keep(await this.producedWheel(pin, out, prepared, log), unpinnedBuildRequirements.length ? { unpinnedBuildRequirements } : {});
      return { wheel, unpinnedBuildRequirements };
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

/** The copyright statements of a wheel's license files (read one at a time, as the source reads). */
async function copyrightOf(source: WheelSource, members: string[]): Promise<string[]> {
  const texts: string[] = [];
  for (const name of licenseFileMembers(members)) texts.push((await source.read(name)).toString('utf8'));
  return copyrightNotices(texts);
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
      license: source.metadata.license,
      homePage: source.metadata.homePage,
      copyright: await copyrightOf(source, members),
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
