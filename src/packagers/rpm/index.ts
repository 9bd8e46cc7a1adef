/**
 * The RPM packager: writes the spec (spec.ts) into the package's scratch
 * directory and runs `rpmbuild -bb` on it, with the staged tree as the build
 * root. Everything rpmbuild writes stays under the scratch directory except
 * the finished package (and, in the staged tree, the owned directories and
 * the times: see Packager.build), and nothing of the calling environment
 * that could change the bytes of the package gets through: SOURCE_DATE_EPOCH,
 * TZ and the locale are fixed, HOME points to the scratch directory so
 * that no ~/.rpmmacros is read, and MAGIC to reqset's file-class database
 * (magic.ts).
 *
 * Fewer processes per package: the CPU count is given (what rpm's
 * `%{getncpus}` gives: the CPUs this process may run on), which saves a
 * shell for each expansion of `%_smp_build_ncpus`; `--noclean` skips the two
 * empty cleanups (%clean and rmbuild; the scratch directory goes as a
 * whole); rpmbuild's OpenMP threads (file classification) wait passively:
 * spinning, they took CPU from the build's other jobs.
 */
import { access, mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ToolError } from '../../errors.ts';
import { run } from '../../run.ts';
import type { BuildContext, BuiltFile, PackagePlan, Packager } from '../packager.ts';
import { linkedElfFiles } from '../elf.ts';
import { readRpmContents } from './header.ts';
import { elfOnlyMagic } from './magic.ts';
import { privateLibrariesRegex, rpmDependencies, rpmDisplayVersion, rpmFileName, rpmSpec } from './spec.ts';

export { DEFAULT_RPM_PAYLOAD, rpmDependencies, rpmFileName, rpmPayload, rpmSpec } from './spec.ts';
export { elfOnlyMagic } from './magic.ts';

/** rpmbuild's output file name format, matching rpmFileName(). */
export const BUILD_NAME_FORMAT = '%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm';

/**
 * The target paths of the files and links under `root` (what rpmbuild's
 * check-files lists). Each entry's directory is `root` or below it, so its
 * target path is that directory's rest: path.relative on 20,000 entries took
 * a tenth of a second.
 */
async function stagedFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => `${entry.parentPath.slice(root.length)}/${entry.name}`);
}

/**
 * The requires `rpm -qp --requires` shows (ELF ones included), without rpmlib
 * features, read from the package's header. And the check rpmbuild's
 * check-files makes, which the build turns off (a find | sort | diff
 * pipeline per package): every file of the staged tree is in the package.
 */
async function builtRequires(plan: PackagePlan, file: string, buildRoot: string): Promise<string[]> {
  const contents = await readRpmContents(file);
  const packaged = new Set(contents.files);
  const unpackaged = (await stagedFiles(buildRoot)).filter((staged) => !packaged.has(staged));
  if (unpackaged.length) {
    throw new Error(`internal: the staged tree of ${plan.name} holds files its package does not: ${unpackaged.slice(0, 5).join(', ')}${unpackaged.length > 5 ? ', ...' : ''}`);
  }
  return [...new Set(contents.requires.filter((requirement) => !requirement.startsWith('rpmlib(')))];
}

export class RpmPackager implements Packager {
  readonly format = 'rpm' as const;

  constructor(private readonly rpmbuild = 'rpmbuild') {}

  fileName(plan: PackagePlan): string {
    return rpmFileName(plan);
  }

  version(plan: PackagePlan): string {
    return rpmDisplayVersion(plan);
  }

  dependencies(plan: PackagePlan): string[] {
    return rpmDependencies(plan);
  }

  /** What rpm's ELF dependency generator (`elfdeps --requires`) finds, with `__requires_exclude`'s private libraries dropped. */
  async elfRequires(plan: PackagePlan, root: string): Promise<string[]> {
    const elf = await linkedElfFiles(root);
    if (elf.length === 0) return [];
    const configDir = (await run(['rpm', '--eval', '%{_rpmconfigdir}'])).stdout.trim();
    const result = await run([path.join(configDir, 'elfdeps'), '--requires'], { input: elf.map((rel) => `${path.join(root, rel)}\n`).join(''), env: { LC_ALL: 'C' } });
    const exclude = privateLibrariesRegex(plan.privateLibraries);
    const pattern = exclude ? new RegExp(exclude) : undefined;
    const requires = result.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !pattern?.test(l));
    return [...new Set(requires)].sort();
  }

  /** The requires are builtRequires'. */
  async build(plan: PackagePlan, root: string, context: BuildContext): Promise<BuiltFile> {
    const workDir = path.resolve(context.workDir);
    const outDir = path.resolve(context.outDir);
    const topdir = path.join(workDir, 'topdir');
    const tmp = path.join(workDir, 'tmp');
    await mkdir(topdir, { recursive: true });
    await mkdir(tmp, { recursive: true });
    await mkdir(outDir, { recursive: true });

    const specFile = path.join(workDir, `${plan.name}.spec`);
    const buildRoot = path.resolve(root);
    await writeFile(specFile, rpmSpec(plan, { root: buildRoot, epoch: context.epoch, packager: context.maintainer, vendor: context.vendor, payload: context.payload }));

    const argv = [
      this.rpmbuild,
      '-bb',
      '--nodeps',
      '--define',
      `_topdir ${topdir}`,
      '--define',
      `_tmppath ${tmp}`,
      '--define',
      `_rpmdir ${outDir}`,
      '--define',
      `_build_name_fmt ${BUILD_NAME_FORMAT}`,
      // builtRequires checks what check-files would, without its processes.
      '--define',
      '__check_files %{nil}',
      '--define',
      `_smp_build_ncpus ${availableParallelism()}`,
      '--noclean',
      '--buildroot',
      buildRoot,
    ];
    if (plan.arch !== 'noarch') argv.push('--target', plan.arch);
    argv.push(specFile);

    await run(argv, {
      cwd: workDir,
      env: {
        SOURCE_DATE_EPOCH: String(context.epoch),
        TZ: 'UTC',
        LC_ALL: 'C',
        LANG: 'C',
        HOME: workDir,
        ...(await elfOnlyMagic(workDir)),
        OMP_WAIT_POLICY: 'PASSIVE',
      },
      tailLines: 40,
      failureNote: `the spec is ${specFile}`,
      writesTo: outDir,
    });

    const file = path.join(outDir, rpmFileName(plan));
    try {
      await access(file);
    } catch {
      throw new ToolError(`rpmbuild succeeded but did not write ${file} (spec: ${specFile})`);
    }
    return { path: file, requires: await builtRequires(plan, file, buildRoot) };
  }
}
