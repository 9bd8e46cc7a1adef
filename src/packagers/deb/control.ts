/**
 * The Debian side of a package plan, as pure functions: the `DEBIAN/control`
 * file, the relations written in `Depends`, the file name and the maintainer
 * scripts. Nothing here touches the file system, so all of it is checked by
 * unit and golden tests; src/packagers/deb/index.ts puts it into a .deb.
 *
 * Exact pins. A wheel package needs its dependencies "at exactly this PEP 440
 * version, any package revision". dpkg has no such operator: `(= 1.0)` means
 * the version `1.0` (revision empty/0) and is NOT satisfied by `1.0-1`. So an
 * exact pin becomes a range over the one upstream version U (with its epoch):
 *
 *     name (>= U), name (<< U+~)
 *
 *  - `>= U` holds for nothing whose upstream part sorts below U (dpkg compares
 *    the upstream part first), and for `U-R` for every revision R at or above
 *    0 (`U` alone has an empty revision, which dpkg compares as 0): every
 *    revision reqset or a human writes (`1`, `2`, `1+b1`, `10`, `0`). Only
 *    revisions that sort below 0 (`~x`, `0~x`) are left out.
 *  - `<< U+~` holds for every `U-R` (`U` < `U+~`: the end of a string sorts
 *    below `+`) and for nothing whose upstream part sorts above U: every mapped
 *    version above U either differs from U in one of U's letter or digit
 *    runs (`1.0~rc12` vs `1.0~rc1`: then it compares with `U+~` as with U)
 *    or extends U with `+...` or `.N` (src/packagers/version.ts), and `+~`
 *    sorts below both (`~` below every letter, `+` below `.`).
 * test/integration/deb-packager.test.ts checks this with `dpkg
 * --compare-versions` on many neighbouring versions, and with a real
 * `dpkg --install` that accepts `-2` of the pinned version and refuses its
 * post-release.
 */
import { InputError } from '../../errors.ts';
import type { PackageDependency, PackagePlan } from '../packager.ts';
import { toDebianVersion } from '../version.ts';

export interface ControlOptions {
  /** Installed-Size in KiB (dpkg's estimate of the unpacked size). */
  installedSizeKiB: number;
  /** `Name <email>`. */
  maintainer: string;
  /** Relations computed from the shared libraries the package's ELF files need. */
  shlibsDepends?: string[];
}

export interface MaintainerScripts {
  postinst?: string;
  prerm?: string;
  postrm?: string;
}

/** Debian policy 5.6.1: lower case letters, digits, `+ - .`, starting alphanumeric, at least two characters. */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** The maintainer-script actions that run each scriptlet (see debMaintainerScripts). */
export const SCRIPT_ACTIONS = {
  /**
   * postinst. `configure` ends every install, upgrade, downgrade and
   * reinstall; the `abort-*` actions run the old version's postinst when an
   * upgrade or removal is rolled back, after its own postrm/prerm may already
   * have undone its state: running afterInstall again restores it.
   */
  afterInstall: ['configure', 'abort-upgrade', 'abort-remove', 'abort-deconfigure'],
  /** prerm: only when the package goes away for good (not `upgrade`, `deconfigure`, `failed-upgrade`). */
  beforeRemove: ['remove'],
  /**
   * postrm. `upgrade` is the old version's postrm after the new files are
   * unpacked and before the new postinst `configure`, which recreates what it
   * needs even when the file name is the same; `abort-install`/`abort-upgrade`
   * are the new version's postrm when its unpacking is rolled back.
   */
  afterRemove: ['remove', 'purge', 'upgrade', 'failed-upgrade', 'abort-install', 'abort-upgrade', 'disappear'],
} as const;

export function debArchitecture(plan: PackagePlan): 'all' | 'amd64' | 'arm64' {
  switch (plan.arch) {
    case 'noarch':
      return 'all';
    case 'x86_64':
      return 'amd64';
    case 'aarch64':
      return 'arm64';
  }
}

