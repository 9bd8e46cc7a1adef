/**
 * Parsers for the text files inside a wheel's `.dist-info` directory (the
 * wheel file name's parser is in python/tags.ts). Pure functions: no I/O. Each
 * parser throws an InputError whose problem list says what is wrong and where
 * (line numbers); the wheel reader (source.ts) prefixes those problems with
 * the member path.
 */
import { InputError } from '../errors.ts';
import { isValidName, normalizeName } from '../python/names.ts';

// ---------------------------------------------------------------------------
// Names

export { normalizeName };

/** The same folding applied to a version, for comparing file names with metadata. */
export function normalizeVersionText(version: string): string {
  return version.trim().replace(/[-_.]+/g, '-').toLowerCase();
}

/** A PEP 508 distribution name (as written in METADATA `Name`). */

// ---------------------------------------------------------------------------
// RFC 822-style header files (METADATA, WHEEL)

export interface HeaderField {
  /** As written (case preserved). */
  name: string;
  value: string;
  line: number;
}

/**
 * The header block of an email-style file: `Name: value` lines, continuation
 * lines starting with a space or tab (unfolded with one space), ending at the
 * first blank line. Like Python's email parser (which pip and importlib.metadata
 * use), a line that is not a header ends the header block; the body is ignored.
 */
export function parseHeaders(text: string): HeaderField[] {
  const fields: HeaderField[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') break;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = fields[fields.length - 1];
      if (!last) break; // leading whitespace before any header: not a header block
      const more = line.trim();
      if (more) last.value = last.value ? `${last.value} ${more}` : more;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) break;
    fields.push({ name, value: line.slice(colon + 1).trim(), line: i + 1 });
  }
  return fields;
}

class HeaderSet {
  private readonly byKey = new Map<string, HeaderField[]>();
  constructor(fields: HeaderField[]) {
    for (const f of fields) {
      const key = f.name.toLowerCase();
      const list = this.byKey.get(key);
      if (list) list.push(f);
      else this.byKey.set(key, [f]);
    }
  }
  all(name: string): string[] {
    return (this.byKey.get(name.toLowerCase()) ?? []).map((f) => f.value);
  }
  /** A single-valued field; a repeated one is a problem. */
  one(name: string, problems: string[]): string | undefined {
    const list = this.byKey.get(name.toLowerCase()) ?? [];
    if (list.length > 1) {
      problems.push(`field ${name} appears ${list.length} times (lines ${list.map((f) => f.line).join(', ')}); it must appear at most once`);
    }
    return list[0]?.value;
  }
}

// ---------------------------------------------------------------------------
// METADATA (core metadata)

export interface CoreMetadata {
  metadataVersion: string;
  name: string;
  version: string;
  summary?: string;
  requiresPython?: string;
  /** SPDX license expression (licenseOf), when the metadata declares one. */
  license?: string;
  /** The project's home page (homePageOf), when it names one. */
  homePage?: string;
  /** Every `Requires-Dist` value as written (PEP 508 requirement strings). */
  requiresDist: string[];
  providesExtra: string[];
}

