/**
 * .deb packages written by fpm from the native packager's own rendering:
 * the staged tree prepared as deb/ prepares it (owned directories, normal
 * modes), the `DEBIAN/control` deb/control.ts writes for it (fpm's
 * `--deb-custom-control`: every field, relation and the description as
 * natively, shared-library relations found by the native dpkg-shlibdeps run)
 * and the native maintainer scripts, which fpm copies as they are (with no
 * upgrade scripts given it wraps nothing). fpm writes md5sums, the tar
 * members (GNU tar, `--sort=name --mtime=@SOURCE_DATE_EPOCH`, owner 0:0) and
 * the ar archive.
 *
 * The changelog: fpm always writes one, gzipped by Ruby's zlib; given the
 * native entry's text (`--deb-changelog`) it writes that text, but names the
 * file `/usr/share/doc/<name>/changelog.gz` (where the native package has
 * `changelog.Debian.gz`: fpm renames it when there is no upstream changelog).
 * The copyright file is staged in the tree as natively. Conffiles are the
 * plan's configuration files (`--config-files` each, at the plan's mode),
 * not fpm's default of every file below /etc (`--deb-no-default-config-files`).
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../../errors.ts';
import { debianChangelogText, debianDocFiles, stageFiles } from '../changelog.ts';
import type { Payload } from '../../targets/target.ts';
import type { BuildContext, BuiltFile, PackagePlan, Packager } from '../packager.ts';
import { FpmPackager, runFpm } from './run.ts';

/** The parts of deb/ fpm's packages are made from (see packagers/index.ts). */
export interface DebRendering {
  control(plan: PackagePlan, options: { installedSizeKiB: number; maintainer: string; shlibsDepends?: string[] }): string;
  maintainerScripts(plan: PackagePlan): Partial<Record<'postinst' | 'prerm' | 'postrm', string>>;
  dependencies(plan: PackagePlan, shlibs: readonly string[]): string[];
  /** The package's lintian overrides file, shipped as natively. */
  lintianOverrides(plan: PackagePlan, payload: Payload): string | undefined;
  lintianOverridesPath(packageName: string): string;
  /** Normalises the staged tree's modes as the native build does; returns its Installed-Size. */
  prepareTree(root: string): Promise<number>;
  defaultPayload: Payload;
}

const SCRIPT_OPTIONS = { postinst: '--after-install', prerm: '--before-remove', postrm: '--after-remove' } as const;

/** zstd's own default level, what ZSTD_CLEVEL=0 gives. */
const ZSTD_DEFAULT_LEVEL = 3;

/**
 * fpm's deb compression options. fpm passes the level to xz as
 * XZ_OPT=-<level>, to zstd as ZSTD_CLEVEL=-<level>, which zstd reads as a
 * negative (fast) level: only `-0`, zstd's default level 3, is a level zstd
 * compresses at as dpkg-deb would (same bytes from the zstd CLI for -3 and
 * ZSTD_CLEVEL=-0). Other zstd levels are refused rather than silently made
 * fast levels.
 */
function compressionArgs(plan: PackagePlan, payload: Payload): string[] {
  if (payload.compression === 'xz') return ['--deb-compression', 'xz', '--deb-compression-level', String(payload.level)];
  if (payload.level !== ZSTD_DEFAULT_LEVEL) {
    throw new InputError(`${plan.name}: fpm can write zstd .deb members only at zstd's default level ${ZSTD_DEFAULT_LEVEL}, not ${payload.level}: use level ${ZSTD_DEFAULT_LEVEL} or xz in the target's payload, or --packager native`);
  }
  return ['--deb-compression', 'zst', '--deb-compression-level', '0'];
}

/** The name and version fpm writes into the changelog it adds (the control file is the native one). */
function changelogVersionArgs(name: string, version: string): string[] {
  const parts = /^(?:(\d+):)?(.+)-([^-]+)$/.exec(version);
  if (!parts) throw new Error(`internal: the Debian version ${version} has no revision`);
  const [, epoch, upstream, revision] = parts as unknown as [string, string | undefined, string, string];
  return ['--name', name, '--version', upstream, '--iteration', revision, ...(epoch ? ['--epoch', epoch] : [])];
}

