/**
 * A changelog entry per package version, and the Debian copyright file.
 *
 * The entry of a version compares the package with the highest version
 * published before it (history.ts publishedBefore), not with the newest one:
 * a rebuild of an unchanged package, whose own version is by then the newest,
 * writes the same entry again, so its bytes stay the same. The entry is given
 * to the plan after its version is decided and is not one of its inputs; the
 * pin lists it compares are inputs (`pins`, `closure`), so the history keeps
 * them with every published version.
 *
 * The texts of each format are written here (neither rpm/ nor deb/ is
 * imported by fpm/, which writes the same texts): RPM's `%changelog`,
 * Debian's `changelog.Debian.gz` (gzip -9 -n: no name, no time) and DEP-5
 * `copyright`.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { normalizeName } from '../python/names.ts';
import type { HistoryEntry } from './history.ts';
import type { PackagePlan } from './packager.ts';

/** A pin list as a package's inputs record it: `name==version` in byte order, space-separated. */
export function pinListSource(pins: { name: string; version: string }[]): string {
  return pins
    .map((p) => `${p.name}==${p.version}`)
    .sort()
    .join(' ');
}

function parsePinList(text: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const item of text.split(' ').filter(Boolean)) {
    const at = item.indexOf('==');
    if (at > 0) pins.set(normalizeName(item.slice(0, at)), item.slice(at + 2));
  }
  return pins;
}

/** Pins added, removed and moved from one version to another, one line each, by name. */
function pinChanges(now: ReadonlyMap<string, string>, before: ReadonlyMap<string, string>): string[] {
  const lines: [string, string][] = [];
  for (const [key, version] of now) {
    const old = before.get(key);
    if (old === undefined) lines.push([key, `Added ${key} ${version}`]);
    else if (old !== version) lines.push([key, `${key} ${old} -> ${version}`]);
  }
  for (const [key, version] of before) if (!now.has(key)) lines.push([key, `Removed ${key} ${version}`]);
  return lines.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line);
}

/** What a package's entry is about: what it ships (`the wheel x.whl`), or the pin list (an input of that name) it requires. */
export type ChangeSubject = { ships: string } | { pinsSource: 'pins' | 'closure'; pins: string };

/**
 * The lines of a version's entry given the version published before it
 * (none: "First build"): a wheel package names its wheel, the endpoint and
 * pins packages list their pins added, removed and moved.
 */
export function changelogLines(subject: ChangeSubject, previous: HistoryEntry | undefined): string[] {
  if ('ships' in subject) return [`${previous ? 'Ships' : 'First build: ships'} ${subject.ships}`];
  if (!previous) return ['First build'];
  const before = previous.sources?.[subject.pinsSource];
  if (before === undefined) return ['Rebuilt; the previous version records no pin list to compare with'];
  const changes = pinChanges(parsePinList(subject.pins), parsePinList(before));
  return changes.length ? changes : ['Rebuilt with the same pins'];
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** 1990-01-01T00:00:00Z: rpmbuild drops a %changelog dated earlier ("bad date in %changelog", and builds on without it). */
export const RPM_EARLIEST_CHANGELOG = 631152000;

/**
 * The entry as the body of RPM's `%changelog`: `* Thu Dec 03 2026
 * <packager> - <EVR>`, a `- ` line per change; dated SOURCE_DATE_EPOCH, or
 * 1990-01-01 for an earlier one (the default 1980-01-01 included).
 */
export function rpmChangelogText(lines: readonly string[], options: { epoch: number; packager: string; evr: string }): string {
  const d = new Date(Math.max(options.epoch, RPM_EARLIEST_CHANGELOG) * 1000);
  const date = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${d.getUTCFullYear()}`;
  return [`* ${date} ${options.packager} - ${options.evr}`, ...lines.map((line) => `- ${line}`)].join('\n');
}

/** RFC 5322 date in UTC, as dpkg-parsechangelog wants it. */
function debianDate(epoch: number): string {
  const d = new Date(epoch * 1000);
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${time} +0000`;
}

/** Words of `text` in lines of at most `width` characters (a longer word alone on its line). */
function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...out, line];
}