/** Parse a METADATA (or PKG-INFO) file. Throws InputError listing every problem. */
export function parseCoreMetadata(text: string): CoreMetadata {
  const headers = new HeaderSet(parseHeaders(text));
  const problems: string[] = [];
  const metadataVersion = headers.one('Metadata-Version', problems);
  const name = headers.one('Name', problems);
  const version = headers.one('Version', problems);
  const summary = headers.one('Summary', problems);
  const requiresPython = headers.one('Requires-Python', problems);

  if (metadataVersion === undefined) problems.push('required field Metadata-Version is missing');
  else if (!/^\d+\.\d+$/.test(metadataVersion)) problems.push(`Metadata-Version ${JSON.stringify(metadataVersion)} is not of the form MAJOR.MINOR`);
  if (name === undefined || name === '') problems.push('required field Name is missing or empty');
  else if (!isValidName(name)) problems.push(`Name ${JSON.stringify(name)} is not a valid distribution name`);
  if (version === undefined || version === '') problems.push('required field Version is missing or empty');
  else if (/\s/.test(version)) problems.push(`Version ${JSON.stringify(version)} contains whitespace`);

  const requiresDist = headers.all('Requires-Dist');
  requiresDist.forEach((r, i) => {
    if (r === '') problems.push(`Requires-Dist #${i + 1} is empty`);
  });
  const providesExtra = headers.all('Provides-Extra');
  providesExtra.forEach((e, i) => {
    if (e === '') problems.push(`Provides-Extra #${i + 1} is empty`);
  });

  // Only described, never checked: the first of a repeated field, as pip would not refuse the wheel for it.
  const license = licenseOf(headers.all('License-Expression')[0], headers.all('Classifier'), headers.all('License')[0]);
  const homePage = homePageOf(headers.all('Home-page')[0], headers.all('Project-URL'));

  if (problems.length) throw new InputError('invalid core metadata', problems);
  return {
    metadataVersion: metadataVersion as string,
    name: name as string,
    version: version as string,
    ...(summary !== undefined ? { summary } : {}),
    ...(requiresPython !== undefined ? { requiresPython } : {}),
    ...(license !== undefined ? { license } : {}),
    ...(homePage !== undefined ? { homePage } : {}),
    requiresDist,
    providesExtra,
  };
}

// ---------------------------------------------------------------------------
// License and home page

/** SPDX ids of the `License ::` classifiers in common use (PEP 639's mapping for the unambiguous ones). */
const LICENSE_CLASSIFIERS: Readonly<Record<string, string>> = {
  'License :: OSI Approved :: MIT License': 'MIT',
  'License :: OSI Approved :: MIT No Attribution License (MIT-0)': 'MIT-0',
  'License :: OSI Approved :: Apache Software License': 'Apache-2.0',
  'License :: OSI Approved :: ISC License (ISCL)': 'ISC',
  'License :: OSI Approved :: Python Software Foundation License': 'PSF-2.0',
  'License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'License :: OSI Approved :: GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'License :: OSI Approved :: GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)': 'LGPL-2.0-only',
  'License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'License :: OSI Approved :: GNU Affero General Public License v3': 'AGPL-3.0-only',
  'License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)': 'AGPL-3.0-or-later',
  'License :: OSI Approved :: The Unlicense (Unlicense)': 'Unlicense',
  'License :: OSI Approved :: zlib/libpng License': 'Zlib',
  'License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)': 'BSL-1.0',
  'License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)': 'EPL-2.0',
  'License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)': 'EUPL-1.2',
  'License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication': 'CC0-1.0',
};

/** Classifiers that say nothing about which license: left out rather than made a LicenseRef. */
const VAGUE_CLASSIFIERS: ReadonlySet<string> = new Set(['License :: OSI Approved', 'License :: DFSG approved', 'License :: Free for non-commercial use']);

/** The characters of an SPDX expression (ids, LicenseRefs, AND/OR/WITH, parentheses) on one line: PEP 639's License-Expression. */
const SPDX_EXPRESSION = /^[A-Za-z0-9.+() -]+$/;
/** A short license name in the free-text `License` field: one token of an SPDX id's characters. */
const LICENSE_ID = /^[A-Za-z][A-Za-z0-9.+-]{0,40}$/;

/** `LicenseRef-` and the text in the characters SPDX allows there: an honest name for a license without an SPDX id. */
export const licenseRef = (text: string) => `LicenseRef-${text.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown'}`;

/**
 * The wheel's license as an SPDX expression: `License-Expression` (PEP 639)
 * as written; else the `License ::` classifiers, each mapped to its SPDX id
 * (an unmapped one to a LicenseRef of its last part), several joined with
 * OR (a project that lists two licenses offers either, as the classifiers
 * cannot say more); else the `License` field when it is one short name (many
 * hold the whole license text). Undefined when none of these says.
 */
