/**
 * Debian's formats as dpkg-dev's Perl reads them for dpkg-shlibdeps, with no
 * file read and no process started: version order, sonames, symbols and
 * shlibs files, and the shlibs:Depends relations (versions raised, then
 * rendered and sorted). The resolver in shlibs.ts finds the files.
 */

/** What the resolver does not model (thrown here too, for a relation whose parsing is not modelled): that package gets dpkg-shlibdeps. */
export class UnsupportedShlibs extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'UnsupportedShlibs';
  }
}

/** Perl's split: a trailing run of empty fields is dropped (so '' gives none). */
export function perlSplit(text: string, separator: RegExp): string[] {
  const fields = text.split(separator);
  while (fields.length && fields[fields.length - 1] === '') fields.pop();
  return fields;
}

/** dpkg's order of one character in a version part (verrevcmp). */
function charOrder(c: string | undefined): number {
  if (c === undefined || (c >= '0' && c <= '9')) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

function compareVersionPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const diff = charOrder(a[i]) - charOrder(b[j]);
      if (diff) return diff;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let first = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      first ||= a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (first) return first;
  }
  return 0;
}

/** A version split as Dpkg::Version splits it (no epoch: 0, no revision: 0). */
function versionParts(version: string): { epoch: string; upstream: string; revision: string } {
  const e = /^([^:]*):(.+)$/.exec(version);
  const rest = e ? (e[2] as string) : version;
  const r = /^(.*)-(.*)$/.exec(rest);
  return { epoch: e ? (e[1] as string) : '0', upstream: r ? (r[1] as string) : rest, revision: r ? (r[2] as string) : '0' };
}

/** <0, 0, >0 as dpkg orders two versions. */
export function compareDebianVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  return compareVersionPart(x.epoch, y.epoch) || compareVersionPart(x.upstream, y.upstream) || compareVersionPart(x.revision, y.revision);
}

/** Dpkg::Version::version_check. */
export function isValidDebianVersion(version: string): boolean {
  if (version === '') return false;
  const { epoch, upstream, revision } = versionParts(version);
  return epoch !== '' && upstream !== '' && revision !== '' && /^\d/.test(upstream) && /^[-+:.0-9a-zA-Z~]*$/.test(version) && /^\d*$/.test(epoch);
}

/** dpkg-shlibdeps' split_soname: whether `libfoo.so.1` / `libfoo-1.2.so` has a name and a version. */
export function splitSoname(soname: string): { name: string; version: string } | undefined {
  const m = /^(.+)\.so\.(.+)$/.exec(soname) ?? /^(.+)-(\d.*)\.so$/.exec(soname);
  return m ? { name: m[1] as string, version: m[2] as string } : undefined;
}

export interface SymbolEntry {
  minver: string;
  depId: number;
  deprecated: boolean;
}

export interface SymbolsObject {
  /** Dependency templates: the header's, then each `| ` alternative (a symbol's dep_id picks one). */
  deps: string[];
  /** `name@VERSION` -> entry; patterns are left out, as dpkg-shlibdeps never matches them. */
  symbols: Map<string, SymbolEntry>;
}

export interface SymbolsFile {
  objects: Map<string, SymbolsObject>;
  /** Why the resolver cannot use this file as dpkg would, if it cannot. */
  unsupported?: string;
}

