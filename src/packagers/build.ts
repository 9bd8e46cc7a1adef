/**
 * The packages stage: each checked wheel is unpacked into a staged tree (or,
 * in the stored-zip layout, written as a stored zip) and packaged with its
 * real dependencies, plus the runtime package. Each wheel is also rebuilt from
 * its tree or zip with the runtime helper, so the manifest can say whether the
 * target will get the very same .whl back.
 */
import { chmod, copyFile, lutimes, mkdir, readdir, stat, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { computeClosure } from '../closure/closure.ts';
import { normalizeName } from '../python/names.ts';
import { sha256File, withTempDir } from '../fsutil.ts';
import type { MarkerEnvironment } from '../python/markers.ts';
import type { Progress } from '../progress.ts';
import { run } from '../run.ts';
import type { Pin } from '../reqset/load.ts';
import type { EndpointSpec } from '../specs/spec.ts';
import { TOOL_ROOT, type Target } from '../targets/target.ts';
import type { WheelRecord } from '../wheels/wheelhouse.ts';
import { openWheel } from '../wheels/source.ts';
import { writeStoredZip } from '../wheels/stored-zip.ts';
import { isPureWheel } from '../python/tags.ts';
import { isLinkedElf, shlibsDepends } from './deb/shlibs.ts';
import { walkTree } from './deb/tree.ts';
import type { Packager, PackagePlan } from './packager.ts';
import { privateLibrariesRegex } from './rpm/spec.ts';
import {
  DEFAULT_WHEEL_LAYOUT,
  endpointPaths,
  planEndpointPackage,
  planRuntimePackage,
  planWheelPackage,
  reqsetPaths,
  wheelPayloadPath,
  wheelStem,
  type WheelLayout,
  type WheelPackageInput,
} from './plan.ts';

export const RUNTIME_HELPER = path.join(TOOL_ROOT, 'src', 'runtime', 'reqset_runtime.py');

export interface BuiltPackage {
  name: string;
  file: string;
  path: string;
  version: string;
  arch: string;
  sha256: string;
  size: number;
  requires: string[];
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
  release: string;
  epoch: number;
  maintainer: string;
  progress: Progress;
  /** How each wheel sits in its package (default `unpacked`). */
  layout?: WheelLayout;
}

/** Files of a wheel's top-level `*.libs/` directories: libraries bundled by auditwheel. */
export function bundledLibraries(memberNames: string[]): string[] {
  return memberNames.filter((name) => /^[^/]+\.libs\/[^/]+$/.test(name));
}

async function finish(packager: Packager, plan: PackagePlan, file: string): Promise<BuiltPackage> {
  const { size } = await stat(file);
  return {
    name: plan.name,
    file: path.basename(file),
    path: file,
    version: packager.version(plan),
    arch: plan.arch,
    sha256: await sha256File(file),
    size,
    requires: packager.dependencies(plan),
  };
}

/** Gives every file and directory of a staged tree the same time (reproducible packages). */
async function setTreeTime(dir: string, when: Date) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await setTreeTime(full, when);
    await lutimes(full, when, when);
  }
  await utimes(dir, when, when);
}

export async function buildRuntimePackage(options: PackagesOptions): Promise<BuiltPackage> {
  const plan = planRuntimePackage(options.reqset, options.target, options.toolVersion, options.release);
  const paths = reqsetPaths(options.reqset);
  return withTempDir('reqset-runtime-', async (work) => {
    const root = path.join(work, 'root');
    const helper = path.join(root, paths.helper);
    await mkdir(path.dirname(helper), { recursive: true });
    for (const dir of plan.ownedDirs) await mkdir(path.join(root, dir), { recursive: true });
    await copyFile(RUNTIME_HELPER, helper);
    await chmod(helper, 0o755);
    await setTreeTime(root, new Date(options.epoch * 1000));
    const file = await options.packager.build(plan, root, { epoch: options.epoch, outDir: options.packagesDir, workDir: work, maintainer: options.maintainer });
    return finish(options.packager, plan, file);
  });
}

