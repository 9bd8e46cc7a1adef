/**
 * Parsing one pin-list file (pip requirements syntax). Pure: no file I/O, so
 * every rule is tested with small strings. Every problem of the file is
 * collected, each naming file, line and the fix.
 */
import { exactPin, parseRequirement, RequirementSyntaxError, type Requirement } from '../python/requirement.ts';
import { expandVariables, redact } from '../python/urls.ts';

export interface PinLine {
  requirement: Requirement;
  /** The exact version, when the line pins one with == or ===. */
  version?: string;
  hashes: string[];
  file: string;
  line: number;
  text: string;
}

type ValueOptionKind =
  | 'requirement-file'
  | 'constraint-file'
  | 'index-url'
  | 'extra-index-url'
  | 'find-links'
  | 'only-binary'
  | 'no-binary';

type FlagOptionKind = 'no-index' | 'require-hashes';

export type FileOption = { kind: ValueOptionKind; value: string; line: number } | { kind: FlagOptionKind; line: number };

export interface ParsedPinFile {
  pins: PinLine[];
  options: FileOption[];
  problems: string[];
  /** Values of `${VAR}` expanded into URLs (see python/urls.ts): never shown. */
  secrets: string[];
}

const VALUE_OPTIONS: Record<string, ValueOptionKind> = {
  '-r': 'requirement-file',
  '--requirement': 'requirement-file',
  '-c': 'constraint-file',
  '--constraint': 'constraint-file',
  '-i': 'index-url',
  '--index-url': 'index-url',
  '--extra-index-url': 'extra-index-url',
  '-f': 'find-links',
  '--find-links': 'find-links',
  '--only-binary': 'only-binary',
  '--no-binary': 'no-binary',
};
const FLAG_OPTIONS: Record<string, FlagOptionKind> = { '--no-index': 'no-index', '--require-hashes': 'require-hashes' };
const SUPPORTED = [...Object.keys(VALUE_OPTIONS).filter((o) => o.startsWith('--')), ...Object.keys(FLAG_OPTIONS), '--hash'].join(', ');

interface LogicalLine {
  line: number;
  text: string;
}

