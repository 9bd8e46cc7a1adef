/**
 * The .deb packager: a staged tree + a plan -> one binary package, built by
 * `dpkg-deb` from a directory laid out as it wants (the files, plus DEBIAN/
 * with control, md5sums and the maintainer scripts).
 *
 * Reproducible: in the staged tree itself (not a copy: a wheel can have tens
 * of thousands of files), every mode is normalised (0644, or 0755 for
 * directories and executables), every time set to the build epoch, and
 * dpkg-deb (1.21) writes the entries in its own sorted order (not the file
 * system's), owned by root (--root-owner-group), with SOURCE_DATE_EPOCH as
 * the ar member times and the tar mtime clamp. Compression is explicit and
 * the target's (debCompression below), with a thread count that cannot
 * change the bytes.
 *
 * Directories: dpkg owns every directory a package ships, so the plan's
 * ownedDirs are created in the tree (and removed by dpkg when the last package
 * shipping them goes and they are empty). `%ghost` has no Debian equivalent:
 * the file a postinst generates is removed by the postrm (control.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../../run.ts';
import { SMALL_PAYLOAD, type Payload } from '../../targets/target.ts';
import type { BuildContext, BuiltFile, Packager, PackagePlan } from '../packager.ts';
import { debianDocFiles, stageFiles } from '../changelog.ts';
import { debConffiles, debControl, debDependencies, debFileName, debMaintainerScripts, debVersion } from './control.ts';
import { lintianOverrides, lintianOverridesPath } from './lintian.ts';
export { lintianOverrides, lintianOverridesPath } from './lintian.ts';
import { ShlibsResolver } from './shlibs.ts';
import { installedSizeKiB, isWithin, md5sums, normaliseModes, setTimes, walkTree, type TreeEntry } from './tree.ts';

export { debArchitecture, debConffiles, debControl, debDependencies, debFileName, debMaintainerScripts, debVersion } from './control.ts';
export { installedSizeKiB, normaliseModes, walkTree } from './tree.ts';

/** Without the target's `payload`: its `small` one, xz -6, what every dpkg reads (and dpkg-deb's own default). */
export const DEFAULT_DEB_PAYLOAD: Payload = SMALL_PAYLOAD.deb;

/**
 * dpkg-deb's compression arguments for the target's payload compression
 * (both control.tar and data.tar get it). dpkg reads zstd members since
 * 1.21.18 (Debian 12 has 1.21.22, Ubuntu 24.04 1.22.6), xz members since long
 * before any target reqset knows.
 *
 * Threads, dpkg-deb 1.21.22 (checked on the numpy wheel, 58 MB unpacked):
 * - xz always goes through liblzma's multi-threaded encoder, whose blocks do
 *   not depend on the number of threads: --threads-max=1 and 2 give the same
 *   bytes, so dpkg-deb uses as many as it likes.
 * - zstd only turns libzstd's workers on for more than one thread, and caps
 *   the threads at the machine's CPUs: --threads-max=1 and 2 give different
 *   bytes, so a machine with one CPU would build another package than one
 *   with two. zstd is single-threaded (--threads-max=1) whatever the machine
 *   and whatever DPKG_DEB_THREADS_MAX says (test/integration/
 *   deb-packager.test.ts checks both compressors); at level 3 it is still
 *   many times faster than xz -6 with every thread.
 *
 * Measured on that tree (2 CPUs shared with other work): dpkg-deb alone,
 * xz -6 (2 threads) 18.2 s for 10.8 MB, zstd -3 (1 thread) 0.5 s for
 * 15.0 MB (0.3 s with 2 threads, other bytes); the whole DebPackager.build
 * (copy, md5sums, dpkg-shlibdeps, dpkg-deb) 21 s with xz -6, 5 s with zstd -3.
 */
export function debCompression(payload: Payload = DEFAULT_DEB_PAYLOAD): string[] {
  switch (payload.compression) {
    case 'zstd':
      return ['-Zzstd', `-z${payload.level}`, '--threads-max=1'];
    case 'xz':
      return ['-Zxz', `-z${payload.level}`];
  }
}

/** Every file of the staged tree must belong to the plan's contents or the files the build adds (the tree holds only this package's files). */
function checkContents(plan: PackagePlan, entries: TreeEntry[], added: string[]): void {
  const owned = [...plan.contents, ...(plan.configFiles ?? []).map((c) => c.path), ...added];
  const stray = entries.filter((e) => e.type !== 'dir' && !owned.some((c) => isWithin(`/${e.rel}`, c)));
  if (stray.length) {
    const shown = stray.slice(0, 5).map((e) => `/${e.rel}`);
    throw new Error(`internal: the staged tree of ${plan.name} holds files outside its contents (${plan.contents.join(', ') || 'none'}): ${shown.join(', ')}${stray.length > 5 ? ', ...' : ''}`);
  }
}

/** Configuration files keep the plan's mode (a secret's 0600), not the normal one. */
export async function applyConfigModes(plan: PackagePlan, rootDir: string, entries: TreeEntry[]): Promise<void> {
  for (const config of plan.configFiles ?? []) {
    await chmod(path.join(rootDir, config.path), config.mode);
    const entry = entries.find((e) => `/${e.rel}` === config.path);
    if (entry) entry.mode = config.mode;
  }
}

/**
 * Writes DEBIAN/ (control, md5sums, conffiles, maintainer scripts) for the staged tree
 * at `rootDir`, whose DEBIAN/ exists and is empty; returns the
 * shared-library relations found for its ELF files.
 */
