/**
 * The RPM spec file for one package plan: a pure function, tested against
 * golden files (test/golden/rpm/*.spec), so every line rpmbuild sees is
 * reviewed. The spec is self-contained: `rpmbuild -bb` on it (with
 * SOURCE_DATE_EPOCH set and the staged tree as `--buildroot`) builds the
 * package from the staged tree.
 *
 * The build root is the staged tree itself, not a copy: for a wheel of
 * 20,000 small files, copying took longer than everything else rpmbuild does
 * (mostly libmagic classifying each file, which rpm stores in the header).
 * `__spec_install_pre` is the plain prologue, without the platform's
 * `rm -rf %{buildroot}`, and the empty %clean keeps rpm's default one from
 * removing the tree: whoever staged it removes it.
 *
 * What rpmbuild would otherwise do to the files, and what is turned off:
 *
 *   __spec_install_post,   run after install: strip, brp-python-bytecompile
 *   __os_install_post,     (.pyc files), brp-compress, brp-elfperms,
 *   __arch_install_post,   brp-remove-la-files, and on Fedora/RHEL also
 *   __debug_install_post   mangle-shebangs, check-rpaths, python-hardlink and
 *                          find-debuginfo. All of them change the unpacked
 *                          wheel or add files: set to nil.
 *   debug_package          no -debuginfo/-debugsource split.
 *   _build_id_links        `none`: no /usr/lib/.build-id symlinks in the payload.
 *   _fileattrsdir          the dependency generators rpm runs are the
 *                          `*.attr` files of this directory. It points to a
 *                          directory made in install that holds only a copy of
 *                          the system's `elf.attr` (rpm 4.18 takes only the
 *                          names from this directory, the generators' macros
 *                          were loaded with rpm's own macro files), so
 *                          the shared-library requires of compiled extensions
 *                          stay, and the python, pythondist, script (shebang
 *                          interpreters such as `#!python`), perl, pkgconfig,
 *                          ... generators of whatever rpm builds the package
 *                          never run: their requires would be unsatisfiable or
 *                          wrong for files that only live inside a wheel.
 *   __provides_exclude_from  every path: nothing a reqset package installs is
 *                          a library for the rest of the system (the sonames of
 *                          a wheel's bundled `*.libs` especially).
 *   __requires_exclude     the plan's private libraries (the wheel's bundled
 *                          `*.libs`, found through the extension's RPATH), in
 *                          any soname version and symbol version.
 *
 * Reproducible: the build time and every file's mtime are SOURCE_DATE_EPOCH
 * (install touches every file; rpm clamps as well), which the builder puts
 * into rpmbuild's environment (install refuses to run without it); fixed
 * build host and packager; owners root:root; directories 0755 whatever the
 * umask of the staging step; file modes as staged (the wheel's).
 *
 * Payload: see rpmPayload below.
 */
import { InputError } from '../../errors.ts';
import { SMALL_PAYLOAD, type Payload } from '../../targets/target.ts';
import { rpmChangelogText } from '../changelog.ts';
import type { PackageDependency, PackagePlan } from '../packager.ts';
import { shellQuote } from '../plan.ts';
import { boundVersion, type Bound } from '../ranges.ts';
import { rpmScriptlets } from '../services.ts';
import { mappedVersion, rpmEVR, toRpmVersion, type RpmVersion } from '../version.ts';
import { wrapLine } from '../wrap.ts';

/** Without the target's `payload`: its `small` one, xz level 2, what every rpm reads (see rpmPayload). */
export const DEFAULT_RPM_PAYLOAD: Payload = SMALL_PAYLOAD.rpm;