/** One symbol line's spec (after its indent), as Dpkg::Shlibs::Symbol parses it; undefined for a pattern or an unparsable line. */
function parseSymbolSpec(spec: string, deprecated: boolean): { name: string; entry: SymbolEntry } | undefined {
  let rest = spec;
  let name: string | undefined;
  const tagged = /^\s*\((.*?)\)(.*)$/.exec(spec);
  const tags = tagged?.[1] ? tagged[1].split('|').map((t) => t.replace(/=.*$/, '')) : [];
  if (tagged?.[1]) {
    const body = tagged[2] as string;
    const quoted = /^(['"])(.*?)\1(.*)$/.exec(body) ?? /^()(\S+)(.*)$/.exec(body);
    if (!quoted || !quoted[2]) return undefined;
    [name, rest] = [quoted[2], quoted[3] as string];
  } else {
    const plain = /^(\S+)(.*)$/.exec(spec);
    if (!plain) return undefined;
    [name, rest] = [plain[1] as string, plain[2] as string];
  }
  // c++, symver and regex tags, and the old `*@VERSION`, make a pattern.
  if (tags.some((t) => t === 'c++' || t === 'symver' || t === 'regex') || /^\*@/.test(name)) return undefined;
  const m = /^\s(\S+)(?:\s(\d+))?/.exec(rest);
  if (!m) return undefined;
  return { name, entry: { minver: m[1] as string, depId: Number(m[2] ?? 0), deprecated } };
}

/** A symbols file as Dpkg::Shlibs::SymbolFile loads it for dpkg-shlibdeps. */
export function parseSymbolsFile(text: string): SymbolsFile {
  const objects = new Map<string, SymbolsObject>();
  let current: SymbolsObject | undefined;
  let unsupported: string | undefined;
  for (const line of perlSplit(text, /\n/)) {
    const symbol = /^(?:\s+|#(?:DEPRECATED|MISSING): ([^#]+)#\s*)(.*)/.exec(line);
    if (symbol) {
      if (!current) {
        unsupported ??= `symbol line before any library line: ${line}`;
        continue;
      }
      const parsed = parseSymbolSpec(symbol[2] as string, symbol[1] !== undefined && isValidDebianVersion(symbol[1]));
      if (parsed) current.symbols.set(parsed.name, parsed.entry);
    } else if (/^(\(.*\))?#include\s+"([^"]+)"/.test(line)) {
      unsupported ??= `#include: ${line}`;
    } else if (/^#|^$/.test(line)) {
      // A comment or an empty line.
    } else if (/^\|\s*(.*)$/.test(line)) {
      if (current) current.deps.push((/^\|\s*(.*)$/.exec(line) as RegExpExecArray)[1] as string);
      else unsupported ??= `alternative before any library line: ${line}`;
    } else if (/^\*\s*([^:]+):\s*(.*\S)\s*$/.test(line)) {
      // A meta field: Build-Depends-Package only matters with build dependencies, which reqset never has.
    } else {
      const header = /^(\S+)\s+(.*)$/.exec(line);
      if (!header) continue;
      const soname = header[1] as string;
      current = objects.get(soname);
      if (current) current.deps = [header[2] as string];
      else objects.set(soname, (current = { deps: [header[2] as string], symbols: new Map() }));
    }
  }
  return { objects, ...(unsupported !== undefined ? { unsupported } : {}) };
}

/** get_smallest_version's answers, per object and template (libstdc++6's file alone has thousands of symbols). */
const smallestVersions = new WeakMap<SymbolsObject, Map<number, string | undefined>>();

/** The smallest minimum version among an object's symbols for one dependency template (get_smallest_version). */
export function smallestVersion(object: SymbolsObject, depId: number): string | undefined {
  let known = smallestVersions.get(object);
  if (!known) smallestVersions.set(object, (known = new Map()));
  if (known.has(depId)) return known.get(depId);
  let min: string | undefined;
  for (const entry of object.symbols.values()) {
    if (entry.depId !== depId) continue;
    if (min === undefined || compareDebianVersions(min, entry.minver) > 0) min = entry.minver;
  }
  known.set(depId, min);
  return min;
}

/** The dependency a shlibs file gives `soname` (extract_from_shlibs): the `deb:` line, else the first untyped one. */
export function shlibsEntry(text: string, soname: string): string | undefined {
  const split = splitSoname(soname);
  if (!split) return undefined;
  let dep: string | undefined;
  for (const raw of perlSplit(text, /\n/)) {
    const line = raw.replace(/\s*$/, '');
    if (line.startsWith('#')) continue;
    const m = /^\s*(?:(\S+):\s+)?(\S+)\s+(\S+)(?:\s+(\S.*\S))?\s*$/.exec(line);
    if (!m || m[2] !== split.name || m[3] !== split.version) continue;
    if (m[1] === undefined) dep ??= m[4] ?? '';
    else if (m[1] === 'deb') return m[4] ?? '';
  }
  return dep;
}

/** Template -> minimum version ('' for none), as dpkg-shlibdeps' %dependencies for one field. */
export type Relations = Map<string, string>;

/** update_dependency_version: each relation of `dep` gets the higher of its version and `minver`. */
export function raiseVersion(relations: Relations, dep: string, minver: string): void {
  for (const relation of perlSplit(dep, /\s*,\s*/)) {
    const current = relations.get(relation);
    if (current === undefined || current === '' || (minver !== '' && compareDebianVersions(minver, current) > 0)) relations.set(relation, minver);
  }
}

interface Simple {
  package: string;
  archqual?: string;
  relation?: string;
  version?: string;
}

const RELATION_ORDER: Record<string, number> = { '': 0, '>=': 1, '>>': 2, '=': 3, '<<': 4, '<=': 5 };

/** Dpkg::Deps::Simple's parse, for what dpkg-shlibdeps can generate (architecture lists and profiles are not modelled). */
function parseSimple(text: string): Simple {
  const m = /^\s*([a-zA-Z0-9][a-zA-Z0-9+.-]*)(?::([a-zA-Z0-9][a-zA-Z0-9-]*))?(?:\s*\(\s*(<<|<=|=|>=|>>|[<>])\s*([^)\s]+)\s*\))?\s*$/.exec(text);
  if (!m || m[2] === 'native') throw new UnsupportedShlibs(`a generated relation dpkg's parser is not modelled for: ${text}`);
  const relation = m[3] === '<' ? '<=' : m[3] === '>' ? '>=' : m[3];
  return { package: m[1] as string, ...(m[2] ? { archqual: m[2] } : {}), ...(relation ? { relation, version: m[4] as string } : {}) };
}

/** Dpkg::Deps::deps_compare on two OR lists. */
function compareAlternatives(a: readonly Simple[], b: readonly Simple[]): number {
  for (let i = 0; ; i++) {
    const [x, y] = [a[i], b[i]];
    if (!x || !y) return !x && !y ? 0 : x ? 1 : -1;
    const byName = x.package < y.package ? -1 : x.package > y.package ? 1 : 0;
    const byRelation = (RELATION_ORDER[x.relation ?? ''] as number) - (RELATION_ORDER[y.relation ?? ''] as number);
    const [xv, yv] = [x.version ?? '', y.version ?? ''];
    const result = byName || byRelation || (xv < yv ? -1 : xv > yv ? 1 : 0);
    if (result) return result;
  }
}

/** The relations as dpkg-shlibdeps writes shlibs:Depends: #MINVER# filled in, parsed, sorted, one string each. */
export function renderRelations(relations: Relations): string[] {
  const templates = [...relations].map(([template, version]) => {
    // Perl's truth: '' and '0' are false, so `(>= 0)` is never written.
    const versioned = version !== '' && version !== '0' && isValidDebianVersion(version);
    return template.replace(/#MINVER#/g, versioned ? `(>= ${version})` : '').replace(/\s+/g, ' ');
  });
  const line = templates.join(', ').trim();
  const parsed = perlSplit(line, /\s*,\s*/)
    .map((and) => perlSplit(and, /\s*\|\s*/).map(parseSimple))
    .filter((alternatives) => alternatives.length > 0);
  const render = (s: Simple) => `${s.package}${s.archqual ? `:${s.archqual}` : ''}${s.relation ? ` (${s.relation} ${s.version})` : ''}`;
  return parsed.sort(compareAlternatives).map((alternatives) => alternatives.map(render).join(' | '));
}
