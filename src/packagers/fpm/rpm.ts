/**
 * RPM packages written by fpm from the native packager's own rendering: the
 * spec rpm/spec.ts writes for the plan is read back for every tag, macro
 * setting, description and scriptlet body, so names, versions, relations,
 * escaping and `$1` guards are defined once, there. fpm writes its own spec
 * from them (its template, `-s dir` staging and rpmbuild run); what its
 * template cannot express is passed through `--rpm-tag`, which fpm writes
 * verbatim into the preamble:
 *
 * - the native `%global` lines (no strip or brp scripts, payload, file
 *   digest, build host, SOURCE_DATE_EPOCH build time and mtime clamp), which
 *   come after fpm's own `%define`s and so win over them;
 * - `Provides`, `Requires` and `Requires(post|preun|postun)` as written
 *   natively (fpm's `--depends` would parse and rewrite rich dependencies).
 *
 * Dependency generators: as natively, only rpm's ELF one (`--rpm-autoreqprov`,
 * and `_fileattrsdir` a directory holding only the system's `elf.attr`: the
 * native spec makes it in its %install, which fpm's template leaves empty,
 * so it is made here and its `%global` given after the native one); the
 * native `__requires_exclude` and `__provides_exclude_from` apply as written,
 * and rpmbuild gets the native file-class database (MAGIC) through fpm's
 * environment.
 *
 * Files: fpm lists every file, and as `%dir` every directory below the
 * `--directories` given: the plan's owned directories and its directory
 * contents, as the native `%files` owns them. `%ghost` has no fpm option: the
 * ghost is an empty placeholder whose `--rpm-attr` text (which fpm writes
 * verbatim inside `%attr(...)`) adds `%ghost`, so the payload carries no
 * content for it and the header the same entry as natively (the equivalence
 * test compares file flags, modes, sizes and times). Configuration files:
 * `--config-files`, which fpm lists as `%config(noreplace)` with the staged
 * mode (the plan's, as the native `%attr`). fpm's `%changelog` is
 * the native one (`--rpm-changelog` of the native section's text).
 */
import { copyFile, mkdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../../run.ts';
import type { BuildContext, BuiltFile, PackagePlan, Packager } from '../packager.ts';
import { FpmPackager, runFpm } from './run.ts';

/** What rpm/ says about a package, for fpm to write (see packagers/index.ts). */
export interface RpmRendering {
  /** rpm/spec.ts's rpmSpec: the native spec of a plan. */
  spec(plan: PackagePlan, options: { root: string; epoch: number; packager: string; vendor?: string; payload?: BuildContext['payload'] }): string;
  /** rpmbuild's environment beyond the build's own (rpm/magic.ts: the file-class database), written into `workDir`. */
  buildEnv(workDir: string): Promise<Record<string, string>>;
}

/** The parts of a native spec fpm is given. */
export interface NativeSpec {
  /** Preamble tags, in order: `Name`, `Requires(post)`, ... -> values. */
  tags: [string, string][];
  /** `%global ...` lines. */
  globals: string[];
  /** Section bodies (`description`, `post`, `preun`, `postun`, ...), without trailing empty lines. */
  sections: Map<string, string>;
}

const SECTION = /^%(description|install|clean|files|post|preun|postun|changelog)$/;
const TAG = /^([A-Za-z]+(?:\([a-z]+\))?): (.*)$/;

/** Reads back a spec written by rpmSpec (one tag a line; description and scriptlet lines never start with `%`). */
export function parseNativeSpec(spec: string): NativeSpec {
  const tags: [string, string][] = [];
  const globals: string[] = [];
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of spec.split('\n')) {
    const section = SECTION.exec(line);
    if (section) {
      current = [];
      sections.set(section[1] as string, current);
    } else if (current) {
      current.push(line);
    } else if (line.startsWith('%global ')) {
      globals.push(line);
    } else {
      const tag = TAG.exec(line);
      if (tag) tags.push([tag[1] as string, tag[2] as string]);
    }
  }
  const bodies = new Map([...sections].map(([name, lines]) => [name, lines.join('\n').replace(/\s+$/, '')]));
  return { tags, globals, sections: bodies };
}

function tag(spec: NativeSpec, name: string): string | undefined {
  return spec.tags.find(([t]) => t === name)?.[1];
}

function requiredTag(spec: NativeSpec, name: string): string {
  const value = tag(spec, name);
  if (value === undefined) throw new Error(`internal: the native spec has no ${name}`);
  return value;
}

/** fpm's metadata options: name, version, epoch, release, arch and the descriptive tags. */
function metadataArgs(plan: PackagePlan, spec: NativeSpec): string[] {
  const args = ['--name', requiredTag(spec, 'Name'), '--version', requiredTag(spec, 'Version'), '--iteration', requiredTag(spec, 'Release')];
  const epoch = tag(spec, 'Epoch');
  if (epoch !== undefined) args.push('--epoch', epoch);
  args.push('--architecture', plan.arch, '--rpm-summary', requiredTag(spec, 'Summary'), '--license', requiredTag(spec, 'License'));
  const url = tag(spec, 'URL');
  if (url !== undefined) args.push('--url', url);
  // rpm's own default Group (fpm's would be `none`); the native Vendor or none (fpm's default would be `none`).
  args.push('--category', 'Unspecified', '--vendor', tag(spec, 'Vendor') ?? '', '--maintainer', requiredTag(spec, 'Packager'));
  args.push('--description', spec.sections.get('description') ?? '');
  return args;
}

