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

/**
 * A service name: the unit is `<name>.service`, its environment file
 * `/etc/<reqset>-<app>/<name>.env`. systemd allows letters, digits and
 * `: - _ . \` in unit names; `:` and `\` (systemd's escapes) and `@`
 * (templates) are left out so the name is a plain file name everywhere.
 */
export function serviceNameProblem(name: string): string | undefined {
  if (name.endsWith('.service')) return `${quoted(name)} ends in ".service": give the name without it (the unit is <name>.service)`;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    return `${quoted(name)} is not a systemd unit name: use letters, digits, "_", "." and "-", starting with a letter or digit (no "@": templates are not supported)`;
  }
  if (name.length > 255 - '.service'.length) return `${quoted(name.slice(0, 40))}... is too long: a unit name has at most 255 characters with ".service"`;
  return undefined;
}

/**
 * A system user or group the package creates: what systemd-sysusers and
 * Debian's adduser --system both accept (lower-case letters, digits, "_" and
 * "-", not starting with a digit or "-", at most 31 characters). root is the
 * system's own: a service of a reqset runs as a user of its own.
 */
export function accountNameProblem(name: string): string | undefined {
  if (!/^[a-z_][a-z0-9_-]*$/.test(name)) {
    return `${quoted(name)} is not a system user or group name: use lower-case letters, digits, "_" and "-", starting with a letter or "_"`;
  }
  if (name.length > 31) return `${quoted(name)} is longer than 31 characters, the longest name systemd-sysusers accepts`;
  if (name === 'root') return '"root" is the system\'s own account: give the service a user of its own, which the package creates';
  return undefined;
}

/** One argument of a service's command line: escaped for systemd's ExecStart, except what cannot be. */
export function execArgumentProblem(argument: string): string | undefined {
  if (!argument) return 'is empty: an ExecStart argument has at least one character';
  if (CONTROL.test(argument)) return `${quoted(argument)} has a line break or control character, which an ExecStart line cannot hold`;
  return undefined;
}

/** Path characters every format and systemd take as they are: nothing rpm globs or expands, no systemd specifier. */
const PLAIN_PATH = /^(\/[A-Za-z0-9_.+@,=:~-]+)+$/;

function plainPathProblem(value: string): string | undefined {
  if (!PLAIN_PATH.test(value) || value.split('/').some((part) => part === '.' || part === '..')) {
    return `${quoted(value)} is not a plain absolute path: start with "/" and use letters, digits and _ . + @ , = : ~ - between the slashes (no "." or ".." parts)`;
  }
  return undefined;
}

/** A service's working directory. */
export function workingDirectoryProblem(dir: string): string | undefined {
  return plainPathProblem(dir);
}

/** Where a configuration file from the workspace is installed: below /etc. */
export function configDestProblem(dest: string): string | undefined {
  const problem = plainPathProblem(dest);
  if (problem) return problem;
  if (!dest.startsWith('/etc/')) return `${quoted(dest)} is not below /etc: configuration files live in /etc (put the file below /etc/...)`;
  return undefined;
}

/** A file of the workspace, relative to it, that stays inside it. */
export function workspacePathProblem(source: string): string | undefined {
  if (!source || CONTROL.test(source)) return `${quoted(source)} is not a file name: give a path relative to the workspace, on one line`;
  if (source.startsWith('/')) return `${quoted(source)} is absolute: give the path relative to the workspace (e.g. config/app.toml)`;
  if (source.split('/').includes('..')) return `${quoted(source)} leaves the workspace: give a path inside it, without ".."`;
  return undefined;
}

/** A file mode as an octal string: permission bits only. */
export function modeProblem(mode: string): string | undefined {
  if (/^0?[0-7]{3}$/.test(mode)) return undefined;
  return `${quoted(mode)} is not a file mode: write the permission bits in octal, quoted, such as "0640" (no setuid, setgid or sticky bit)`;
}

/**
 * A maintainer as Debian policy 5.6.2 writes it and RPM's Packager tag holds
 * it: `Full Name <address>`, on one line. A comma would split it into two
 * maintainers in Debian's fields.
 */
export function maintainerProblem(value: string): string | undefined {
  const shape = `write "Full Name <address@example.com>"`;
  if (CONTROL.test(value)) return `${quoted(value)} has a line break or control character: ${shape}, on one line`;
  if (value.includes(',')) return `${quoted(value)} has a ",", which separates maintainers in Debian's fields: ${shape} without one`;
  if (!/^[^<>]*[^<>\s] <[^<>@\s]+@[^<>@\s]+>$/.test(value)) return `${quoted(value)} is not a name and an address: ${shape}`;
  return undefined;
}

/** The organisation in RPM's Vendor tag and the SBOM's supplier: one line of text. */
export function vendorProblem(value: string): string | undefined {
  if (CONTROL.test(value)) return `${quoted(value)} has a line break or control character: the vendor is one line, such as "Example Corp"`;
  if (!value.trim()) return 'is empty: name the organisation, or leave the field out';
  return undefined;
}