export function licenseOf(expression: string | undefined, classifiers: string[], field: string | undefined): string | undefined {
  const declared = expression?.trim();
  if (declared && SPDX_EXPRESSION.test(declared)) return declared;
  const named = classifiers
    .map((c) => c.replace(/\s*::\s*/g, ' :: ').trim())
    .filter((c) => c.startsWith('License ::') && !VAGUE_CLASSIFIERS.has(c))
    .map((c) => LICENSE_CLASSIFIERS[c] ?? licenseRef(c.split(' :: ').pop() as string));
  const ids = [...new Set(named)].sort();
  if (ids.length) return ids.length === 1 ? ids[0] : ids.join(' OR ');
  const short = field?.trim();
  if (short && LICENSE_ID.test(short) && !/^(unknown|none|other|unlicensed|proprietary)$/i.test(short)) return short;
  return undefined;
}

/** Project-URL labels that name the project's home, best first (normalised as PEP 753 does: lower case, no punctuation or space). */
const HOME_LABELS = ['homepage', 'source', 'repository'];

const isWebUrl = (url: string) => /^https?:\/\/[^\s/]+[^\s]*$/i.test(url);

/** `Home-page`, else the `Project-URL` labelled Homepage, Source or Repository (in that order); only http(s) URLs. */
export function homePageOf(homePage: string | undefined, projectUrls: string[]): string | undefined {
  if (homePage && isWebUrl(homePage.trim())) return homePage.trim();
  const labelled = projectUrls.map((entry) => {
    const comma = entry.indexOf(',');
    return { label: entry.slice(0, Math.max(comma, 0)).replace(/[^A-Za-z0-9]/g, '').toLowerCase(), url: entry.slice(comma + 1).trim() };
  });
  for (const label of HOME_LABELS) {
    const found = labelled.find((l) => l.label === label && isWebUrl(l.url));
    if (found) return found.url;
  }
  return undefined;
}

/** Most license files read for copyright notices (numpy has 17). */
const MAX_LICENSE_FILES = 32;
/** Most notices kept: the Copyright field of a package, not a copy of the license files. */
const MAX_NOTICES = 40;

/**
 * The members of a wheel that hold its license texts: everything under
 * `.dist-info/licenses/` (PEP 639), and the `.dist-info` files named as
 * license files were before it (LICENSE, COPYING, NOTICE, AUTHORS, ...).
 */
export function licenseFileMembers(members: string[]): string[] {
  const found = members.filter((name) => {
    // A zip may list directories (`x.dist-info/licenses/`): only files are read.
    if (name.endsWith('/')) return false;
    const parts = name.split('/');
    if (!parts[0]?.endsWith('.dist-info') || parts.length < 2) return false;
    if (parts[1] === 'licenses') return parts.length > 2;
    return parts.length === 2 && /^(LICEN[CS]E|COPYING|NOTICE|AUTHORS|COPYRIGHT)/i.test(parts[1] as string);
  });
  return found.sort().slice(0, MAX_LICENSE_FILES);
}

/**
 * A copyright statement as license texts open: `Copyright (c) 2010-2024
 * Someone`, `Copyright Jason R. Coombs`; a year or a capitalised name
 * follows, so neither a template's `[yyyy]` nor the terms' "copyright
 * notice" or "COPYRIGHT HOLDERS" are taken.
 */
const NOTICE = /^(?:[Cc]opyright|COPYRIGHT|\([Cc]\)|\u00a9)(?:\s*(?:\([Cc]\)|\u00a9))?:?\s+(?:\d{4}|[A-Z][a-z])/;

