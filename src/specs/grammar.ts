/**
 * The grammars of the places an endpoint spec's values end up in: package
 * names, RPM `Requires:` lines, Debian `Depends` relations, file names under
 * /usr/bin and one-line summaries. Each check returns what is wrong and how to
 * fix it, or undefined; the value is quoted with JSON.stringify so a line
 * break in it cannot break the error message either.
 */
import { isValidName } from '../python/names.ts';

const quoted = (value: string) => JSON.stringify(value);

/** Line breaks and control characters: they end a spec-file tag, a control field or a shell line. */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/** Debian policy 5.6.1 (lower-case letters, digits, + - .); RPM accepts all of these too. */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]*$/;

/**
 * `<reqset>-runtime`, `<reqset>-pins` and `<reqset>-wheel-<key>` are the
 * reqset's other packages: an endpoint of the same name would replace or
 * duplicate one of them.
 */
const RESERVED = /^(?:runtime|pins|wheel-.*)$/;

export function endpointNameProblem(name: string): string | undefined {
  if (!PACKAGE_NAME.test(name)) {
    return `${quoted(name)} is not a package name: use lower-case letters, digits, ".", "+" and "-", starting with a letter or digit (the package is <reqset>-<name>)`;
  }
  if (RESERVED.test(name)) {
    return `${quoted(name)} is reserved: <reqset>-${name} is another package of the reqset (runtime, pins and wheel-* are taken): choose another name`;
  }
  return undefined;
}

export function reqsetNameProblem(name: string): string | undefined {
  if (/^[a-z0-9][a-z0-9-]*$/.test(name)) return undefined;
  return `${quoted(name)} is not a reqset name: use the name of reqsets/<name>.txt (lower-case letters, digits and "-")`;
}

export function distributionProblem(name: string): string | undefined {
  if (isValidName(name)) return undefined;
  return `${quoted(name)} is not a Python distribution name: use the name as pinned in the reqset (letters, digits, ".", "_" and "-")`;
}

export function summaryProblem(summary: string): string | undefined {
  if (CONTROL.test(summary)) return `${quoted(summary)} has a line break or control character: the summary is one line of plain text`;
  if (!summary.trim()) return 'is empty: write one line describing the application';
  return undefined;
}

/** A console script becomes /usr/bin/<name>, an argument of the post-install and a %files line. */
export function scriptNameProblem(script: string): string | undefined {
  if (!script) return 'is empty: give the name of a console script of the distribution';
  if (/[\s\p{Cc}\p{Zl}\p{Zp}/]/u.test(script)) return `${quoted(script)} is not a plain file name: no "/", whitespace or control characters`;
  if (/^[.-]/.test(script)) return `${quoted(script)} starts with "${script[0]}": a command name starts with a letter, digit or "_"`;
  if (Buffer.byteLength(script) > 255) return `${quoted(script.slice(0, 40))}... is longer than 255 bytes, the longest file name`;
  return undefined;
}

/** What both relation grammars reject up front, with a specific hint. */
function relationTextProblem(text: string, what: string): string | undefined {
  if (CONTROL.test(text)) return `${quoted(text)} has a line break or control character: one ${what} per entry, on one line`;
  if (text.includes(',')) return `${quoted(text)} has a ",": one ${what} per entry: make each a list entry of its own`;
  return undefined;
}

// `foo`, `python3dist(foo)`, `libc.so.6()(64bit)`, `perl(Foo::Bar)` or a file path.
const RPM_NAME = String.raw`(?:[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:\([A-Za-z0-9_.+:=/-]*\))*|/[A-Za-z0-9_.+@/-]+)`;
// [epoch:]version[-release]
const RPM_EVR = String.raw`(?:[0-9]+:)?[A-Za-z0-9_.+~^]+(?:-[A-Za-z0-9_.+~^]+)?`;
const RPM_DEPENDENCY = new RegExp(`^${RPM_NAME}(?: +(?:<=|>=|<|>|=) +${RPM_EVR})?$`);

/** One `Requires:` value: a name, a provide or a path, optionally ` OP version`; no rich dependencies. */
export function rpmDependencyProblem(text: string): string | undefined {
  const problem = relationTextProblem(text, 'dependency');
  if (problem) return problem;
  if (text.includes('%')) return `${quoted(text)} has a "%", which rpmbuild would expand as a macro: name the package without it`;
  if (RPM_DEPENDENCY.test(text)) return undefined;
  return (
    `${quoted(text)} is not an RPM dependency: write a package name, a provide such as python3dist(foo) or a /path, ` +
    'optionally followed by " OP version" with OP one of < <= = >= > (rich dependencies are not supported)'
  );
}

const DEB_ONE =
  String.raw`[a-z0-9][a-z0-9+.-]+(?::[a-z0-9][a-z0-9-]*)?` + // name[:arch]
  String.raw`(?: *\( *(?:<<|<=|=|>=|>>) *[0-9][A-Za-z0-9.+~:-]* *\))?`; // (op [epoch:]version[-revision])
const DEB_RELATION = new RegExp(`^${DEB_ONE}(?: *\\| *${DEB_ONE})*$`);

/** One relation of `Depends`: alternatives joined by `|`, each `name[:arch] [(op version)]`. */
export function debRelationProblem(text: string): string | undefined {
  const problem = relationTextProblem(text, 'relation');
  if (problem) return problem;
  if (DEB_RELATION.test(text)) return undefined;
  return (
    `${quoted(text)} is not a Debian relation: write a package name (lower-case, two characters at least), optionally with :arch and ` +
    '" (op version)" with op one of << <= = >= >>, or such alternatives joined with "|"'
  );
}
