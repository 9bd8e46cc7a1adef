/**
 * The Debian side of a package plan, as pure functions: the `DEBIAN/control`
 * file, the relations written in `Depends`, the file name and the maintainer
 * scripts. Nothing here touches the file system, so all of it is checked by
 * unit and golden tests; src/packagers/deb/index.ts puts it into a .deb.
 *
 * Relations. A wheel package depends on the distributions it needs through
 * the virtual packages `<reqset>-pydist-<name>` that wheel packages provide
 * at their PEP 440 version (mapped, src/packagers/version.ts), with the
 * bounds of src/packagers/ranges.ts: versioned Provides carry no revision
 * and no package epoch, so a rebuild or a rollback epoch never breaks them.
 * Endpoint and pins packages depend on exact package versions `(= E:U-R)`.
 */
import { InputError } from '../../errors.ts';
import type { PackageDependency, PackagePlan } from '../packager.ts';
import { boundVersion, type Bound } from '../ranges.ts';
import { debScriptlets } from '../services.ts';
import { mappedVersion, toDebianVersion } from '../version.ts';
import { wrapLine } from '../wrap.ts';

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
export function debVersion(plan: Pick<PackagePlan, 'pep440' | 'release' | 'epoch'>): string {
  const full = toDebianVersion(plan.pep440, plan.release);
  if (plan.epoch === undefined) return full;
  const withoutEpoch = full.replace(/^\d+:/, '');
  return `${plan.epoch > 0 ? `${plan.epoch}:` : ''}${withoutEpoch}`;
}

/** The virtual package under which a wheel package provides its distribution. */
export const debPydistName = (reqset: string, key: string) => `${reqset}-pydist-${key}`;

const DEB_OPERATORS = { '<': '<<', '<=': '<=', '=': '=', '>=': '>=', '>': '>>' } as const;

function boundedRelations(name: string, bounds: Bound[]): string[] {
  if (bounds.length === 0) return [name];
  return bounds.map((b) => `${name} (${DEB_OPERATORS[b.op]} ${boundVersion(b)})`);
}

/** The `Provides` relations of a wheel package: its distribution at its PEP 440 version. */
export function debProvides(plan: PackagePlan): string[] {
  if (!plan.pydist) return [];
  const name = checkPackageName(debPydistName(plan.pydist.reqset, plan.pydist.key), 'a provided distribution');
  return [`${name} (= ${boundVersion(mappedVersion(plan.pydist.pep440))})`];
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
    case 'pydist':
      return boundedRelations(checkPackageName(debPydistName(dependency.reqset, dependency.key), 'a dependency'), dependency.bounds);
    case 'package':
      return [`${checkPackageName(dependency.name, 'a dependency')} (= ${debVersion(dependency.version)})`];
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
    // ` ` + each part stays within 79 columns.
    for (const part of wrapLine(line, 79)) out.push(part.startsWith('.') ? `  ${part}` : ` ${part}`);
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
  const provides = debProvides(plan);
  if (provides.length) fields.push(['Provides', provides.join(', ')]);
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
  const scriptlets = debScriptlets(plan);
  const postinst = script(plan, 'postinst', SCRIPT_ACTIONS.afterInstall, scriptlets.afterInstall);
  const prerm = script(plan, 'prerm', SCRIPT_ACTIONS.beforeRemove, scriptlets.beforeRemove);
  const postrm = script(plan, 'postrm', SCRIPT_ACTIONS.afterRemove, scriptlets.afterRemove);
  if (postinst) scripts.postinst = postinst;
  if (prerm) scripts.prerm = prerm;
  if (postrm) scripts.postrm = postrm;
  return scripts;
}

/**
 * `DEBIAN/conffiles`: the plan's configuration files, which dpkg keeps as
 * edited on upgrade, sorted (as fpm writes them); undefined when it has none.
 */
export function debConffiles(plan: PackagePlan): string | undefined {
  const files = (plan.configFiles ?? []).map((c) => c.path).sort();
  const broken = files.find((f) => !f.startsWith('/') || /\s/.test(f));
  if (broken !== undefined) throw new InputError(`${plan.name}: cannot list ${JSON.stringify(broken)} in conffiles: an absolute path without whitespace`);
  return files.length ? files.map((f) => `${f}\n`).join('') : undefined;
}
