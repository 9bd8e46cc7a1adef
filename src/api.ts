/**
 * The library API: each function is one command of the CLI, reading top to
 * bottom as the pipeline's stages (pin list -> wheels -> closure -> ...).
 * Tests call these directly; the CLI only parses flags and prints, and reaches
 * the stages only through this module (including the re-exports below).
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { makeBuilderImage, wheelBuildOptions, type BuilderImageCommandOptions, type BuilderKind } from './builders/index.ts';
import { checkClosure, type ClosureProblem } from './closure/closure.ts';
import { sourceDateEpoch } from './epoch.ts';
import { InputError } from './errors.ts';
import { defaultCacheDir, discard, replaceDir, stagingDirFor, withTempDir } from './fsutil.ts';
import { wheelhouseImage, type ImageEngine, type WheelhouseImageResult } from './image/index.ts';
import { planJobs, type PlannedJob, type PlanOptions } from './plan/index.ts';
import { publish as publishPackages, type PublishReport } from './publish/index.ts';
import type { PublishOptions } from './publish/types.ts';
import { silentProgress, type Progress } from './progress.ts';
import { buildEndpointPackage, buildPinsPackage, buildRuntimePackage, buildWheelPackages, type BuiltPackage, type EndpointPackage, type WheelPackage } from './packagers/build.ts';
import { PackageCache } from './packagers/cache.ts';
import { diffRevision, type RevisionDiff } from './packagers/diff.ts';
import { emptyHistory, latestRevision, loadHistory } from './packagers/history.ts';
import { packagerFor, type PackagerBackend } from './packagers/index.ts';
import { SBOM_FILE_NAME, type WheelLayout } from './packagers/plan.ts';
import { renderSbom, sbomInputOf } from './packagers/sbom.ts';
import { loadReqset, pinsForTarget, withCliIndexOptions, type CliIndexOptions, type Pin, type Reqset } from './reqset/load.ts';
import { checkSpec, loadSpecs } from './specs/spec.ts';
import { loadPackagedBy } from './specs/vendor.ts';
import { loadTarget, loadTargets, markerEnvironment, TOOL_ROOT, type Target } from './targets/target.ts';
import { WheelCache } from './wheels/cache.ts';
import { buildWheelhouse, type ArtifactRecord, type WheelRecord } from './wheels/wheelhouse.ts';
import type { WheelLimits } from './wheels/limits.ts';

// What the CLI shows or offers of the stages: its flags' choices and defaults, and the text of diff and publish.
export { BUILDER_KINDS } from './builders/index.ts';
export { formatDiff } from './packagers/diff.ts';
export { DEFAULT_WHEEL_LAYOUT, WHEEL_LAYOUTS, type WheelLayout } from './packagers/plan.ts';
export { PACKAGER_BACKENDS, type PackagerBackend } from './packagers/index.ts';
export { formatReport } from './publish/index.ts';
export { DEFAULT_WHEEL_LIMITS, parseByteSize, RATIO_FLOOR_TEXT } from './wheels/limits.ts';
export { ALLOW_UNPINNED_FLAG } from './wheels/pip.ts';

export interface CommonOptions extends CliIndexOptions {
  workspace?: string;
  out?: string;
  jobs?: number;
  python?: string;
  wheelCache?: string;
  /** Package release / Debian revision of every package built, instead of the one the history gives. */
  release?: string;
  /** The repository (directory or http(s) URL) whose history the build continues (`reqset publish` keeps it there). */
  repo?: string;
  /** How endpoint post-installs fill the venv (default native: from the unpacked trees). */
  venvInstaller?: 'native' | 'pip';
  /** How each wheel sits in its package (default `unpacked`; `stored-zip`: one uncompressed zip). */
  layout?: WheelLayout;
  /** Who writes the package files (default `native`: rpmbuild, dpkg-deb; `fpm`: fpm from the same rendering). */
  packager?: PackagerBackend;
  /** Where pip builds wheels: this machine, or the target's builder image. */
  builder?: BuilderKind;
  /** The builder image's base image (its Containerfile's BASE). */
  builderBase?: string;
  /** Run this builder image instead of the target's. */
  builderImage?: string;
  /** Raise or lower the limits every wheel is held to before it is unpacked (source.ts DEFAULT_WHEEL_LIMITS). */
  wheelLimits?: Partial<WheelLimits>;
  /** An sdist's build requirements the reqset does not pin come from the index (recorded in the manifest) instead of being an error. */
  allowUnpinnedBuildRequirements?: boolean;
  progress?: Progress;
}

export interface Job {
  workspace: string;
  reqset: Reqset;
  target: Target;
  pins: Pin[];
  /** `<out>/<reqset>/<target>` */
  outDir: string;
}

export const DEFAULT_TARGET = 'debian12';