/**
 * The `_binary_payload` for the target's payload compression:
 * `w<level>T0.zstdio` for zstd, `w<level>.xzdio` for xz.
 *
 * Readers: rpm reads zstd payloads since 4.14 (rpmbuild adds the
 * `rpmlib(PayloadIsZstd)` requirement, which the packager leaves out of the
 * requires it reports): RHEL 8's rpm 4.14.3 does, RHEL 9's 4.16 and Fedora's
 * too; this machine's rpm 4.18 builds and reads them. xz is read by every
 * rpm reqset targets.
 *
 * Threads: `T0` compresses with %{getncpus} libzstd workers. libzstd's
 * output is the same for any number of workers from 1 up, but not the same
 * as its single-threaded mode (no `T`): with rpm 4.18 and libzstd 1.5.4, T1,
 * T2 and T0 (2 CPUs, and pinned to 1) gave the same payload, plain `w3`
 * another one. The header keeps the flags as written (PAYLOADFLAGS `3T0`),
 * not the number of threads, so the package does not depend on the CPUs of
 * the machine that builds it (test/integration/rpm-packager.test.ts builds
 * it with 1 and 2 CPUs). xz stays single-threaded: rpm's multi-threaded xz
 * cuts the payload into blocks, which makes it larger and other bytes than
 * the single-threaded xz of every earlier reqset package, and was no faster
 * here.
 *
 * Deltas: the files are stored as they are, so makedeltarpm only has to
 * describe the changed files; applydeltarpm rebuilds the new payload and
 * compresses it again, which reproduces the package byte for byte only when
 * the compressor gives the same output for the same input on the machine
 * that applies the delta. liblzma's output for a preset has stayed the same
 * across its versions (Fedora shipped w2.xzdio payloads with delta RPMs for
 * years); zstd makes no such promise between libzstd versions, so a client
 * whose libzstd compresses differently from the builder's cannot rebuild the
 * package from a delta (the rebuilt package does not match, and the client
 * has to fetch the full package: the delta was wasted). On the same
 * libraries zstd deltas do round-trip (rpm 4.18, deltarpm 3.6.3, libzstd
 * 1.5.4: xz and zstd alike, checked by test/integration/rpm-packager.test.ts).
 * That is the trade-off: zstd builds several times faster and decompresses
 * faster; xz keeps deltas usable across client library versions. el8 stays
 * on xz level 2, and a fleet that relies on delta RPMs can set
 * `payload: { compression: xz, level: 2 }` on any target.
 *
 * Measured with RpmPackager on the numpy 2.4.6 wheel (58 MB unpacked,
 * rpm 4.18, deltarpm 3.6.3, 2 CPUs shared with other work), and a delta to
 * the same tree with one changed file:
 *
 *   payload      package   build   delta    applydeltarpm -r
 *   w2.xzdio     12.3 MB   12.2 s  185 kB   11.6 s
 *   w3T0.zstdio  15.2 MB    1.9 s  185 kB    0.5 s
 *
 * (Earlier, a 6.5 MB tree: w9.gzdio 2.31 MB / 2.1 s, w2.xzdio 2.00 MB /
 * 3.0 s, w6.xzdio 1.85 MB / 9.2 s, w3.zstdio 2.40 MB / 1.9 s, w19.zstdio
 * 1.98 MB / 6.5 s; gzip is not offered: zlib's output differs with zlib-ng,
 * Fedora 40's zlib, and zstd is faster and smaller anyway.)
 */
export function rpmPayload(payload: Payload = DEFAULT_RPM_PAYLOAD): string {
  switch (payload.compression) {
    case 'zstd':
      return `w${payload.level}T0.zstdio`;
    case 'xz':
      return `w${payload.level}.xzdio`;
  }
}

/** The RPM file digest algorithm: 8 = SHA-256 (rpm's default since 4.6 on RHEL/Fedora). */
export const FILE_DIGEST_ALGORITHM = 8;

export interface RpmSpecOptions {
  /** The staged tree (laid out as the target's file system): the build root, `rpmbuild --buildroot`. */
  root: string;
  /** SOURCE_DATE_EPOCH: every timestamp of the package. */
  epoch: number;
  /** The Packager tag. */
  packager: string;
  /** The Vendor tag; none: no tag. */
  vendor?: string;
  /** The payload compression (the target's); none: DEFAULT_RPM_PAYLOAD. */
  payload?: Payload;
}

const RPM_NAME = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/;
/** Characters allowed in package paths: nothing that rpm globs, expands or splits. */
const SAFE_PATH = /^(\/[A-Za-z0-9_.+!@,=:~-]+)+$/;

/** `%` starts a macro everywhere in a spec; `%%` is a literal `%`. */
function escapeMacros(text: string): string {
  return text.replace(/%/g, '%%');
}

/** A one-line tag value: whitespace runs (newlines too) become one space. */
function tagValue(plan: PackagePlan, tag: string, text: string): string {
  const value = text.replace(/\s+/g, ' ').trim();
  if (!value) throw new InputError(`${plan.name}: the RPM ${tag} must not be empty`);
  return escapeMacros(value);
}