/** The Debian changelog entry (deb-changelog(5)): distribution `unstable`, lines within 80 columns where words allow. */
export function debianChangelogText(plan: Pick<PackagePlan, 'name' | 'changelog'>, options: { epoch: number; maintainer: string; version: string }): string {
  const items = (plan.changelog ?? []).flatMap((line) => wrapWords(line, 76).map((part, i) => `${i === 0 ? '  * ' : '    '}${part}`));
  return `${plan.name} (${options.version}) unstable; urgency=medium\n\n${items.join('\n')}\n\n -- ${options.maintainer}  ${debianDate(options.epoch)}\n`;
}

/** What a `.deb` carries in `/usr/share/doc/<name>/`: the changelog (gzip -9, no name or time) and the copyright file. */
export function debianDocFiles(plan: PackagePlan, options: { epoch: number; maintainer: string; version: string }): { dir: string; files: { 'changelog.Debian.gz': Buffer; copyright: Buffer } } {
  return {
    dir: `/usr/share/doc/${plan.name}`,
    files: {
      'changelog.Debian.gz': gzipSync(debianChangelogText(plan, options), { level: 9 }),
      copyright: Buffer.from(debianCopyrightText(plan)),
    },
  };
}

/** SPDX ids whose text Debian ships in /usr/share/common-licenses (base-files), under the same name. */
const COMMON_LICENSES = new Set(['Apache-2.0', 'CC0-1.0', 'GFDL-1.2', 'GFDL-1.3', 'MPL-1.1', 'MPL-2.0']);
/** The files in /usr/share/common-licenses for the ids of an SPDX expression. */
function commonLicenseFiles(expression: string): string[] {
  const files = new Set<string>();
  for (const id of expression.split(/[\s()]+/).filter(Boolean)) {
    if (COMMON_LICENSES.has(id)) files.add(id);
    // GPL-2.0-only -> GPL-2, LGPL-2.1-or-later -> LGPL-2.1 (AGPL has no file there).
    const gnu = /^(L?GPL)-(\d)\.(\d)(?:-only|-or-later|\+)?$/.exec(id);
    if (gnu) files.add(`${gnu[1]}-${gnu[2]}${gnu[3] === '0' ? '' : `.${gnu[3]}`}`);
  }
  return [...files].sort();
}

/**
 * DEP-5 `copyright` (copyright-format 1.0): the License field is the plan's
 * SPDX expression with `and`/`or` as DEP-5 writes them; the text says where
 * the license texts are (the wheel's own license files, which the package
 * ships; Debian's common-licenses for those it has).
 */
export function debianCopyrightText(plan: PackagePlan): string {
  const upstream = plan.upstream ?? 'reqset';
  const license = plan.license.replace(/ AND /g, ' and ').replace(/ OR /g, ' or ');
  const where = plan.upstream
    ? `The license texts are the license files of the ${upstream} wheel, in its .dist-info directory, which this package ships.`
    : `reqset, which wrote this package, is under the ${plan.license} license.`;
  const common = commonLicenseFiles(plan.license).map((f) => `On Debian systems, the full text of ${f} is in /usr/share/common-licenses/${f}.`);
  const body = [where, ...common].flatMap((text) => wrapWords(text, 78)).map((line) => ` ${line}`);
  const header = ['Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/', `Upstream-Name: ${upstream}`, ...(plan.url ? [`Source: ${plan.url}`] : [])];
  // Without statements from the license files, the holders are named without a year (lintian: copyright-without-copyright-notice).
  const [first, ...more] = plan.copyright?.length ? plan.copyright : [`the ${upstream} authors`];
  const copyright = [`Copyright: ${first}`, ...more.map((line) => ` ${line}`)];
  return `${header.join('\n')}\n\nFiles: *\n${copyright.join('\n')}\nLicense: ${license}\n${body.join('\n')}\n`;
}

/**
 * Writes `files` into `dir` (a target path) of the staged tree at `root`, and
 * returns what takes them out again: the tree is the package's own and its
 * owner's (Packager.build), so nothing of the format's stays in it.
 */
export async function stageFiles(root: string, dir: string, files: Record<string, Buffer>): Promise<() => Promise<void>> {
  const target = path.join(root, dir);
  const created = await mkdir(target, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(target, name), bytes, { mode: 0o644 });
  return async () => {
    if (created) await rm(created, { recursive: true, force: true });
    else for (const name of Object.keys(files)) await rm(path.join(target, name), { force: true });
  };
}