/** Joins `\` continuations and strips comments, keeping the first physical line number. */
export function logicalLines(content: string): LogicalLine[] {
  const physical = content.replace(/\r\n?/g, '\n').split('\n');
  const result: LogicalLine[] = [];
  let pending: LogicalLine | undefined;
  physical.forEach((raw, index) => {
    const continued = /(^|[^\\])\\$/.test(raw);
    const body = continued ? raw.slice(0, -1) : raw;
    pending = pending ? { line: pending.line, text: `${pending.text} ${body}` } : { line: index + 1, text: body };
    if (!continued) {
      result.push(pending);
      pending = undefined;
    }
  });
  if (pending) result.push(pending);
  return result
    .map(({ line, text }) => ({ line, text: text.replace(/(^|\s)#.*$/, '').trim() }))
    .filter(({ text }) => text.length > 0);
}

/**
 * Splits `--opt=value` and `--opt value` into [opt, value] pairs; a bare word
 * becomes ['', word]. Only known value options are reported as missing a value.
 */
function splitOptions(tokens: string[]): { pairs: [string, string | undefined][]; missing: string[] } {
  const pairs: [string, string | undefined][] = [];
  const missing: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const eq = token.indexOf('=');
    if (!token.startsWith('-')) {
      pairs.push(['', token]);
    } else if (token.startsWith('--') && eq > 0) {
      pairs.push([token.slice(0, eq), token.slice(eq + 1)]);
    } else if (FLAG_OPTIONS[token]) {
      pairs.push([token, undefined]);
    } else {
      const next = tokens[i + 1];
      const value = next !== undefined && !next.startsWith('-') ? next : undefined;
      if (value !== undefined) i++;
      else if (VALUE_OPTIONS[token] || token === '--hash') missing.push(token);
      pairs.push([token, value]);
    }
  }
  return { pairs, missing };
}

/**
 * A pin file's bytes as text, or the one problem that it is not UTF-8 (UTF-16
 * as Windows editors save it, Latin-1, a binary file), named once rather than
 * as garbage lines. A UTF-8 byte-order mark is dropped.
 */
export function decodePinFile(bytes: Uint8Array, file: string): { content: string } | { problem: string } {
  const notUtf8 = (why: string) => ({ problem: `${file}: not UTF-8 text (${why}): save it as UTF-8` });
  const [b0, b1] = bytes;
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) return notUtf8('it looks like UTF-16');
  if (bytes.includes(0)) {
    let even = 0;
    let odd = 0;
    bytes.forEach((b, i) => {
      if (b === 0) i % 2 ? odd++ : even++;
    });
    const half = bytes.length / 2;
    return notUtf8(Math.max(even, odd) >= half / 4 ? 'it looks like UTF-16' : 'it contains NUL bytes, like a binary file');
  }
  try {
    const content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { content: content.startsWith('\uFEFF') ? content.slice(1) : content };
  } catch {
    const text = new TextDecoder('utf-8').decode(bytes);
    const line = text.slice(0, text.indexOf('\uFFFD')).split('\n').length;
    return notUtf8(`line ${line} has bytes that are not UTF-8, e.g. Latin-1 or Windows-1252`);
  }
}

/** `git+https://...`, `https://.../x.whl`, `./dir`, `x.whl`: a location, not a name. */
function locationRequirement(text: string): string | undefined {
  if (/^(git|hg|svn|bzr)\+/i.test(text) || /^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const egg = /#(?:.*&)?egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(text)?.[1];
    const pin = egg ? `"${egg}==<version>"` : '"name==<version>"';
    return `"${text}": VCS/URL requirements cannot be pinned by version: build the wheel, add it with --find-links and pin ${pin}`;
  }
  // `name @ url` is not a location: it is reported with its name below.
  if (!/[\s@]/.test(text) && (/^(\.{1,2}|~)?\//.test(text) || text === '.' || text === '..' || /\.(whl|tar\.gz|tgz|zip|tar\.bz2)$/i.test(text))) {
    return `"${text}": local path requirements cannot be pinned by version: build the wheel, add its directory with --find-links and pin "name==<version>"`;
  }
  return undefined;
}

/**
 * The pins and options of one pin file. `${VAR}` is expanded from `env` on
 * every line, as pip does; problems never show what it expanded to.
 */
export function parsePinFile(content: string, file: string, env: Record<string, string | undefined> = {}): ParsedPinFile {
  const parsed: ParsedPinFile = { pins: [], options: [], problems: [], secrets: [] };
  const problem = (line: number, message: string) => parsed.problems.push(`${file}:${line}: ${message}`);

  for (const logical of logicalLines(content)) {
    const { line } = logical;
    const { text, secrets } = expandVariables(logical.text, env);
    parsed.secrets.push(...secrets);
    const tokens = text.split(/\s+/);
    const optionStart = tokens.findIndex((t) => t.startsWith('-'));
    const requirementText = (optionStart === -1 ? tokens : tokens.slice(0, optionStart)).join(' ');
    const { pairs, missing } = splitOptions(optionStart === -1 ? [] : tokens.slice(optionStart));
    for (const option of missing) problem(line, `option ${option} needs a value`);

    if (!requirementText) {
      for (const [option, value] of pairs) {
        const flag = FLAG_OPTIONS[option];
        if (flag) parsed.options.push({ kind: flag, line });
        else if (option === '-e' || option === '--editable') {
          problem(line, `editable installs cannot be packaged: build a wheel${value ? ` of ${JSON.stringify(value)}` : ''}, add its directory with --find-links and pin it by version ("name==<version>")`);
        } else if (option === '--hash') problem(line, `--hash belongs on a requirement line: write it after the pin, e.g. "name==1.0 --hash=sha256:..."`);
        else if (option === '') problem(line, `unexpected ${JSON.stringify(value)}: put one option or one requirement per line`);
        else if (VALUE_OPTIONS[option]) {
          if (value !== undefined) parsed.options.push({ kind: VALUE_OPTIONS[option], value, line });
        } else problem(line, `unknown option ${option}: pin lists support ${SUPPORTED}`);
      }
      continue;
    }

    const location = locationRequirement(requirementText);
    if (location) {
      problem(line, location);
      continue;
    }
    let requirement: Requirement;
    try {
      requirement = parseRequirement(requirementText);
    } catch (error) {
      if (!(error instanceof RequirementSyntaxError)) throw error;
      problem(line, `${error.message}: write "name==version" (PEP 508, e.g. "requests==2.31.0")`);
      continue;
    }
    const hashes: string[] = [];
    for (const [option, value] of pairs) {
      if (option === '--hash' && value !== undefined) {
        if (/^sha256:[0-9a-f]{64}$/i.test(value)) hashes.push(value.toLowerCase());
        else if (/^(sha384|sha512):[0-9a-f]+$/i.test(value)) hashes.push(value.toLowerCase());
        else problem(line, `malformed --hash ${JSON.stringify(value)}: write --hash=sha256:<64 hex digits>`);
      } else if (option !== '--hash') {
        problem(line, `option ${option || JSON.stringify(value)} is not allowed on a requirement line: only --hash is`);
      }
    }
    if (requirement.url) {
      problem(line, `${requirement.name} is given as a URL: pin it by version ("${requirement.name}==<version>") and add its location with --find-links`);
      continue;
    }
    parsed.pins.push({ requirement, version: exactPin(requirement.specifier), hashes, file, line, text });
  }
  parsed.problems = parsed.problems.map((p) => redact(p, parsed.secrets));
  return parsed;
}