export class FpmDebPackager extends FpmPackager {
  readonly format = 'deb' as const;

  constructor(
    native: Packager,
    private readonly rendering: DebRendering,
  ) {
    super(native);
  }

  /** The requires are the relations of `Depends`, shared-library ones included, as natively. */
  async build(plan: PackagePlan, root: string, context: BuildContext): Promise<BuiltFile> {
    const rootDir = path.resolve(root);
    for (const dir of plan.ownedDirs) await mkdir(path.join(rootDir, dir), { recursive: true });
    const docs = { epoch: context.epoch, maintainer: context.maintainer, version: this.native.version(plan) };
    const { dir, files } = debianDocFiles(plan, docs);
    const removeDocs = await stageFiles(rootDir, dir, { copyright: files.copyright });
    let removeOverrides: (() => Promise<void>) | undefined;
    try {
      const overrides = this.rendering.lintianOverrides(plan, context.payload ?? this.rendering.defaultPayload);
      const overridesFile = this.rendering.lintianOverridesPath(plan.name);
      if (overrides) removeOverrides = await stageFiles(rootDir, path.dirname(overridesFile), { [path.basename(overridesFile)]: Buffer.from(overrides) });
      // fpm adds the changelog itself, after the tree's Installed-Size was counted.
      const changelogKiB = Math.ceil(files['changelog.Debian.gz'].length / 1024);
      return await this.buildTree(plan, rootDir, context, debianChangelogText(plan, docs), changelogKiB);
    } finally {
      await removeOverrides?.();
      await removeDocs();
    }
  }

  private async buildTree(plan: PackagePlan, rootDir: string, context: BuildContext, changelog: string, changelogKiB: number): Promise<BuiltFile> {
    const workDir = path.resolve(context.workDir);
    const installedSizeKiB = (await this.rendering.prepareTree(rootDir)) + changelogKiB;
    // As deb/index.ts's applyConfigModes: the plan's mode, not the normal one prepareTree gave.
    for (const config of plan.configFiles ?? []) await chmod(path.join(rootDir, config.path), config.mode);
    const shlibs = await this.shlibs(plan, rootDir, workDir);
    const input = path.join(workDir, 'fpm-input');
    await rm(input, { recursive: true, force: true });
    await mkdir(input, { recursive: true });
    const control = path.join(input, 'control');
    await writeFile(control, this.rendering.control(plan, { installedSizeKiB, maintainer: context.maintainer, shlibsDepends: shlibs }));
    const changelogFile = path.join(input, 'changelog');
    await writeFile(changelogFile, changelog);
    const args = [...changelogVersionArgs(plan.name, this.native.version(plan)), '--deb-changelog', changelogFile, '--deb-custom-control', control, '--deb-no-default-config-files'];
    args.push('--deb-user', 'root', '--deb-group', 'root', ...compressionArgs(plan, context.payload ?? this.rendering.defaultPayload));
    for (const config of plan.configFiles ?? []) args.push('--config-files', config.path);
    for (const [name, text] of Object.entries(this.rendering.maintainerScripts(plan))) {
      const file = path.join(input, name);
      await writeFile(file, text, { mode: 0o755 });
      args.push(SCRIPT_OPTIONS[name as keyof typeof SCRIPT_OPTIONS], file);
    }
    const out = path.join(path.resolve(context.outDir), this.native.fileName(plan));
    await runFpm('deb', { inputs: [`${rootDir}/=/`], args, out, epoch: context.epoch, workDir });
    return { path: out, requires: this.rendering.dependencies(plan, shlibs) };
  }

  /** dpkg-shlibdeps through the native elfRequires, which wants a DEBIAN/ in the tree: removed again before fpm copies it. */
  private async shlibs(plan: PackagePlan, rootDir: string, workDir: string): Promise<string[]> {
    const scratch = path.join(workDir, 'shlibdeps');
    await mkdir(scratch, { recursive: true });
    try {
      return await this.native.elfRequires(plan, rootDir, scratch);
    } finally {
      await rm(path.join(rootDir, 'DEBIAN'), { recursive: true, force: true });
    }
  }
}
