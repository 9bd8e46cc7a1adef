/**
 * The three kinds of failure reqset reports. The CLI's one top-level handler
 * maps them to exit codes; everything else is a bug and keeps its stack.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** A list of problems shows this many; the rest are counted, so one bad file cannot flood the terminal. */
export const MAX_LISTED_PROBLEMS = 20;

/** `summary`, then the first MAX_LISTED_PROBLEMS problems, then "... and N more problems". */
export function formatProblems(summary: string, problems: readonly string[], max = MAX_LISTED_PROBLEMS): string {
  if (problems.length === 0) return summary;
  const shown = problems.slice(0, max).map((p) => `  - ${p}`);
  const rest = problems.length - Math.min(max, problems.length);
  if (rest > 0) shown.push(`  ... and ${rest} more problem${rest === 1 ? '' : 's'}`);
  return `${summary}\n${shown.join('\n')}`;
}

/** The user's input is wrong (pin list, spec, target, flags): exit 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly exitCode = 2;
  /** Every problem found, so a file's errors are reported at once (the message lists the first MAX_LISTED_PROBLEMS). */
  readonly problems: string[];

  constructor(summary: string, problems: string[] = []) {
    super(formatProblems(summary, problems));
    this.problems = problems;
  }
}

/** An external tool or a build step failed (pip, rpmbuild, dpkg-deb, ...): exit 1. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly exitCode = 1;
}

export function isReportable(error: unknown): error is InputError | ToolError {
  return error instanceof InputError || error instanceof ToolError;
}

/**
 * Expected operating-system errors: the machine, not reqset, is in the way.
 * `option` is the flag whose directory holds the path, when one does.
 */
const OS_ERRORS: Record<string, { words: string; advice: (option?: string) => string }> = {
  EROFS: { words: 'read-only file system', advice: (o) => `choose another ${o ?? 'location'} on a writable file system` },
  ENOSPC: { words: 'no space left on device', advice: (o) => `free some space on its file system${o ? ` or choose another ${o}` : ''}` },
  EDQUOT: { words: 'disk quota exceeded', advice: (o) => `free some space within your quota${o ? ` or choose another ${o}` : ''}` },
  ENOTDIR: { words: 'a part of the path is a file, not a directory', advice: (o) => `remove or rename that file${o ? ` or choose another ${o}` : ''}` },
  EISDIR: { words: 'it is a directory', advice: (o) => `remove or rename that directory${o ? ` or choose another ${o}` : ''}` },
  EEXIST: { words: 'it already exists', advice: (o) => `remove it${o ? ` or choose another ${o}` : ''}` },
  EACCES: { words: 'permission denied', advice: (o) => `fix its permissions${o ? ` or choose another ${o}` : ''}` },
  EPERM: { words: 'operation not permitted', advice: (o) => `fix its permissions or attributes${o ? ` or choose another ${o}` : ''}` },
  ENAMETOOLONG: { words: 'file name too long', advice: (o) => `choose a shorter ${o ?? 'path'}` },
  ELOOP: { words: 'too many levels of symbolic links', advice: () => 'fix the symbolic link loop' },
  EIO: { words: 'input/output error', advice: () => 'check the disk (dmesg) and try again' },
  EMFILE: { words: 'too many open files', advice: () => 'raise the open-file limit (ulimit -n) or lower --jobs' },
  ENFILE: { words: 'too many open files in the system', advice: () => 'close other programs or lower --jobs' },
};

const READS = new Set(['access', 'lstat', 'opendir', 'read', 'readlink', 'realpath', 'scandir', 'stat']);
const WRITES_ONLY = new Set(['EROFS', 'ENOSPC', 'EDQUOT', 'EEXIST']);

interface FsError extends Error {
  code: string;
  path: string;
  /** The destination of copyfile, rename, link, symlink. */
  dest?: string;
  syscall?: string;
}

function isFsError(error: unknown): error is FsError {
  return error instanceof Error && typeof (error as FsError).code === 'string' && typeof (error as FsError).path === 'string';
}

/**
 * Node's recursive mkdir reports ENOENT when a parent cannot be written (e.g.
 * EROFS): finds the real reason from the nearest existing ancestor.
 */
function realMkdirError(target: string): string | undefined {
  let dir = path.resolve(target);
  for (;;) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
    let isDirectory: boolean;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return (error as NodeJS.ErrnoException).code;
    }
    if (!isDirectory) return 'ENOTDIR';
    try {
      accessSync(dir, constants.W_OK);
      return undefined;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code;
    }
  }
}

/** Directories named on the command line, so a message can say which flag to change. */
export type PathOptions = { option: string; dir: string }[];

/**
 * An expected OS error (a Node fs error with one of the codes above and a path)
 * as a one-line ToolError (exit 1); undefined for anything else, which is a bug.
 */
export function osError(error: unknown, options: PathOptions = []): ToolError | undefined {
  if (!isFsError(error)) return undefined;
  let code = error.code;
  if (code === 'ENOENT' && (error.syscall === 'mkdir' || error.syscall === 'mkdtemp')) code = realMkdirError(error.path) ?? code;
  const known = OS_ERRORS[code];
  if (!known) return undefined;
  // copyfile, rename, link: a full or read-only disk is the destination's.
  const named = error.dest && (WRITES_ONLY.has(code) || code === 'ENOTDIR' || code === 'EISDIR') ? error.dest : error.path;
  const target = path.resolve(named);
  const owner = options
    .map((o) => ({ ...o, dir: path.resolve(o.dir) }))
    .filter((o) => target === o.dir || target.startsWith(o.dir.endsWith(path.sep) ? o.dir : o.dir + path.sep))
    .sort((a, b) => b.dir.length - a.dir.length)[0];
  const verb = WRITES_ONLY.has(code) ? 'write' : READS.has(error.syscall ?? '') ? 'read' : error.syscall === 'open' ? 'open' : 'write';
  return new ToolError(`cannot ${verb} ${named} (${known.words}): ${known.advice(owner?.option)}`, { cause: error });
}