/** `[epoch:]upstream-revision`, e.g. `1:2.0~rc1-1`. */
export function debVersion(plan: PackagePlan): string {
  return toDebianVersion(plan.pep440, plan.release);
}

/** `[epoch:]upstream` of a PEP 440 version, without a revision. */
export function debUpstreamVersion(pep440: string): string {
  return toDebianVersion(pep440, '0').replace(/-0$/, '');
}

/** The relations that pin `name` to one PEP 440 version, any revision (see the file comment). */
export function exactRelations(name: string, pep440: string): [string, string] {
  const upstream = debUpstreamVersion(pep440);
  return [`${name} (>= ${upstream})`, `${name} (<< ${upstream}+~)`];
}

/** `python3 (>= 3.11), python3 (<< 3.12)` for version "3.11". */
export function pythonRelations(pkg: string, version: string): [string, string] {
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new InputError(`invalid Python version "${version}": expected major.minor, e.g. "3.11"`);
  return [`${pkg} (>= ${m[1]}.${m[2]})`, `${pkg} (<< ${m[1]}.${Number(m[2]) + 1})`];
}

function checkPackageName(name: string, what: string): string {
  if (!PACKAGE_NAME.test(name)) {
    throw new InputError(`invalid Debian package name "${name}" (${what}): use lower case letters, digits and + - . (at least two characters, starting with a letter or digit)`);
  }
  return name;
}

function relations(dependency: PackageDependency): string[] {
  switch (dependency.kind) {
    case 'exact':
      return exactRelations(checkPackageName(dependency.name, 'a dependency'), dependency.pep440);
    case 'any':
      return [checkPackageName(dependency.name, 'a dependency')];
    case 'python':
      return pythonRelations(checkPackageName(dependency.package, 'the target Python package'), dependency.version);
    case 'system': {
      const text = dependency.text.trim().replace(/\s+/g, ' ');
      if (!text || /[,\n]/.test(text)) {
        throw new InputError(`invalid Debian dependency "${dependency.text}": write one relation per entry (alternatives with "|"), without commas`);
      }
      return [text];
    }
  }
}

/**
 * Every relation of the package's `Depends`, in order, without duplicates:
 * the plan's requires, then its scriptlet requirements (dpkg configures a
 * package's dependencies before running its postinst, so Depends also covers
 * what the scripts need), then the shared-library dependencies.
 */
export function debDependencies(plan: PackagePlan, shlibs: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const relation of [...plan.requires.flatMap(relations), ...plan.scriptletRequires.flatMap(relations), ...shlibs]) {
    if (!out.includes(relation)) out.push(relation);
  }
  return out;
}

/** `name_version_arch.deb`, the epoch left out as dpkg-deb and the archive tools do. */
export function debFileName(plan: PackagePlan): string {
  const version = debVersion(plan).replace(/^\d+:/, '');
  return `${checkPackageName(plan.name, 'the package')}_${version}_${debArchitecture(plan)}.deb`;
}

/** One line of a single-line field: no line breaks, no control characters. */
function singleLine(value: string, field: string): string {
  const text = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  if (!text) throw new InputError(`the Debian ${field} field cannot be empty`);
  return text;
}

/** Wraps one line at spaces so that ` ` + line stays within `width` columns; long words stay whole. */
function wrap(line: string, width: number): string[] {
  if (line.length < width) return [line];
  const indent = /^ */.exec(line)?.[0] ?? '';
  // Lines that start with a space are shown verbatim by apt and dpkg: keep them whole.
  if (indent) return [line];
  const out: string[] = [];
  let current = '';
  for (const word of line.split(/ +/)) {
    if (current && current.length + 1 + word.length >= width) {
      out.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) out.push(current);
  return out;
}

/**
 * The extended description as continuation lines: each line starts with a
 * space, an empty line is ` .`, a line of its own that starts with `.` gets a
 * second space (` .x` is reserved by the format), long lines are wrapped.
 */
function extendedDescription(text: string): string[] {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '')
    .split('\n')
    .map((line) => line.trimEnd());
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  let previousEmpty = false;
  for (const line of lines) {
    if (line === '') {
      if (!previousEmpty) out.push(' .');
      previousEmpty = true;
      continue;
    }
    previousEmpty = false;
    for (const part of wrap(line, 79)) out.push(part.startsWith('.') ? `  ${part}` : ` ${part}`);
  }
  return out;
}