/** Tags fpm writes as given: the native macro settings and relations. */
function verbatimTags(spec: NativeSpec): string[] {
  const relations = spec.tags.filter(([t]) => t === 'Provides' || t === 'Requires' || t.startsWith('Requires('));
  return [...spec.globals, ...relations.map(([t, v]) => `${t}: ${v}`)].flatMap((line) => ['--rpm-tag', line]);
}

export class FpmRpmPackager extends FpmPackager {
  readonly format = 'rpm' as const;

  constructor(
    native: Packager,
    private readonly rendering: RpmRendering,
  ) {
    super(native);
  }

  /** The requires are those `rpm -qp --requires` shows, as natively. */
  async build(plan: PackagePlan, root: string, context: BuildContext): Promise<BuiltFile> {
    const rootDir = path.resolve(root);
    const workDir = path.resolve(context.workDir);
    const spec = parseNativeSpec(this.rendering.spec(plan, { root: rootDir, epoch: context.epoch, packager: context.maintainer, vendor: context.vendor, payload: context.payload }));
    for (const dir of plan.ownedDirs) await mkdir(path.join(rootDir, dir), { recursive: true });
    // fpm keeps the staged times; rpm clamps only later ones, so older ones are set too.
    await run(['find', rootDir, '-exec', 'touch', '-h', '-d', `@${context.epoch}`, '{}', '+']);
    const extra = await extraFiles(plan, spec, workDir, context.epoch);
    const args = [...metadataArgs(plan, spec), ...verbatimTags(spec), '--rpm-tag', `%global _fileattrsdir ${await elfOnlyFileattrs(workDir)}`, ...extra.args];
    // The native %defattr(-,root,root,0755): file modes as staged, directories 0755.
    args.push('--rpm-autoreqprov', '--rpm-defattrdir', '0755');
    for (const config of plan.configFiles ?? []) args.push('--config-files', config.path);
    for (const dir of [...plan.ownedDirs, ...(await directories(rootDir, plan.contents))]) args.push('--directories', dir);
    const out = path.join(path.resolve(context.outDir), this.native.fileName(plan));
    const env = await this.rendering.buildEnv(workDir);
    await runFpm('rpm', { inputs: [`${rootDir}/=/`, ...extra.inputs], args, out, epoch: context.epoch, workDir, env });
    const query = await run(['rpm', '-qp', '--requires', out]);
    const requires = query.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('rpmlib('));
    return { path: out, requires: [...new Set(requires)] };
  }
}

/** A `_fileattrsdir` with only rpm's own `elf.attr` (see the native spec's %install). */
async function elfOnlyFileattrs(workDir: string): Promise<string> {
  const dir = path.join(workDir, 'fileattrs');
  await mkdir(dir, { recursive: true });
  const configDir = (await run(['rpm', '--eval', '%{_rpmconfigdir}'])).stdout.trim();
  await copyFile(path.join(configDir, 'fileattrs', 'elf.attr'), path.join(dir, 'elf.attr'));
  return dir;
}

/** The plan's contents that are directories in the staged tree. */
async function directories(root: string, contents: string[]): Promise<string[]> {
  const found = await Promise.all(contents.map(async (c) => ((await stat(path.join(root, c)).catch(() => undefined))?.isDirectory() ? c : undefined)));
  return found.filter((c): c is string => c !== undefined);
}

/** Scriptlet files, the native changelog and the ghost placeholders, written under `workDir`. */
async function extraFiles(plan: PackagePlan, spec: NativeSpec, workDir: string, epoch: number): Promise<{ args: string[]; inputs: string[] }> {
  const dir = path.join(workDir, 'fpm-input');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const args: string[] = [];
  const changelog = path.join(dir, 'changelog');
  const nativeChangelog = spec.sections.get('changelog');
  await writeFile(changelog, nativeChangelog === undefined ? '' : `${nativeChangelog}\n`);
  args.push('--rpm-changelog', changelog);
  const options: [string, string][] = [
    ['post', '--after-install'],
    ['preun', '--before-remove'],
    ['postun', '--after-remove'],
  ];
  for (const [section, option] of options) {
    const body = spec.sections.get(section);
    if (body === undefined) continue;
    const file = path.join(dir, section);
    await writeFile(file, `${body}\n`);
    args.push(option, file);
  }
  const inputs: string[] = [];
  for (const [i, ghost] of plan.ghostFiles.entries()) {
    const placeholder = path.join(dir, `ghost-${i}`);
    await writeFile(placeholder, '', { mode: 0o644 });
    await utimes(placeholder, epoch, epoch);
    inputs.push(`${placeholder}=${ghost}`);
    // fpm writes `%attr(<text>) <path>`: `%(true)` is rpm's shell expansion of nothing, closing the line as `%ghost <path>`.
    args.push('--rpm-attr', `0644,root,root) %ghost %(true:${ghost}`);
  }
  return { args, inputs };
}