export const TOOL_VERSION = (JSON.parse(readFileSync(path.join(TOOL_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export async function prepareJob(reqsetName: string, targetName: string | undefined, options: CommonOptions): Promise<Job> {
  const workspace = path.resolve(options.workspace ?? '.');
  const target = await loadTarget(workspace, targetName ?? DEFAULT_TARGET);
  const loaded = await loadReqset(workspace, reqsetName);
  const reqset = { ...loaded, index: withCliIndexOptions(loaded.index, options) };
  const pins = pinsForTarget(reqset, markerEnvironment(target), target.name);
  const outDir = path.resolve(options.out ?? 'dist', reqset.name, target.name);
  return { workspace, reqset, target, pins, outDir };
}

function closureTarget(target: Target) {
  return {
    name: target.name,
    env: markerEnvironment(target),
    tags: { pythonVersion: target.python.version, glibc: target.glibc, arch: target.arch },
  };
}

const cacheDirOf = (options: { wheelCache?: string }) => (options.wheelCache ? path.resolve(options.wheelCache) : defaultCacheDir());

/** The wheels stage of a prepared job into `wheelsDir`, without the closure check (wheels() and buildTarget() add it). */
export async function buildJobWheels(job: Job, wheelsDir: string, options: CommonOptions): Promise<WheelRecord[]> {
  const closure = closureTarget(job.target);
  const cacheDir = cacheDirOf(options);
  const progress = options.progress ?? silentProgress;
  const { builder, hooks } = await wheelBuildOptions({
    target: job.target,
    workspace: job.workspace,
    cacheDir,
    builder: options.builder,
    builderBase: options.builderBase,
    builderImage: options.builderImage,
    python: options.python,
    progress,
  });
  return buildWheelhouse({
    reqsetName: job.reqset.name,
    pins: job.pins,
    index: job.reqset.index,
    target: { ...closure, pythonVersion: job.target.python.version, format: job.target.format },
    wheelsDir,
    cache: new WheelCache(cacheDir),
    jobs: options.jobs ?? availableParallelism(),
    python: options.python,
    progress,
    builder,
    hooks,
    wheelLimits: options.wheelLimits,
    toolVersion: TOOL_VERSION,
    allowUnpinnedBuildRequirements: options.allowUnpinnedBuildRequirements,
  });
}

export interface CheckReport {
  reqset: string;
  target: string;
  ok: boolean;
  pins: number;
  problems: ClosureProblem[];
  wheels: { name: string; version: string; filename: string; origin: string }[];
}

function report(job: Job, wheels: WheelRecord[]): CheckReport {
  const facts = new Map(wheels.map((w) => [w.pin.key, w.facts]));
  const problems = checkClosure(job.pins, facts, closureTarget(job.target));
  return {
    reqset: job.reqset.name,
    target: job.target.name,
    ok: problems.length === 0,
    pins: job.pins.length,
    problems,
    wheels: wheels.map((w) => ({ name: w.pin.name, version: w.pin.version, filename: w.filename, origin: w.origin })),
  };
}

export function closureError(result: CheckReport): InputError {
  return new InputError(
    `${result.reqset} does not fit target ${result.target}: ${result.problems.length} problem${result.problems.length > 1 ? 's' : ''}`,
    result.problems.map((p) => p.message),
  );
}

/** `reqset check`: the wheelhouse is made in a temporary directory, only the report is kept. */
export async function check(reqsetName: string, targetName: string | undefined, options: CommonOptions = {}): Promise<CheckReport> {
  const job = await prepareJob(reqsetName, targetName, options);
  return withTempDir('reqset-check-', async (dir) => report(job, await buildJobWheels(job, dir, options)));
}

export interface WheelsResult extends CheckReport {
  wheelsDir: string;
}

/** `reqset wheels`: the checked wheelhouse at `<out>/<reqset>/<target>/wheels`, replaced whole. */
export async function wheels(reqsetName: string, targetName: string | undefined, options: CommonOptions = {}): Promise<WheelsResult> {
  const job = await prepareJob(reqsetName, targetName, options);
  const wheelsDir = path.join(job.outDir, 'wheels');
  const staging = await stagingDirFor(wheelsDir);
  try {
    const result = report(job, await buildJobWheels(job, staging, options));
    if (!result.ok) throw closureError(result);
    await replaceDir(staging, wheelsDir);
    return { ...result, wheelsDir };
  } finally {
    await discard(staging);
  }
}

export interface Manifest {
  reqset: string;
  target: string;
  format: 'rpm' | 'deb';
  tool: string;
  runtime: BuiltPackage;
  /** `<reqset>-pins`: every pin's package at its exact version. */
  pinsPackage: BuiltPackage;
  endpoints: { name: string; spec: string; distribution: string; closure: string[]; package: BuiltPackage }[];
  pins: {
    name: string;
    version: string;
    source: string;
    /** `unpinnedBuildRequirements`: what pip took from the index to build it (`name==version`), when allowed. */
    wheel: { file: string; sha256: string; size: number; origin: string; artifact: ArtifactRecord; unpinnedBuildRequirements?: string[] };
    package: BuiltPackage;
    rebuiltWheel: { sha256: string; identical: boolean };
  }[];
}

function manifestOf(job: Job, runtime: BuiltPackage, pinsPackage: BuiltPackage, packages: WheelPackage[], endpoints: EndpointPackage[]): Manifest {
  const relative = (p: BuiltPackage) => ({ ...p, path: path.relative(job.outDir, p.path) });
  return {
    reqset: job.reqset.name,
    target: job.target.name,
    format: job.target.format,
    tool: `reqset ${TOOL_VERSION}`,
    runtime: relative(runtime),
    pinsPackage: relative(pinsPackage),
    endpoints: endpoints.map((e) => ({ name: e.spec.name, spec: e.spec.file, distribution: e.spec.distribution, closure: e.closure, package: relative(e.package) })),
    pins: packages.map((p) => ({
      name: p.pin.name,
      version: p.pin.version,
      source: p.pin.source,
      wheel: {
        file: p.wheel.filename,
        sha256: p.wheel.sha256,
        size: p.wheel.size,
        origin: p.wheel.origin,
        artifact: p.wheel.artifact,
        ...(p.wheel.unpinnedBuildRequirements.length ? { unpinnedBuildRequirements: p.wheel.unpinnedBuildRequirements } : {}),
      },
      package: relative(p.package),
      rebuiltWheel: p.rebuilt,
    })),
  };
}

/** Every package of a build: runtime, pins, wheel and endpoint packages. */
export function manifestPackages(manifest: Manifest): BuiltPackage[] {
  return [manifest.runtime, manifest.pinsPackage, ...manifest.pins.map((p) => p.package), ...manifest.endpoints.map((e) => e.package)];
}

export interface BuildResult {
  outDir: string;
  manifest: Manifest;
}

/**
 * `reqset build` for one target: checked wheels, then the wheel and runtime
 * packages, manifest.json and sbom.cdx.json, all staged and moved to `<out>/<reqset>/<target>`
 * only when everything succeeded.
 */
export async function buildTarget(reqsetName: string, targetName: string | undefined, options: CommonOptions = {}): Promise<BuildResult> {
  const job = await prepareJob(reqsetName, targetName, options);
  // First, so that a bad --repo fails before any work.
  const history = options.repo ? await loadHistory(options.repo) : emptyHistory();
  const staging = await stagingDirFor(job.outDir);
  try {
    const wheelsDir = path.join(staging, 'wheels');
    const specs = await loadSpecs(job.workspace, job.reqset.name);
    const packagedBy = await loadPackagedBy(job.workspace, job.reqset.name);
    const wheelRecords = await buildJobWheels(job, wheelsDir, options);
    const checked = report(job, wheelRecords);
    if (!checked.ok) throw closureError(checked);
    const distributions = new Map(wheelRecords.map((w) => [w.pin.key, { name: w.pin.name, version: w.pin.version, consoleScripts: w.facts.consoleScripts }]));
    const specProblems = specs.flatMap((spec) => checkSpec(spec, distributions, path.relative(job.workspace, job.reqset.file)));
    if (specProblems.length) throw new InputError(`endpoint specs of ${job.reqset.name} do not match its pins`, specProblems);
    const packagesDir = path.join(staging, 'packages');
    await mkdir(packagesDir, { recursive: true });
    const packagesOptions = {
      reqset: job.reqset.name,
      target: job.target,
      env: markerEnvironment(job.target),
      pins: job.pins,
      wheels: wheelRecords,
      packager: await packagerFor(job.target.format, options.packager),
      packagesDir,
      jobs: options.jobs ?? availableParallelism(),
      python: 'python3',
      toolVersion: TOOL_VERSION,
      history,
      release: options.release,
      cache: new PackageCache(cacheDirOf(options)),
      epoch: sourceDateEpoch(),
      packagedBy,
      progress: options.progress ?? silentProgress,
      layout: options.layout,
      wheelLimits: options.wheelLimits,
    };
    const packages = await buildWheelPackages(packagesOptions);
    const pinsPackage = await buildPinsPackage(packagesOptions, packages);
    const endpoints = [];
    for (const spec of specs) endpoints.push(await buildEndpointPackage(packagesOptions, spec, options.venvInstaller ?? 'native', packages));
    // Last: the runtime package ships the SBOM, which names every other package's version.
    const sbom = renderSbom(sbomInputOf({ ...packagesOptions, workspace: job.workspace }, { wheelPackages: packages, pinsPackage, endpoints }));
    await writeFile(path.join(staging, SBOM_FILE_NAME), sbom);
    const runtime = await buildRuntimePackage(packagesOptions, sbom);
    const manifest = manifestOf({ ...job, outDir: staging }, runtime, pinsPackage, packages, endpoints);
    await writeFile(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await replaceDir(staging, job.outDir);
    return { outDir: job.outDir, manifest };
  } finally {
    await discard(staging);
  }
}

/** The manifest.json of the last `reqset build` of this reqset and target under --out. */
async function readBuildManifest(reqsetName: string, targetName: string, options: { out?: string } = {}): Promise<Manifest> {
  const file = path.resolve(options.out ?? 'dist', reqsetName, targetName, 'manifest.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError(`no build of ${reqsetName} for ${targetName} at ${file}: run reqset build ${reqsetName} --target ${targetName} first`);
  }
  const manifest = JSON.parse(text) as Manifest;
  if (!manifest.pinsPackage || typeof manifest.runtime?.inputs !== 'string') throw new InputError(`${file} was written by an older reqset: build again`);
  return manifest;
}

/** A package `explain` shows; a wheel package with the wheel its post-install rebuilds. */
export type ExplainedPackage = BuiltPackage & { rebuiltWheel?: Manifest['pins'][number]['rebuiltWheel'] };

/** `reqset explain`: every package of the last build, its version, requires and what decided its version. */
export async function explain(reqsetName: string, targetName: string, options: { out?: string } = {}): Promise<ExplainedPackage[]> {
  const manifest = await readBuildManifest(reqsetName, targetName, options);
  const rebuilt = new Map(manifest.pins.map((p) => [p.package.name, p.rebuiltWheel]));
  return manifestPackages(manifest).map((p) => {
    const wheel = rebuilt.get(p.name);
    return wheel ? { ...p, rebuiltWheel: wheel } : p;
  });
}

/** `reqset diff`: the last build against the last revision published to `repo`. */
export async function diff(reqsetName: string, targetName: string, options: { out?: string; repo: string }): Promise<RevisionDiff> {
  const manifest = await readBuildManifest(reqsetName, targetName, options);
  const previous = latestRevision(await loadHistory(options.repo), reqsetName);
  const pins = manifest.pins.map((p) => ({ key: p.package.name.slice(`${reqsetName}-wheel-`.length), version: p.version }));
  return diffRevision(reqsetName, pins, manifestPackages(manifest), previous);
}

/** The publish options, with the packages found by reqset and target under --out. */
export type PublishCommandOptions = Omit<PublishOptions, 'reqset' | 'target' | 'packagesDir'> & { workspace?: string; out?: string };

/** `reqset publish`: what `build` left in `<out>/<reqset>/<target>/packages` into a yum/dnf or apt repository. */
export async function publish(reqsetName: string, targetName: string, options: PublishCommandOptions): Promise<PublishReport> {
  const workspace = path.resolve(options.workspace ?? '.');
  const target = await loadTarget(workspace, targetName);
  const packagesDir = path.resolve(options.out ?? 'dist', reqsetName, target.name, 'packages');
  return publishPackages({ ...options, reqset: reqsetName, target, packagesDir, repo: path.resolve(options.repo) });
}

/** `reqset image`: a FROM-scratch image of the checked wheelhouse, for multi-stage builds. */
export async function image(
  reqsetName: string,
  targetName: string | undefined,
  options: CommonOptions & { engine?: ImageEngine; tag?: string } = {},
): Promise<WheelhouseImageResult> {
  const checked = await wheels(reqsetName, targetName, options);
  return wheelhouseImage({
    reqset: checked.reqset,
    target: checked.target,
    wheelsDir: checked.wheelsDir,
    outDir: path.resolve(options.out ?? 'dist'),
    engine: options.engine,
    tag: options.tag,
    stateDir: cacheDirOf(options),
  });
}

export type BuilderImageOptions = Omit<BuilderImageCommandOptions, 'stateDir'> & { wheelCache?: string };

/** `reqset builder-image`: the target's builder image, made from docker/<target>/Containerfile. */
export function builderImage(targetName: string, options: BuilderImageOptions = {}) {
  return makeBuilderImage(targetName, { ...options, stateDir: cacheDirOf(options) });
}

/** `reqset plan`: the (reqset, target) job matrix; every reqset is loaded, so a bad one fails here. */
export async function plan(reqsetNames: string[], options: PlanOptions = {}): Promise<PlannedJob[]> {
  const workspace = path.resolve(options.workspace ?? '.');
  for (const name of reqsetNames) await loadReqset(workspace, name);
  return planJobs(reqsetNames, await loadTargets(workspace), options);
}

export async function targets(workspace = '.'): Promise<Target[]> {
  return loadTargets(path.resolve(workspace));
}