/** The ELF executables and shared objects of a tree, relative to it, sorted. */
async function linkedElfFiles(dir: string): Promise<string[]> {
  const entries = await walkTree(dir);
  const found: string[] = [];
  for (const entry of entries) {
    if (entry.type === 'file' && entry.size >= 18 && (await isLinkedElf(path.join(dir, entry.rel)))) found.push(entry.rel);
  }
  return found;
}

/**
 * The shared-library requirements that the format's own tools find for a
 * wheel's ELF files when they are in the payload (the unpacked layout), for a
 * package that carries them inside a zip instead: rpm's ELF generator
 * (`elfdeps --requires`, bundled `*.libs` dropped as `__requires_exclude`
 * drops them) or dpkg-shlibdeps. `root` holds the unpacked wheel at its place
 * on the target; `scratch` is an empty directory.
 */
export async function payloadElfRequires(packager: Packager, plan: PackagePlan, root: string, scratch: string): Promise<string[]> {
  const elf = await linkedElfFiles(root);
  if (elf.length === 0) return [];
  if (packager.format === 'rpm') {
    const configDir = (await run(['rpm', '--eval', '%{_rpmconfigdir}'])).stdout.trim();
    const result = await run([path.join(configDir, 'elfdeps'), '--requires'], { input: elf.map((rel) => `${path.join(root, rel)}\n`).join(''), env: { LC_ALL: 'C' } });
    const exclude = privateLibrariesRegex(plan.privateLibraries);
    const pattern = exclude ? new RegExp(exclude) : undefined;
    const requires = result.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !pattern?.test(l));
    return [...new Set(requires)].sort();
  }
  await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
  return shlibsDepends(plan, root, await walkTree(root), scratch);
}

export async function buildWheelPackages(options: PackagesOptions): Promise<WheelPackage[]> {
  const { reqset, target, pins, wheels, packager, progress } = options;
  const layout = options.layout ?? DEFAULT_WHEEL_LAYOUT;
  const facts = new Map(wheels.map((w) => [w.pin.key, w.facts]));
  const closure = computeClosure(pins.map((p) => ({ key: p.key, extras: p.extras })), facts, options.env);
  const versionOf = new Map(pins.map((p) => [p.key, p.version]));
  const limit = pLimit(Math.max(1, options.jobs));
  const paths = reqsetPaths(reqset);
  const when = new Date(options.epoch * 1000);

  return Promise.all(
    wheels.map((wheel) =>
      limit(() =>
        withTempDir('reqset-pkg-', async (work) => {
          const started = Date.now();
          const item = `${wheel.pin.name}==${wheel.pin.version}`;
          progress({ stage: 'packages', item, state: 'start' });
          const root = path.join(work, 'root');
          // The unpacked tree, or the stored zip: what the package installs, and what the post-install rebuilds from.
          const payload = path.join(root, wheelPayloadPath(reqset, wheel.filename, layout));
          const source = await openWheel(wheel.path);
          let members: string[];
          try {
            if (layout === 'stored-zip') {
              await mkdir(path.dirname(payload), { recursive: true });
              await writeStoredZip(source, payload, { mtime: when });
            } else {
              await source.extractTo(payload, { mtime: when });
            }
            members = source.members.map((m) => m.name);
          } finally {
            await source.close();
          }
          const rebuilt = await withTempDir('reqset-rebuild-', async (out) => {
            const result = await run([options.python, RUNTIME_HELPER, 'rebuild-wheel', payload, out]);
            const line = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { sha256: string; identical: boolean };
            return { sha256: line.sha256, identical: line.identical };
          });
          await setTreeTime(root, when);
          const input: WheelPackageInput = {
            reqset,
            target,
            key: wheel.pin.key,
            version: wheel.pin.version,
            wheel: { filename: wheel.filename, name: wheel.facts.name },
            summary: wheel.facts.summary,
            dependencies: (closure.dependencies.get(wheel.pin.key) ?? []).map((dependency) => ({
              dependency,
              version: versionOf.get(dependency.key) as string,
            })),
            bundledLibraries: bundledLibraries(members),
            release: options.release,
            layout,
          };
          let plan = planWheelPackage(input);
          if (layout === 'stored-zip' && !isPureWheel(wheel.facts.name)) {
            // The ELF files are inside the zip, out of sight of rpmbuild and dpkg-shlibdeps: find
            // their shared-library requirements on an unpacked copy, as the unpacked layout gets them.
            const systemRequires = await withTempDir('reqset-elf-', async (scratch) => {
              const elfRoot = path.join(scratch, 'root');
              const copy = await openWheel(wheel.path);
              try {
                await copy.extractTo(path.join(elfRoot, paths.wheels, wheelStem(wheel.filename)), { mtime: when });
              } finally {
                await copy.close();
              }
              await mkdir(path.join(scratch, 'shlibdeps'));
              return payloadElfRequires(packager, plan, elfRoot, path.join(scratch, 'shlibdeps'));
            });
            if (systemRequires.length) plan = planWheelPackage({ ...input, systemRequires });
          }
          const file = await packager.build(plan, root, { epoch: options.epoch, outDir: options.packagesDir, workDir: work, maintainer: options.maintainer });
          progress({ stage: 'packages', item, state: 'packaged', elapsedMs: Date.now() - started, detail: path.basename(file) });
          return { pin: wheel.pin, wheel, package: await finish(packager, plan, file), rebuilt };
        }),
      ),
    ),
  );
}