async function writeControlDir(plan: PackagePlan, rootDir: string, entries: TreeEntry[], context: BuildContext, resolver: ShlibsResolver): Promise<string[]> {
  const debianDir = path.join(rootDir, 'DEBIAN');
  await mkdir(context.workDir, { recursive: true });
  const scratch = await mkdtemp(path.join(path.resolve(context.workDir), 'shlibdeps-'));
  let shlibs: string[];
  try {
    shlibs = await resolver.depends(plan, rootDir, entries, scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const control = debControl(plan, { installedSizeKiB: installedSizeKiB(entries), maintainer: context.maintainer, shlibsDepends: shlibs });
  await writeFile(path.join(debianDir, 'control'), control);
  await writeFile(path.join(debianDir, 'md5sums'), await md5sums(rootDir, entries));
  const conffiles = debConffiles(plan);
  if (conffiles) await writeFile(path.join(debianDir, 'conffiles'), conffiles, { mode: 0o644 });
  for (const [name, text] of Object.entries(debMaintainerScripts(plan))) {
    await writeFile(path.join(debianDir, name), text);
    await chmod(path.join(debianDir, name), 0o755);
  }
  await chmod(path.join(debianDir, 'control'), 0o644);
  await chmod(path.join(debianDir, 'md5sums'), 0o644);
  await chmod(debianDir, 0o755);
  return shlibs;
}

/** dpkg-deb on the prepared tree, into a partial file renamed to `<outDir>/<fileName>` once whole. */
async function runDpkgDeb(rootDir: string, fileName: string, context: BuildContext): Promise<string> {
  await mkdir(context.outDir, { recursive: true });
  const out = path.join(path.resolve(context.outDir), fileName);
  const partial = path.join(path.dirname(out), `.${fileName}.${randomBytes(6).toString('hex')}.part`);
  try {
    await run(['dpkg-deb', '--root-owner-group', ...debCompression(context.payload), '--build', rootDir, partial], {
      env: { SOURCE_DATE_EPOCH: String(context.epoch), LC_ALL: 'C', TZ: 'UTC' },
      writesTo: partial,
    });
    await chmod(partial, 0o644);
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return out;
}

export class DebPackager implements Packager {
  readonly format = 'deb' as const;
  /** Reads the build machine's libraries and dpkg database once for every package this packager builds. */
  private readonly shlibs = new ShlibsResolver();

  fileName(plan: PackagePlan): string {
    return debFileName(plan);
  }

  version(plan: PackagePlan): string {
    return debVersion(plan);
  }

  dependencies(plan: PackagePlan): string[] {
    return debDependencies(plan);
  }

  /** What dpkg-shlibdeps finds, as for an unpacked wheel package. */
  async elfRequires(plan: PackagePlan, root: string, scratch: string): Promise<string[]> {
    // The resolver finds the ELF files itself (none: no requirements).
    await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
    return this.shlibs.depends(plan, root, await walkTree(root), scratch);
  }

  /**
   * The requires are the relations of `Depends`, shared-library ones
   * included. dpkg-deb builds from the staged tree itself, with DEBIAN/
   * added for the build and removed afterwards.
   */
  async build(plan: PackagePlan, root: string, context: BuildContext): Promise<BuiltFile> {
    const rootDir = path.resolve(root);
    const workDir = path.resolve(context.workDir);
    // The scratch directories would end up in the package.
    if (isWithin(workDir, rootDir)) throw new Error(`internal: the work directory ${workDir} is inside the staged tree ${rootDir}`);
    const debianDir = path.join(rootDir, 'DEBIAN');
    // DEBIAN/ is dpkg-deb's control directory, never a path on the target.
    if (await stat(debianDir).then(() => true, () => false)) {
      throw new Error(`internal: the staged tree of ${plan.name} has a top-level DEBIAN directory`);
    }
    for (const dir of plan.ownedDirs) await mkdir(path.join(rootDir, dir), { recursive: true });
    const docs = debianDocFiles(plan, { epoch: context.epoch, maintainer: context.maintainer, version: debVersion(plan) });
    const removeDocs = await stageFiles(rootDir, docs.dir, docs.files);
    const overridesFile = lintianOverridesPath(plan.name);
    let removeOverrides: (() => Promise<void>) | undefined;
    try {
      const overrides = lintianOverrides(plan, context.payload ?? DEFAULT_DEB_PAYLOAD);
      if (overrides) removeOverrides = await stageFiles(rootDir, path.dirname(overridesFile), { [plan.name]: Buffer.from(overrides) });
      const entries = await walkTree(rootDir);
      checkContents(plan, entries, [docs.dir, overridesFile]);
      await normaliseModes(rootDir, entries);
      await applyConfigModes(plan, rootDir, entries);
      await mkdir(debianDir);
      return await this.buildTree(plan, rootDir, entries, context);
    } finally {
      await removeOverrides?.();
      await removeDocs();
    }
  }

  /** dpkg-deb on the prepared tree, with DEBIAN/ written for it and removed afterwards. */
  private async buildTree(plan: PackagePlan, rootDir: string, entries: TreeEntry[], context: BuildContext): Promise<BuiltFile> {
    const debianDir = path.join(rootDir, 'DEBIAN');
    try {
      const shlibs = await writeControlDir(plan, rootDir, entries, context, this.shlibs);
      await setTimes(debianDir, await walkTree(debianDir), context.epoch);
      await setTimes(rootDir, entries, context.epoch);
      const out = await runDpkgDeb(rootDir, debFileName(plan), context);
      return { path: out, requires: debDependencies(plan, shlibs) };
    } finally {
      await rm(debianDir, { recursive: true, force: true });
    }
  }
}
