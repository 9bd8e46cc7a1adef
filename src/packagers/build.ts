/**
 * The packages stage: each checked wheel is unpacked into a staged tree (or,
 * in the stored-zip layout, written as a stored zip) and packaged with its
 * real dependencies, plus the runtime package. Each wheel is also rebuilt from
 * its tree or zip with the runtime helper, so the manifest can say whether the
 * target will get the very same .whl back.
 */
import { chmod, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { computeClosure, type Dependency } from '../closure/closure.ts';
import { normalizeName } from '../python/names.ts';
import { mapLimit, sha256, sha256File, withTempDir } from '../fsutil.ts';
import type { MarkerEnvironment } from '../python/markers.ts';
import type { Progress } from '../progress.ts';
import type { Pin } from '../reqset/load.ts';
import type { EndpointSpec } from '../specs/spec.ts';
import type { PackagedBy } from '../specs/vendor.ts';
import { RUNTIME_SOURCE_DIR, runtimeZipappOnce, writeRuntimeZipapp } from '../runtime/zipapp.ts';
import type { Target } from '../targets/target.ts';
import type { WheelRecord } from '../wheels/wheelhouse.ts';
import { extractWheel } from '../wheels/extract.ts';
import { openWheel } from '../wheels/source.ts';
import { type WheelLimits } from '../wheels/limits.ts';
import { writeStoredZip } from '../wheels/stored-zip.ts';
import { isPureWheel } from '../python/tags.ts';
import type { CachedFacts, PackageCache } from './cache.ts';
import { changelogLines, pinListSource, type ChangeSubject } from './changelog.ts';
import { decideNewBytes, decideVersion, publishedBefore, type History, type HistoryEntry, type VersionDecision, type VersionReason } from './history.ts';
import type { BuiltFile, Packager, PackagePlan } from './packager.ts';
import { RebuildChecker } from './rebuild-check.ts';
import {
  DEFAULT_WHEEL_LAYOUT,
  endpointFiles,
  endpointPaths,
  pinsFilePath,
  pinsFileText,
  planEndpointPackage,
  planPinsPackage,
  planRuntimePackage,
  planWheelPackage,
  reqsetPaths,
  wheelPayloadPath,
  wheelPackageName,
  wheelStem,
  type EndpointFile,
  type EndpointPackageInput,
  type WheelLayout,
  type WheelPackageInput,
} from './plan.ts';

/** The runtime helper runnable from source (`python3 RUNTIME_HELPER COMMAND`); packages ship its zipapp. */
export const RUNTIME_HELPER = RUNTIME_SOURCE_DIR;

export interface BuiltPackage {
  name: string;
  /** The PEP 440 version the package's version is mapped from. */
  pep440: string;
  file: string;
  path: string;
  /** As the package manager shows it, e.g. `1:2.0~rc1-3`. */
  version: string;
  epoch: number;
  release: string;
  arch: string;
  sha256: string;
  size: number;
  requires: string[];
  /** The packages it requires by name (any version, exactly, or a pydist only that wheel package provides): the SBOM's graph. */
  requiresPackages: string[];
  /** sha256 of everything the package was built from except its epoch and release (packageInputs). */
  inputs: string;
  /** What the inputs are made of, for `reqset diff` and `reqset explain`. */
  sources: Record<string, string>;
  /** Why it has its epoch and release (src/packagers/history.ts). */
  reason: VersionReason;
  /** Taken from the package cache instead of built. */
  reused: boolean;
}

export interface WheelPackage {
  pin: Pin;
  wheel: WheelRecord;
  package: BuiltPackage;
  /** The wheel as the post-install will rebuild it from the unpacked tree (or stored zip). */
  rebuilt: { sha256: string; identical: boolean };
}

export interface PackagesOptions {
  reqset: string;
  target: Target;
  env: MarkerEnvironment;
  pins: Pin[];
  wheels: WheelRecord[];
  packager: Packager;
  /** Where finished packages go (a staging directory the caller moves into place). */
  packagesDir: string;
  jobs: number;
  /** The host interpreter that runs the runtime helper for the rebuild check. */
  python: string;
  toolVersion: string;
  /** What the repository published before: it decides each package's epoch and release. */
  history: History;
  /** A release for every package instead of the one history gives. */
  release?: string;
  /** Built packages by inputs and version; none: everything is built. */
  cache?: PackageCache;
  /** SOURCE_DATE_EPOCH: every time in every package. */
  epoch: number;
  /** The workspace's maintainer and vendor (packaging/vendor.yml): part of every package's inputs. */
  packagedBy: PackagedBy;
  progress: Progress;
  /** How each wheel sits in its package (default `unpacked`). */
  layout?: WheelLayout;
  /** The limits the wheels stage held the wheels to (--max-wheel-size etc.), for opening them again. */
  wheelLimits?: Partial<WheelLimits>;
}

/** Files of a wheel's top-level `*.libs/` directories: libraries bundled by auditwheel. */
export function bundledLibraries(memberNames: string[]): string[] {
  return memberNames.filter((name) => /^[^/]+\.libs\/[^/]+$/.test(name));
}

interface PackageInputs {
  key: string;
  sources: Record<string, string>;
}

/**
 * Everything a package's bytes come from, except its epoch and release: the
 * format, reqset's version, the target, SOURCE_DATE_EPOCH, the plan (names,
 * requires, scriptlets) and the payload (a wheel's sha256 and layout, the
 * helper's sha256, ...). `key` is their sha256; `sources` says, for `reqset
 * diff`, which of them changed.
 */
function packageInputs(options: PackagesOptions, plan: PackagePlan, payload: Record<string, string>, by: PackagedBy): PackageInputs {
  const sources: Record<string, string> = {
    maintainer: by.maintainer,
    ...(by.vendor ? { vendor: by.vendor } : {}),
    format: options.packager.format,
    // fpm writes other bytes for the same package: its builds never reuse native ones (native keys unchanged).
    ...(options.packager.backend ? { backend: options.packager.backend } : {}),
    tool: options.toolVersion,
    target: sha256(JSON.stringify(options.target)),
    sourceDateEpoch: String(options.epoch),
    plan: sha256(JSON.stringify({ ...plan, epoch: null, release: null })),
    ...payload,
  };
  const sorted = Object.fromEntries(Object.entries(sources).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { key: sha256(JSON.stringify(sorted)), sources: sorted };
}

/** One package to make: its plan (any epoch and release), what its files come from, and how to lay them out. */
interface PackageJob {
  plan: PackagePlan;
  /** Identity of the files beyond the plan (a wheel's sha256, the helper's), part of the inputs. */
  payload: Record<string, string>;
  /** What its changelog entry is about. */
  changes: ChangeSubject;
  item: string;
  /** Its own maintainer or vendor instead of the workspace's (an endpoint spec's). */
  packagedBy?: Partial<PackagedBy>;
  /** Lays out the package's files under `root`. */
  stage(root: string): Promise<void>;
  /**
   * Reads the staged files back for what the cache must remember besides
   * requires, while `packaging` (the package tool on the same tree) runs or
   * after it: Packager.build lets others read the tree and changes no staged
   * file's bytes (times and modes at most). A failure fails the package.
   */
  check?: StagedCheck;
}

interface Produced {
  package: BuiltPackage;
  facts: CachedFacts;
}

interface Made {
  file: string;
  sha256: string;
  requires: string[];
  reused: boolean;
}

function packagesRequired(plan: PackagePlan): string[] {
  const names = plan.requires.flatMap((r) => (r.kind === 'any' || r.kind === 'package' ? [r.name] : r.kind === 'pydist' ? [wheelPackageName(r.reqset, r.key)] : []));
  return [...new Set(names)].sort();
}

async function describe(options: PackagesOptions, plan: PackagePlan, inputs: PackageInputs, decision: VersionDecision, made: Made): Promise<BuiltPackage> {
  const { file, sha256, requires, reused } = made;
  const { size } = await stat(file);
  return {
    name: plan.name,
    pep440: plan.pep440,
    file: path.basename(file),
    path: file,
    version: options.packager.version(plan),
    epoch: decision.epoch,
    release: decision.release,
    arch: plan.arch,
    sha256,
    size,
    requires,
    requiresPackages: packagesRequired(plan),
    inputs: inputs.key,
    sources: inputs.sources,
    reason: decision.reason,
    reused,
  };
}

type StagedCheck = (root: string, packaging: Promise<unknown>) => Promise<Omit<CachedFacts, 'requires'>>;

/**
 * The package tool's file and the check of the same staged tree, run at once
 * (see PackageJob.check); both have ended when it returns, so the tree can
 * go. A failed check removes the package file: no package passes unchecked.
 */
async function packageChecked(root: string, packaging: Promise<BuiltFile>, check?: StagedCheck): Promise<{ built: BuiltFile; extra: Omit<CachedFacts, 'requires'> }> {
  const [built, extra] = await Promise.allSettled([packaging, check ? check(root, packaging) : {}]);
  if (built.status === 'rejected') throw built.reason;
  if (extra.status === 'rejected') {
    await rm(built.value.path, { force: true });
    throw extra.reason;
  }
  return { built: built.value, extra: extra.value };
}

/**
 * The build's --jobs as slots: every wheel job holds one, and its rebuild
 * check runs beside the package tool only on a spare one (else after it, on
 * the job's own), so that no more than --jobs of them run at once.
 */
class JobSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(jobs: number) {
    this.free = Math.max(1, jobs);
  }

  /** `work` on a slot, once one is free. */
  async hold<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** `work` now on a spare slot, else once `first` has succeeded: never waiting for a slot, which would deadlock the jobs holding them. */
  async beside<T>(first: Promise<unknown>, work: () => Promise<T>): Promise<T> {
    if (this.free === 0) {
      await first;
      return work();
    }
    this.free--;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * Gives the package its version from history, then takes it from the cache
 * when the same inputs were packaged at that version before, else builds it.
 * A package kept at a published version must come out as the published file;
 * if it does not, it is made again at the next release (decideNewBytes).
 */
async function produce(options: PackagesOptions, job: PackageJob): Promise<Produced> {
  const by = { ...options.packagedBy, ...job.packagedBy };
  const inputs = packageInputs(options, job.plan, job.payload, by);
  const published = options.history.packages[job.plan.name] ?? [];
  const decision = decideVersion(job.plan.pep440, inputs.key, published, options.release);
  const produced = await produceAt(options, job, { inputs, by, published }, decision);
  const promised = decision.publishedSha256;
  if (promised === undefined || produced.package.sha256 === promised) return produced;
  await rm(produced.package.path, { force: true });
  const next = decideNewBytes(job.plan.pep440, decision, published);
  options.progress({
    stage: 'packages',
    item: job.item,
    state: 'warning',
    detail: `${produced.package.file} came out other than the published file of that name (sha256 ${produced.package.sha256.slice(0, 12)}, published ${promised.slice(0, 12)}) from the same inputs: this reqset writes it otherwise, or a build is not reproducible; it gets release ${next.release}`,
  });
  return produceAt(options, job, { inputs, by, published }, next);
}

interface JobInputs {
  inputs: PackageInputs;
  by: PackagedBy;
  published: readonly HistoryEntry[];
}

/** The package at `decision`'s epoch and release: from the cache, else built. */
async function produceAt(options: PackagesOptions, job: PackageJob, { inputs, by, published }: JobInputs, decision: VersionDecision): Promise<Produced> {
  const started = Date.now();
  const version = { epoch: decision.epoch, pep440: job.plan.pep440, release: decision.release };
  // After the version: the entry compares with what was published before that version, so a rebuild writes it again.
  const changelog = changelogLines(job.changes, publishedBefore(published, version));
  const plan: PackagePlan = { ...job.plan, epoch: decision.epoch, release: decision.release, changelog };
  // The entry is in the bytes: a build continuing another history may write another one at the same version.
  const key = sha256(`${inputs.key}\n${decision.epoch}\n${decision.release}\n${JSON.stringify(changelog)}`);
  const fileName = options.packager.fileName(plan);
  const found = options.cache ? await options.cache.take(key, fileName, options.packagesDir) : { hit: false as const };
  if (found.hit) {
    options.progress({ stage: 'packages', item: job.item, state: 'reused', elapsedMs: Date.now() - started, detail: fileName });
    const made = { file: found.path, sha256: found.sha256, requires: found.facts.requires, reused: true };
    return { package: await describe(options, plan, inputs, decision, made), facts: found.facts };
  }
  if (found.discarded) options.progress({ stage: 'packages', item: job.item, state: 'warning', detail: `discarded a bad package cache entry, building again: ${found.discarded}` });
  options.progress({ stage: 'packages', item: job.item, state: 'start' });
  return withTempDir('reqset-pkg-', async (work) => {
    const root = path.join(work, 'root');
    await mkdir(root, { recursive: true });
    await job.stage(root);
    const context = { epoch: options.epoch, outDir: options.packagesDir, workDir: work, maintainer: by.maintainer, vendor: by.vendor, payload: options.target.payload };
    const { built, extra } = await packageChecked(root, options.packager.build(plan, root, context), job.check);
    const facts: CachedFacts = { requires: built.requires, ...extra };
    const made = { file: built.path, sha256: await sha256File(built.path), requires: built.requires, reused: false };
    await options.cache?.store(key, built.path, made.sha256, facts);
    options.progress({ stage: 'packages', item: job.item, state: 'packaged', elapsedMs: Date.now() - started, detail: fileName });
    return { package: await describe(options, plan, inputs, decision, made), facts };
  });
}

/**
 * The runtime package: the helper and the SBOM (sbom.ts), which names every
 * other package's version, so it is built after them; none of them requires
 * it at a version, and the SBOM leaves its version out.
 */
export async function buildRuntimePackage(options: PackagesOptions, sbom: string): Promise<BuiltPackage> {
  const plan = planRuntimePackage(options.reqset, options.target, options.toolVersion);
  const paths = reqsetPaths(options.reqset);
  const produced = await produce(options, {
    plan,
    payload: { helper: sha256(await runtimeZipappOnce()), sbom: sha256(sbom) },
    changes: { ships: `the runtime helper of reqset ${options.toolVersion} and the SBOM of the set` },
    item: plan.name,
    stage: async (root) => {
      const helper = path.join(root, paths.helper);
      await mkdir(path.dirname(helper), { recursive: true });
      for (const dir of plan.ownedDirs) await mkdir(path.join(root, dir), { recursive: true });
      await writeRuntimeZipapp(helper);
      await writeFile(path.join(root, paths.sbom), sbom);
      await chmod(path.join(root, paths.sbom), 0o644); // whatever the umask: the mode is part of the package
    },
  });
  return produced.package;
}

/** Pins named in the wheel's build requirements that it was compiled against: compiled themselves, for a compiled wheel. */
function compiledAgainst(wheel: WheelRecord, byKey: ReadonlyMap<string, WheelRecord>): { key: string; version: string }[] {
  if (isPureWheel(wheel.facts.name)) return [];
  return wheel.buildRequirements
    .map((key) => byKey.get(key))
    .filter((w): w is WheelRecord => !!w && !isPureWheel(w.facts.name))
    .map((w) => ({ key: w.pin.key, version: w.pin.version }));
}

/**
 * Lays out a wheel as its package installs it: the unpacked tree or the
 * stored zip. The wheels stage validated it: the file must still have its
 * sha256, and is not read through twice (openWheel validatedSha256).
 */
async function stageWheel(wheel: WheelRecord, payload: string, layout: WheelLayout, when: Date, limits: Partial<WheelLimits> = {}): Promise<void> {
  const source = await openWheel(wheel.path, { limits, validatedSha256: wheel.sha256 });
  try {
    if (layout === 'stored-zip') {
      await mkdir(path.dirname(payload), { recursive: true });
      await writeStoredZip(source, payload, { mtime: when });
    } else {
      await extractWheel(source, payload, { mtime: when });
    }
  } finally {
    await source.close();
  }
}

/**
 * The shared-library requirements of a compiled wheel in the stored-zip
 * layout: its ELF files are inside the zip, out of sight of rpmbuild and
 * dpkg-shlibdeps, so they are found on an unpacked copy.
 */
async function storedZipElfRequires(options: PackagesOptions, plan: PackagePlan, wheel: WheelRecord): Promise<string[]> {
  return withTempDir('reqset-elf-', async (scratch) => {
    const elfRoot = path.join(scratch, 'root');
    await stageWheel(wheel, path.join(elfRoot, reqsetPaths(options.reqset).wheels, wheelStem(wheel.filename)), 'unpacked', new Date(options.epoch * 1000), options.wheelLimits);
    await mkdir(path.join(scratch, 'shlibdeps'));
    return options.packager.elfRequires(plan, elfRoot, path.join(scratch, 'shlibdeps'));
  });
}

async function wheelPackagePlan(options: PackagesOptions, wheel: WheelRecord, dependencies: Dependency[], abi: { key: string; version: string }[]): Promise<PackagePlan> {
  const layout = options.layout ?? DEFAULT_WHEEL_LAYOUT;
  const input: WheelPackageInput = {
    reqset: options.reqset,
    target: options.target,
    key: wheel.pin.key,
    version: wheel.pin.version,
    wheel: { filename: wheel.filename, name: wheel.facts.name },
    summary: wheel.facts.summary,
    license: wheel.facts.license,
    homepage: wheel.facts.homePage,
    copyright: wheel.facts.copyright,
    dependencies: dependencies.map((d) => ({ key: d.key, specifier: d.specifier })),
    compiledAgainst: abi,
    bundledLibraries: bundledLibraries(wheel.members),
    layout,
  };
  const plan = planWheelPackage(input);
  if (layout !== 'stored-zip' || isPureWheel(wheel.facts.name)) return plan;
  const systemRequires = await storedZipElfRequires(options, plan, wheel);
  return systemRequires.length ? planWheelPackage({ ...input, systemRequires }) : plan;
}

/** One wheel's package: from the cache, or staged, then built and checked (the rebuilt wheel). */
async function buildWheelPackage(options: PackagesOptions, checker: RebuildChecker, slots: JobSlots, wheel: WheelRecord, dependencies: Dependency[], byKey: ReadonlyMap<string, WheelRecord>): Promise<WheelPackage> {
  const layout = options.layout ?? DEFAULT_WHEEL_LAYOUT;
  const abi = compiledAgainst(wheel, byKey);
  const plan = await wheelPackagePlan(options, wheel, dependencies, abi);
  const payloadPath = wheelPayloadPath(options.reqset, wheel.filename, layout);
  const produced = await produce(options, {
    plan,
    payload: { wheel: wheel.sha256, layout, compiledAgainst: abi.map((c) => `${c.key}==${c.version}`).join(' ') },
    changes: { ships: `the wheel ${wheel.filename}` },
    item: `${wheel.pin.name}==${wheel.pin.version}`,
    // What the package installs, and what the post-install rebuilds the wheel from.
    stage: (root) => stageWheel(wheel, path.join(root, payloadPath), layout, new Date(options.epoch * 1000), options.wheelLimits),
    check: async (root, packaging) => ({ rebuilt: await slots.beside(packaging, () => checker.check(path.join(root, payloadPath))) }),
  });
  const rebuilt = produced.facts.rebuilt;
  if (!rebuilt) throw new Error(`internal: the package of ${wheel.filename} has no rebuilt-wheel check`);
  return { pin: wheel.pin, wheel, package: produced.package, rebuilt };
}

export async function buildWheelPackages(options: PackagesOptions): Promise<WheelPackage[]> {
  const { pins, wheels } = options;
  const facts = new Map(wheels.map((w) => [w.pin.key, w.facts]));
  const closure = computeClosure(pins.map((p) => ({ key: p.key, extras: p.extras })), facts, options.env);
  const byKey = new Map(wheels.map((w) => [w.pin.key, w]));
  // The largest first, so that the longest job does not start last; after a
  // failure no queued job starts, and the running ones end before staging goes
  // (mapLimit). The slots hold the same limit again because they also count
  // the rebuild checks that run beside a package tool.
  const largestFirst = [...wheels].sort((a, b) => b.size - a.size);
  const slots = new JobSlots(options.jobs);
  const made = await RebuildChecker.during(options.python, options.cache?.checks, (checker) =>
    mapLimit(largestFirst, options.jobs, (wheel) => slots.hold(() => buildWheelPackage(options, checker, slots, wheel, closure.dependencies.get(wheel.pin.key) ?? [], byKey))),
  );
  const byWheel = new Map(made.map((m) => [m.wheel, m]));
  return wheels.map((w) => byWheel.get(w) as WheelPackage);
}

/** A package's name and exact version, for the packages that require it so. */
const exactly = (p: BuiltPackage) => ({ name: p.name, version: { pep440: p.pep440, epoch: p.epoch, release: p.release } });

export interface EndpointPackage {
  spec: EndpointSpec;
  package: BuiltPackage;
  closure: string[];
}

/** The contents of the endpoint's files from the workspace (`files:` sources), by source: read once, hashed into the inputs and staged. */
async function workspaceSources(workspace: string, files: EndpointFile[]): Promise<Map<string, Buffer>> {
  const sources = new Map<string, Buffer>();
  for (const file of files) if ('source' in file) sources.set(file.source, await readFile(path.resolve(workspace, file.source)));
  return sources;
}

/** One service or configuration file in the staged tree, at its mode whatever the umask. */
async function writeEndpointFile(root: string, file: EndpointFile, sources: ReadonlyMap<string, Buffer>): Promise<void> {
  const dest = path.join(root, file.path);
  await mkdir(path.dirname(dest), { recursive: true });
  await writeFile(dest, 'text' in file ? file.text : (sources.get(file.source) as Buffer));
  await chmod(dest, file.mode);
}

/** One application: its venv is made on the target from the closure's unpacked wheels (or stored zips). */
export async function buildEndpointPackage(options: PackagesOptions, spec: EndpointSpec, installer: 'native' | 'pip', wheelPackages: WheelPackage[]): Promise<EndpointPackage> {
  const facts = new Map(options.wheels.map((w) => [w.pin.key, w.facts]));
  const app = options.wheels.find((w) => w.pin.key === normalizeName(spec.distribution));
  if (!app) throw new Error(`internal: ${spec.distribution} has no wheel`);
  const closure = computeClosure([{ key: app.pin.key, extras: app.pin.extras }], facts, options.env);
  const byKey = new Map(wheelPackages.map((w) => [w.pin.key, w]));
  const members = closure.keys.map((key) => byKey.get(key)).filter((w): w is WheelPackage => !!w);
  const input: EndpointPackageInput = {
    reqset: options.reqset,
    target: options.target,
    spec,
    distribution: { key: app.pin.key, name: app.pin.name, version: app.pin.version, topLevel: app.facts.topLevel, license: app.facts.license, homePage: app.facts.homePage, copyright: app.facts.copyright },
    closure: members.map((w) => ({ key: w.pin.key, version: w.pin.version, filename: w.wheel.filename, package: exactly(w.package) })),
    installer,
    layout: options.layout ?? DEFAULT_WHEEL_LAYOUT,
  };
  const plan = planEndpointPackage(input);
  const files = endpointFiles(input);
  const sources = await workspaceSources(spec.workspace, files);
  const venv = endpointPaths(options.reqset, spec.name).venv;
  const closurePins = pinListSource(members.map((w) => ({ name: w.pin.name, version: w.pin.version })));
  const produced = await produce(options, {
    plan,
    payload: { closure: closurePins, ...(sources.size ? { files: sha256(JSON.stringify([...sources].map(([source, bytes]) => [source, sha256(bytes)]))) } : {}) },
    changes: { pinsSource: 'closure', pins: closurePins },
    item: `${plan.name} (${spec.file})`,
    packagedBy: { ...(spec.maintainer ? { maintainer: spec.maintainer } : {}), ...(spec.vendor ? { vendor: spec.vendor } : {}) },
    stage: async (root) => {
      await mkdir(path.join(root, 'usr', 'bin'), { recursive: true });
      for (const dir of plan.ownedDirs) await mkdir(path.join(root, dir), { recursive: true });
      for (const script of spec.scripts) await symlink(`${venv}/bin/${script}`, path.join(root, 'usr', 'bin', script));
      for (const file of files) await writeEndpointFile(root, file, sources);
    },
  });
  return { spec, package: produced.package, closure: members.map((w) => w.pin.key) };
}

/** `<reqset>-pins`: every pin's wheel package at its exact version. */
export async function buildPinsPackage(options: PackagesOptions, wheelPackages: WheelPackage[]): Promise<BuiltPackage> {
  const plan = planPinsPackage(options.reqset, options.target, wheelPackages.map((w) => exactly(w.package)));
  const text = pinsFileText(wheelPackages.map((w) => ({ name: w.pin.name, pep440: w.pin.version })));
  // The pins themselves (the file's lines), not a digest: the next version's changelog compares with them.
  const pins = pinListSource(wheelPackages.map((w) => ({ name: w.pin.name, version: w.pin.version })));
  const produced = await produce(options, {
    plan,
    payload: { pins },
    changes: { pinsSource: 'pins', pins },
    item: plan.name,
    stage: async (root) => {
      const file = path.join(root, pinsFilePath(options.reqset));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
      await chmod(file, 0o644); // whatever the umask: the mode is part of the package
    },
  });
  return produced.package;
}