export interface EndpointPackage {
  spec: EndpointSpec;
  package: BuiltPackage;
  closure: string[];
}

/** One application: its venv is made on the target from the closure's unpacked wheels (or stored zips). */
export async function buildEndpointPackage(options: PackagesOptions, spec: EndpointSpec, installer: 'native' | 'pip'): Promise<EndpointPackage> {
  const facts = new Map(options.wheels.map((w) => [w.pin.key, w.facts]));
  const app = options.wheels.find((w) => w.pin.key === normalizeName(spec.distribution));
  if (!app) throw new Error(`internal: ${spec.distribution} has no wheel`);
  const closure = computeClosure([{ key: app.pin.key, extras: app.pin.extras }], facts, options.env);
  const byKey = new Map(options.wheels.map((w) => [w.pin.key, w]));
  const members = closure.keys.map((key) => byKey.get(key)).filter((w): w is WheelRecord => !!w);
  const plan = planEndpointPackage({
    reqset: options.reqset,
    target: options.target,
    spec,
    distribution: { key: app.pin.key, name: app.pin.name, version: app.pin.version, topLevel: app.facts.topLevel },
    closure: members.map((w) => ({ key: w.pin.key, version: w.pin.version, filename: w.filename })),
    release: options.release,
    installer,
    layout: options.layout ?? DEFAULT_WHEEL_LAYOUT,
  });
  const started = Date.now();
  const item = `${plan.name} (${spec.file})`;
  options.progress({ stage: 'packages', item, state: 'start' });
  return withTempDir('reqset-endpoint-', async (work) => {
    const root = path.join(work, 'root');
    const venv = endpointPaths(options.reqset, spec.name).venv;
    await mkdir(path.join(root, 'usr', 'bin'), { recursive: true });
    for (const dir of plan.ownedDirs) await mkdir(path.join(root, dir), { recursive: true });
    for (const script of spec.scripts) await symlink(`${venv}/bin/${script}`, path.join(root, 'usr', 'bin', script));
    await setTreeTime(root, new Date(options.epoch * 1000));
    const file = await options.packager.build(plan, root, { epoch: options.epoch, outDir: options.packagesDir, workDir: work, maintainer: options.maintainer });
    options.progress({ stage: 'packages', item, state: 'packaged', elapsedMs: Date.now() - started, detail: path.basename(file) });
    return { spec, package: await finish(options.packager, plan, file), closure: members.map((w) => w.pin.key) };
  });
}
