/**
 * Running fpm: the executable (REQSET_FPM, else `fpm` on PATH), an
 * environment that keeps the calling one out of the package's bytes, and the
 * output written to a partial file renamed into place once whole.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../../run.ts';
import type { BuildContext, BuiltFile, PackagePlan, Packager } from '../packager.ts';

/** `REQSET_FPM` when set (a path or a name on PATH), else `fpm`. */
export function fpmExecutable(): string {
  return process.env.REQSET_FPM?.trim() || 'fpm';
}

const versions = new Map<string, Promise<string>>();

/**
 * `fpm --version`, once per executable: run directly, so that a missing fpm
 * is the run wrapper's one-line "command not found" with its install hint
 * (the builds themselves go through sh for the umask).
 */
export function fpmVersion(fpm = fpmExecutable()): Promise<string> {
  let version = versions.get(fpm);
  if (!version) {
    version = run([fpm, '--version'], { env: { LC_ALL: 'C' } }).then((r) => r.stdout.trim());
    versions.set(fpm, version);
  }
  return version;
}

export interface FpmRun {
  /** `-s dir` inputs, `source=destination` as fpm maps them. */
  inputs: string[];
  /** Everything between `-t <format>` and the inputs. */
  args: string[];
  /** The finished package: `<outDir>/<fileName>`. */
  out: string;
  epoch: number;
  /** Scratch space: fpm's --workdir and HOME. */
  workDir: string;
  /** More environment for the tools fpm runs (rpmbuild's MAGIC). */
  env?: Record<string, string>;
}

/**
 * fpm -s dir -t <format>, into a partial file renamed to `out`. fpm creates
 * the directories of its staging copy with mkdir, so with the umask: 022
 * whatever the caller's (a dpkg data.tar keeps those modes). SOURCE_DATE_EPOCH
 * is fpm's --source-date-epoch-default and rpmbuild's clamp; HOME is the
 * scratch directory so that no ~/.rpmmacros is read.
 */
export async function runFpm(format: 'rpm' | 'deb', job: FpmRun): Promise<string> {
  const fpm = fpmExecutable();
  await fpmVersion(fpm);
  const fpmWork = path.join(job.workDir, 'fpm');
  await mkdir(fpmWork, { recursive: true });
  await mkdir(path.dirname(job.out), { recursive: true });
  const partial = path.join(path.dirname(job.out), `.${path.basename(job.out)}.${randomBytes(6).toString('hex')}.part`);
  const argv = [fpm, '-s', 'dir', '-t', format, '--workdir', fpmWork, '--package', partial, ...job.args, ...job.inputs];
  try {
    await run(['sh', '-c', 'umask 022 && exec "$0" "$@"', ...argv], {
      cwd: job.workDir,
      env: { SOURCE_DATE_EPOCH: String(job.epoch), TZ: 'UTC', LC_ALL: 'C', LANG: 'C', HOME: job.workDir, ...job.env },
      tailLines: 40,
      writesTo: path.dirname(job.out),
    });
    await rename(partial, job.out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return job.out;
}

/**
 * What an fpm-built package shares with its native twin: the name, version,
 * relations and ELF requirements are the native packager's; only `build`
 * (fpm writing the file) is the subclass's.
 */
export abstract class FpmPackager implements Packager {
  abstract readonly format: Packager['format'];
  readonly backend = 'fpm' as const;

  constructor(protected readonly native: Packager) {}

  fileName(plan: PackagePlan): string {
    return this.native.fileName(plan);
  }

  version(plan: PackagePlan): string {
    return this.native.version(plan);
  }

  dependencies(plan: PackagePlan): string[] {
    return this.native.dependencies(plan);
  }

  elfRequires(plan: PackagePlan, root: string, scratch: string): Promise<string[]> {
    return this.native.elfRequires(plan, root, scratch);
  }

  abstract build(plan: PackagePlan, root: string, context: BuildContext): Promise<BuiltFile>;
}