/**
 * Description lines: a line starting with `%` (after macro expansion) would
 * open a spec section, so such lines get a leading space (rpm shows lines with
 * leading white space verbatim). Long lines are wrapped first, to at most 78
 * characters: with that space still within the 79 rpmlint allows
 * (description-line-too-long).
 */
function descriptionText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .trim()
    .split('\n')
    .flatMap((line) => wrapLine(line.trimEnd(), 79))
    .map((line) => (/^\s*%/.test(line) ? ` ${line}` : line))
    .map(escapeMacros)
    .join('\n');
}

function checkPath(plan: PackagePlan, what: string, file: string): string {
  if (!SAFE_PATH.test(file) || file.split('/').some((part) => part === '.' || part === '..')) {
    throw new InputError(
      `${plan.name}: cannot package the ${what} ${JSON.stringify(file)}: package paths must be absolute and made of letters, digits and _ . + ! @ , = : ~ - only`,
    );
  }
  return file;
}

export function rpmVersionOf(plan: Pick<PackagePlan, 'pep440' | 'release' | 'epoch'>): RpmVersion {
  const v = toRpmVersion(plan.pep440, plan.release);
  return plan.epoch === undefined ? v : { ...v, epoch: plan.epoch };
}

/** The virtual name under which a wheel package provides its distribution. */
export const rpmPydistName = (reqset: string, key: string) => `${reqset}-pydist(${key})`;

/** `name >= 1.0`, or a rich dependency `(name >= 1.0 with name < 2.0~~)` for a range. */
function rpmBounded(name: string, bounds: Bound[]): string {
  const clauses = bounds.map((b) => `${name} ${b.op} ${boundVersion(b)}`);
  if (clauses.length === 0) return name;
  return clauses.length === 1 ? (clauses[0] as string) : `(${clauses.join(' with ')})`;
}

/** The `Provides:` value of a wheel package: its distribution at its PEP 440 version. */
export function rpmProvides(plan: PackagePlan): string[] {
  if (!plan.pydist) return [];
  return [`${rpmPydistName(plan.pydist.reqset, plan.pydist.key)} = ${boundVersion(mappedVersion(plan.pydist.pep440))}`];
}