/** The `DEBIAN/control` file of a binary package. */
export function debControl(plan: PackagePlan, options: ControlOptions): string {
  if (!Number.isSafeInteger(options.installedSizeKiB) || options.installedSizeKiB < 0) {
    throw new Error(`internal: invalid Installed-Size ${options.installedSizeKiB}`);
  }
  const fields: [string, string][] = [
    ['Package', checkPackageName(plan.name, 'the package')],
    ['Version', debVersion(plan)],
    ['Architecture', debArchitecture(plan)],
    ['Maintainer', singleLine(options.maintainer, 'Maintainer')],
    ['Installed-Size', String(options.installedSizeKiB)],
  ];
  const depends = debDependencies(plan, options.shlibsDepends);
  if (depends.length) fields.push(['Depends', depends.join(', ')]);
  fields.push(['Section', 'python'], ['Priority', 'optional']);
  if (plan.url?.trim()) {
    const url = singleLine(plan.url, 'Homepage');
    if (/\s/.test(url)) throw new InputError(`invalid Homepage "${plan.url}": a URL cannot contain spaces`);
    fields.push(['Homepage', url]);
  }
  const description = [singleLine(plan.summary, 'Description (the summary)'), ...extendedDescription(plan.description)];
  fields.push(['Description', description.join('\n')]);
  return fields.map(([name, value]) => `${name}: ${value}\n`).join('');
}

/** Indents a snippet for a `case` branch, unless it holds a here-document (whose lines must stay as written). */
function branchBody(snippet: string): string {
  const text = snippet.replace(/\r\n?/g, '\n').replace(/\s+$/, '');
  if (text.includes('<<')) return text;
  return text
    .split('\n')
    .map((line) => (line ? `        ${line}` : line))
    .join('\n');
}

function script(plan: PackagePlan, kind: 'postinst' | 'prerm' | 'postrm', actions: readonly string[], snippet: string | undefined): string | undefined {
  if (!snippet?.trim()) return undefined;
  return (
    `#!/bin/sh\n` +
    `# ${kind} of ${plan.name} ${debVersion(plan)}, generated by reqset.\n` +
    `# dpkg may run a branch again (reinstall, retry after a failure): each is idempotent.\n` +
    `set -e\n` +
    `\n` +
    `case "$1" in\n` +
    `    ${actions.join('|')})\n` +
    `${branchBody(snippet)}\n` +
    `        ;;\n` +
    `esac\n` +
    `\n` +
    `exit 0\n`
  );
}

/**
 * The maintainer scripts for the plan's scriptlets (only those that have
 * something to do). `%ghost` files have no Debian equivalent: the file the
 * postinst creates is removed by the postrm (see SCRIPT_ACTIONS).
 */
export function debMaintainerScripts(plan: PackagePlan): MaintainerScripts {
  const scripts: MaintainerScripts = {};
  const postinst = script(plan, 'postinst', SCRIPT_ACTIONS.afterInstall, plan.scriptlets.afterInstall);
  const prerm = script(plan, 'prerm', SCRIPT_ACTIONS.beforeRemove, plan.scriptlets.beforeRemove);
  const postrm = script(plan, 'postrm', SCRIPT_ACTIONS.afterRemove, plan.scriptlets.afterRemove);
  if (postinst) scripts.postinst = postinst;
  if (prerm) scripts.prerm = prerm;
  if (postrm) scripts.postrm = postrm;
  return scripts;
}