/** The copyright statements of license texts, each once, in the order found, whitespace collapsed. */
export function copyrightNotices(texts: string[]): string[] {
  const notices = new Set<string>();
  for (const text of texts) {
    for (const line of text.split(/\r\n|\n|\r/)) {
      const notice = line.replace(/\s+/g, ' ').trim();
      if (NOTICE.test(notice)) notices.add(notice);
    }
  }
  return [...notices].slice(0, MAX_NOTICES);
}

// ---------------------------------------------------------------------------
// WHEEL

export interface WheelInfo {
  /** `Wheel-Version`, e.g. "1.0". */
  wheelVersion: string;
  rootIsPurelib: boolean;
  /** Every `Tag` line, in order. */
  tags: string[];
  generator?: string;
  build?: string;
}

/** The major Wheel-Version this reader understands (PEP 427: refuse a newer major). */
export const SUPPORTED_WHEEL_MAJOR = 1;

/** Parse the `.dist-info/WHEEL` file. Throws InputError listing every problem. */
export function parseWheelFile(text: string): WheelInfo {
  const headers = new HeaderSet(parseHeaders(text));
  const problems: string[] = [];
  const wheelVersion = headers.one('Wheel-Version', problems);
  const purelib = headers.one('Root-Is-Purelib', problems);
  const generator = headers.one('Generator', problems);
  const build = headers.one('Build', problems);
  const tags = headers.all('Tag');

  if (wheelVersion === undefined) problems.push('required field Wheel-Version is missing');
  else {
    const m = /^(\d+)\.(\d+)$/.exec(wheelVersion);
    if (!m) problems.push(`Wheel-Version ${JSON.stringify(wheelVersion)} is not of the form MAJOR.MINOR`);
    else if (Number(m[1]) !== SUPPORTED_WHEEL_MAJOR) {
      problems.push(`Wheel-Version ${wheelVersion} is not supported (only ${SUPPORTED_WHEEL_MAJOR}.x)`);
    }
  }
  let rootIsPurelib = false;
  if (purelib === undefined) problems.push('required field Root-Is-Purelib is missing');
  else if (/^true$/i.test(purelib)) rootIsPurelib = true;
  else if (!/^false$/i.test(purelib)) problems.push(`Root-Is-Purelib must be true or false, not ${JSON.stringify(purelib)}`);
  tags.forEach((t) => {
    if (!/^[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+$/.test(t)) problems.push(`Tag ${JSON.stringify(t)} is not of the form python-abi-platform`);
  });

  if (problems.length) throw new InputError('invalid WHEEL file', problems);
  return {
    wheelVersion: wheelVersion as string,
    rootIsPurelib,
    tags,
    ...(generator !== undefined ? { generator } : {}),
    ...(build !== undefined ? { build } : {}),
  };
}

// ---------------------------------------------------------------------------
// entry_points.txt

export interface EntryPoints {
  console_scripts: Record<string, string>;
  gui_scripts: Record<string, string>;
  [group: string]: Record<string, string>;
}

/** Define an own, enumerable property even for keys like `__proto__`. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Parse an INI-style entry_points.txt: `[group]` sections of `name = object
 * reference` lines; `#` and `;` start comment lines. Keys keep their case.
 * Throws InputError listing every problem.
 */
export function parseEntryPoints(text: string): EntryPoints {
  const result: EntryPoints = { console_scripts: {}, gui_scripts: {} };
  const problems: string[] = [];
  let group: Record<string, string> | undefined;
  let groupName = '';
  const seenGroups = new Set<string>();
  const lines = text.split(/\r\n|\n|\r/);
  lines.forEach((raw, i) => {
    const at = `line ${i + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    if (line.startsWith('[')) {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m || !m[1]?.trim()) {
        problems.push(`${at}: malformed section header ${JSON.stringify(line)}`);
        group = undefined;
        return;
      }
      groupName = (m[1] ?? '').trim();
      if (seenGroups.has(groupName)) problems.push(`${at}: section [${groupName}] appears twice`);
      seenGroups.add(groupName);
      if (!Object.prototype.hasOwnProperty.call(result, groupName)) setOwn(result, groupName, {});
      group = result[groupName];
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      problems.push(`${at}: expected "name = value", found ${JSON.stringify(line)}`);
      return;
    }
    if (!group) {
      problems.push(`${at}: entry ${JSON.stringify(line)} is outside any [group] section`);
      return;
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!key) problems.push(`${at}: entry point without a name`);
    else if (!value) problems.push(`${at}: entry point ${JSON.stringify(key)} has no object reference`);
    else if (Object.prototype.hasOwnProperty.call(group, key)) {
      problems.push(`${at}: entry point ${JSON.stringify(key)} is defined twice in [${groupName}]`);
    } else setOwn(group, key, value);
  });
  if (problems.length) throw new InputError('invalid entry_points.txt', problems);
  return result;
}

// ---------------------------------------------------------------------------
// RECORD

export interface RecordEntry {
  path: string;
  /** `algorithm=urlsafe-base64-nopad-digest`, or '' when not given. */
  hash: string;
  /** Declared size in bytes, when given. */
  size?: number;
  /** 1-based line where the row starts. */
  line: number;
}

/** Characters up to the next separator or line break (at least one: called on neither). */
const UNQUOTED = /[^,\r\n]+/y;

/** Line breaks in `text`: `\r\n`, `\r` and `\n` count one each. */
const lineBreaks = (text: string): number => text.match(/\r\n|\r|\n/g)?.length ?? 0;

/** The quoted field whose text starts at `start` (after the opening quote): its value with `""` unescaped, and where it ends. */
function quotedField(text: string, start: number): { value: string; end: number; closed: boolean; lineBreaks: number } {
  let value = '';
  let breaks = 0;
  let i = start;
  for (;;) {
    const quote = text.indexOf('"', i);
    const run = text.slice(i, quote < 0 ? text.length : quote);
    breaks += lineBreaks(run);
    value += run;
    if (quote < 0) return { value, end: text.length, closed: false, lineBreaks: breaks };
    if (text[quote + 1] !== '"') return { value, end: quote + 1, closed: true, lineBreaks: breaks };
    value += '"';
    i = quote + 2;
  }
}

/**
 * Split a CSV text the way Python's csv module (excel dialect) writes it:
 * `,` separators, `"` quoting with `""` escapes, quoted fields may contain
 * separators and line breaks, rows end with `\n` or `\r\n`.
 */
export function parseCsv(text: string): { rows: Array<{ fields: string[]; line: number }>; problems: string[] } {
  const rows: Array<{ fields: string[]; line: number }> = [];
  const problems: string[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let atFieldStart = true;
  let rowHasContent = false; // an empty line is no row; `""` is a row with one empty field
  let i = 0;
  const n = text.length;
  const endRow = () => {
    if (rowHasContent) {
      fields.push(field);
      rows.push({ fields, line: rowLine });
    }
    fields = [];
    field = '';
    atFieldStart = true;
    rowHasContent = false;
  };
  while (i < n) {
    const c = text[i];
    if (c === '"' && atFieldStart) {
      rowHasContent = true;
      atFieldStart = false;
      i++;
      const quoted = quotedField(text, i);
      field += quoted.value;
      line += quoted.lineBreaks;
      i = quoted.end;
      if (!quoted.closed) {
        problems.push(`line ${rowLine}: unterminated quoted field`);
        fields = [];
        rowHasContent = false;
        break;
      }
      if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        problems.push(`line ${line}: unexpected character ${JSON.stringify(text[i])} after a closing quote`);
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') i++;
      }
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      atFieldStart = true;
      rowHasContent = true;
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRow();
      if (c === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      rowLine = line;
      continue;
    }
    // An unquoted run, taken whole (a quote inside it is an ordinary character).
    UNQUOTED.lastIndex = i;
    const run = (UNQUOTED.exec(text) as RegExpExecArray)[0];
    field += run;
    atFieldStart = false;
    rowHasContent = true;
    i += run.length;
  }
  endRow();
  return { rows, problems };
}

/** Parse a RECORD file into its rows. Throws InputError listing every problem. */
export function parseRecord(text: string): RecordEntry[] {
  const { rows, problems } = parseCsv(text);
  const entries: RecordEntry[] = [];
  for (const { fields, line } of rows) {
    const at = `line ${line}`;
    if (fields.length !== 3) {
      problems.push(`${at}: expected 3 fields (path,hash,size), found ${fields.length}`);
      continue;
    }
    const [path = '', hash = '', sizeText = ''] = fields;
    if (path === '') {
      problems.push(`${at}: empty path`);
      continue;
    }
    let size: number | undefined;
    if (sizeText !== '') {
      if (!/^\d+$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
        problems.push(`${at}: ${path}: size ${JSON.stringify(sizeText)} is not a non-negative integer`);
        continue;
      }
      size = Number(sizeText);
    }
    if (hash !== '' && !/^[A-Za-z0-9_]+=[A-Za-z0-9_-]+=*$/.test(hash)) {
      problems.push(`${at}: ${path}: hash ${JSON.stringify(hash)} is not of the form algorithm=urlsafe-base64-digest`);
      continue;
    }
    entries.push({ path, hash, ...(size !== undefined ? { size } : {}), line });
  }
  if (problems.length) throw new InputError('invalid RECORD file', problems);
  return entries;
}

/** Hash algorithms accepted in RECORD, with their node:crypto names and digest lengths. */
export const RECORD_HASHES: Readonly<Record<string, { node: string; bytes: number }>> = {
  sha256: { node: 'sha256', bytes: 32 },
  sha384: { node: 'sha384', bytes: 48 },
  sha512: { node: 'sha512', bytes: 64 },
  sha3_256: { node: 'sha3-256', bytes: 32 },
  sha3_384: { node: 'sha3-384', bytes: 48 },
  sha3_512: { node: 'sha3-512', bytes: 64 },
  blake2b: { node: 'blake2b512', bytes: 64 },
  blake2s: { node: 'blake2s256', bytes: 32 },
};

/** Algorithms that PEP 427 forbids (weaker than sha256). */
export const WEAK_RECORD_HASHES: ReadonlySet<string> = new Set(['md5', 'sha1', 'sha224', 'sha3_224']);

export interface RecordHash {
  /** As written, lower case (`sha256`). */
  algorithm: string;
  /** node:crypto name of the algorithm. */
  nodeAlgorithm: string;
  digest: Buffer;
}

/**
 * Decode a RECORD hash field. Returns a problem text (string) instead when the
 * algorithm is weak or unknown or the digest is malformed.
 */
export function decodeRecordHash(hash: string): RecordHash | string {
  const eq = hash.indexOf('=');
  if (eq <= 0) return `hash ${JSON.stringify(hash)} is not of the form algorithm=digest`;
  const algorithm = hash.slice(0, eq).toLowerCase();
  const encoded = hash.slice(eq + 1).replace(/=+$/, '');
  if (WEAK_RECORD_HASHES.has(algorithm)) {
    return `hash algorithm ${algorithm} is too weak (PEP 427 forbids md5 and sha1; use sha256 or stronger)`;
  }
  const known = RECORD_HASHES[algorithm];
  if (!known) return `hash algorithm ${JSON.stringify(algorithm)} is not supported (use sha256, sha384 or sha512)`;
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return `digest ${JSON.stringify(encoded)} is not urlsafe base64`;
  const digest = Buffer.from(encoded, 'base64url');
  if (digest.length !== known.bytes || digest.toString('base64url') !== encoded) {
    return `digest ${JSON.stringify(encoded)} is not a valid ${algorithm} digest (expected ${known.bytes} bytes in urlsafe base64 without padding)`;
  }
  return { algorithm, nodeAlgorithm: known.node, digest };
}