/** One dependency as written after `Requires:`. */
export function rpmDependency(dependency: PackageDependency): string {
  switch (dependency.kind) {
    case 'pydist':
      return rpmBounded(rpmPydistName(dependency.reqset, dependency.key), dependency.bounds);
    case 'package':
      return `${dependency.name} = ${rpmEVR(rpmVersionOf(dependency.version))}`;
    case 'any':
      return dependency.name;
    case 'python':
      return `python(abi) = ${dependency.version}`;
    case 'system':
      return dependency.text.trim();
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The values of the package's `Requires:` lines. */
export function rpmDependencies(plan: PackagePlan): string[] {
  return unique(plan.requires.map(rpmDependency));
}

/** The values of the `Requires(post)`, `Requires(preun)` and `Requires(postun)` lines. */
export function rpmScriptletDependencies(plan: PackagePlan): string[] {
  return unique(['/bin/sh', ...plan.scriptletRequires.map(rpmDependency)]);
}

/** `name-version-release.arch.rpm`, as rpmbuild names it with reqset's _build_name_fmt. */
export function rpmFileName(plan: PackagePlan): string {
  const v = rpmVersionOf(plan);
  return `${plan.name}-${v.version}-${v.release}.${plan.arch}.rpm`;
}

/** `[E:]V-R`, as rpm and dnf show the package's version. */
export function rpmDisplayVersion(plan: PackagePlan): string {
  return rpmEVR(rpmVersionOf(plan));
}

/** POSIX extended regular expression for a literal string. */
function regexEscape(text: string): string {
  return text.replace(/[.[\]()*+?{}|^$\\]/g, '\\$&');
}

/**
 * The `__requires_exclude` regular expression for private libraries, or
 * undefined. A bundled `libfoo-1a2b3c4d.so.1.2` is matched as
 * `libfoo-1a2b3c4d.so` with any further version and any `(...)` suffix, so
 * `libfoo-1a2b3c4d.so.1()(64bit)` and `libfoo-1a2b3c4d.so.1(FOO_1)(64bit)`
 * are dropped alike.
 */
export function privateLibrariesRegex(libraries: string[]): string | undefined {
  const bases = unique(
    libraries.map((file) => {
      const name = file.split('/').pop() ?? file;
      const so = /\.so(?=\.|$)/.exec(name);
      return so ? name.slice(0, so.index + 3) : name;
    }),
  ).sort();
  if (bases.length === 0) return undefined;
  return `^(${bases.map(regexEscape).join('|')})([.(].*)?$`;
}

/**
 * A scriptlet body: `set -e`, then the snippet, guarded on `$1` where asked.
 * Like description lines, a line starting with `%` gets a leading space.
 */
function scriptlet(section: string, snippet: string | undefined, onlyOnErase: boolean): string[] {
  if (!snippet?.trim()) return [];
  const body = escapeMacros(
    snippet
      .replace(/\r\n?/g, '\n')
      .trim()
      .split('\n')
      .map((line) => (/^\s*%/.test(line) ? ` ${line}` : line))
      .join('\n'),
  );
  if (!onlyOnErase) return ['', section, 'set -e', body];
  const indented = body.replace(/^(?=.)/gm, '  ');
  return ['', section, 'set -e', '# $1 is the number of instances left: 0 on erase, 1 or more on upgrade', 'if [ "$1" -eq 0 ]; then', indented, 'fi'];
}

/** The `%global` lines: what rpmbuild must not do to the files, the dependency generators, reproducibility, payload. */
function macroSettings(plan: PackagePlan, options: RpmSpecOptions): string[] {
  const excludeRequires = privateLibrariesRegex(plan.privateLibraries);
  return [
    '# Nothing may change, add or drop files: no strip, byte-compiling, debuginfo,',
    '# build-id links or shebang mangling.',
    '%global __spec_install_post %{nil}',
    '%global __os_install_post %{nil}',
    '%global __arch_install_post %{nil}',
    '%global __debug_install_post %{nil}',
    '%global debug_package %{nil}',
    '%global _build_id_links none',
    '# The build root is the staged tree (rpmbuild --buildroot): install does not empty it.',
    '%global __spec_install_pre %{___build_pre}',
    '# Dependency generators: only the ELF one (made in install below).',
    '%global _fileattrsdir %{_topdir}/reqset-fileattrs',
    '%global __provides_exclude_from ^/.*$',
    ...(excludeRequires
      ? [
          '# Private libraries bundled in the wheel (found through its RPATH).',
          // rpm's macro expansion turns `\\` into `\`.
          `%global __requires_exclude ${escapeMacros(excludeRequires.replace(/\\/g, '\\\\'))}`,
        ]
      : []),
    '# Reproducible builds.',
    '%global source_date_epoch_from_changelog 0',
    '%global use_source_date_epoch_as_buildtime 1',
    '%global clamp_mtime_to_source_date_epoch 1',
    '%global _buildhost reqset',
    `%global _binary_payload ${rpmPayload(options.payload)}`,
    `%global _binary_filedigest_algorithm ${FILE_DIGEST_ALGORITHM}`,
  ];
}

/**
 * %install works in the staged tree itself (the build root): it checks how
 * rpmbuild was called, adds the owned directories and sets every time;
 * %clean leaves the tree to whoever staged it.
 */
function installAndClean(plan: PackagePlan, options: RpmSpecOptions, ownedDirs: string[]): string[] {
  const buildRoot = options.root.replace(/\/+$/, '');
  return [
    '',
    '%install',
    'umask 022',
    `if [ "$SOURCE_DATE_EPOCH" != ${options.epoch} ]; then echo "SOURCE_DATE_EPOCH must be ${options.epoch} for a reproducible build" >&2; exit 1; fi`,
    ...(plan.arch === 'noarch'
      ? []
      : [`if [ "%{_target_cpu}" != ${plan.arch} ]; then echo "build this package with rpmbuild --target ${plan.arch}" >&2; exit 1; fi`]),
    `if [ "%{buildroot}" != ${escapeMacros(shellQuote(buildRoot))} ]; then echo ${escapeMacros(shellQuote(`build this package with rpmbuild --buildroot ${buildRoot}`))} >&2; exit 1; fi`,
    '# The only dependency generator: ELF (see _fileattrsdir).',
    'mkdir -p "%{_fileattrsdir}"',
    'cp "%{_rpmconfigdir}/fileattrs/elf.attr" "%{_fileattrsdir}/"',
    ...ownedDirs.map((dir) => `mkdir -p "%{buildroot}${dir}"`),
    '# Every timestamp is SOURCE_DATE_EPOCH, whatever times the staged tree has.',
    `find "%{buildroot}" -exec touch -h -d @${options.epoch} {} +`,
    '',
    '%clean',
    '# Nothing: the build root is the staged tree, which its owner removes.',
  ];
}

export function rpmSpec(plan: PackagePlan, options: RpmSpecOptions): string {
  if (!RPM_NAME.test(plan.name)) throw new InputError(`invalid RPM package name ${JSON.stringify(plan.name)}`);
  if (!Number.isSafeInteger(options.epoch) || options.epoch < 0) {
    throw new Error(`internal: invalid SOURCE_DATE_EPOCH ${options.epoch}`);
  }
  const v = rpmVersionOf(plan);
  const contents = plan.contents.map((p) => checkPath(plan, 'path', p));
  const ownedDirs = plan.ownedDirs.map((p) => checkPath(plan, 'directory', p));
  const ghosts = plan.ghostFiles.map((p) => checkPath(plan, 'file', p));
  const configs = (plan.configFiles ?? []).map((c) => ({ path: checkPath(plan, 'configuration file', c.path), mode: c.mode }));
  if (contents.length + ownedDirs.length + ghosts.length + configs.length === 0) throw new InputError(`${plan.name}: the package has no files`);
  const scriptlets = rpmScriptlets(plan);

  const lines: string[] = [
    `# ${plan.name} ${rpmEVR(v)}: generated by reqset, do not edit.`,
    `# Build with SOURCE_DATE_EPOCH=${options.epoch} in the environment${plan.arch === 'noarch' ? '' : ` and rpmbuild --target ${plan.arch}`}.`,
    '',
    ...macroSettings(plan, options),
    '',
    `Name: ${plan.name}`,
  ];
  if (v.epoch > 0) lines.push(`Epoch: ${v.epoch}`);
  lines.push(
    `Version: ${v.version}`,
    `Release: ${v.release}`,
    `Summary: ${tagValue(plan, 'Summary', plan.summary)}`,
    `License: ${tagValue(plan, 'License', plan.license)}`,
  );
  if (plan.url?.trim()) lines.push(`URL: ${tagValue(plan, 'URL', plan.url)}`);
  // rpmbuild refuses a BuildArch its host cannot run ("No compatible
  // architectures found for build"), so an arch package is built with
  // `rpmbuild --target <arch>` instead (install checks that it was).
  if (plan.arch === 'noarch') lines.push('BuildArch: noarch');
  lines.push(`Packager: ${tagValue(plan, 'Packager', options.packager)}`);
  if (options.vendor) lines.push(`Vendor: ${tagValue(plan, 'Vendor', options.vendor)}`);

  for (const provide of rpmProvides(plan)) lines.push(`Provides: ${escapeMacros(provide)}`);
  for (const dependency of rpmDependencies(plan)) lines.push(`Requires: ${escapeMacros(dependency)}`);
  const phases: [keyof PackagePlan['scriptlets'], string][] = [
    ['afterInstall', 'post'],
    ['beforeRemove', 'preun'],
    ['afterRemove', 'postun'],
  ];
  for (const [key, phase] of phases) {
    if (!scriptlets[key]?.trim()) continue;
    for (const dependency of rpmScriptletDependencies(plan)) lines.push(`Requires(${phase}): ${escapeMacros(dependency)}`);
  }

  lines.push('', '%description', descriptionText(plan.description));

  lines.push(...installAndClean(plan, options, ownedDirs));
  lines.push('', '%files', '%defattr(-,root,root,0755)');
  for (const dir of ownedDirs) lines.push(`%dir ${dir}`);
  for (const file of contents) lines.push(file);
  // A %ghost need not exist in the build root: the package owns the path
  // (erase removes it) without carrying it in the payload.
  for (const file of ghosts) lines.push(`%ghost %attr(0644,root,root) ${file}`);
  // An edited configuration file stays; the new one is written beside it as .rpmnew.
  for (const config of configs) lines.push(`%config(noreplace) %attr(${config.mode.toString(8).padStart(4, '0')},root,root) ${config.path}`);

  lines.push(...scriptlet('%post', scriptlets.afterInstall, false));
  lines.push(...scriptlet('%preun', scriptlets.beforeRemove, true));
  lines.push(...scriptlet('%postun', scriptlets.afterRemove, true));
  if (plan.changelog?.length) {
    const packager = options.packager.replace(/\s+/g, ' ').trim();
    lines.push('', '%changelog', escapeMacros(rpmChangelogText(plan.changelog, { epoch: options.epoch, packager, evr: rpmEVR(v) })));
  }
  return `${lines.join('\n')}\n`;
}
