/**
 * The unpacked-tree destination of a wheel source: every member written under
 * a directory byte for byte, plus ZIPINFO_FILE. Never follows or creates
 * symlinks; files get 0644 or 0755, directories 0755, everything one mtime.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sourceDateEpoch } from '../epoch.ts';
import { InputError } from '../errors.ts';
import { isStreamed } from './reader.ts';
import type { WheelSource } from './source.ts';
import { isInsideRoot } from './validate/members.ts';
import { formatZipInfo, ZIPINFO_FILE } from './zipinfo.ts';

export interface ExtractOptions {
  /** mtime of every file and directory written; default sourceDateEpoch(). */
  mtime?: Date;
}

const q = (s: string): string => JSON.stringify(s);

/** mtime for extraction: the option, else sourceDateEpoch(). */
export function resolveMtime(mtime?: Date): Date {
  if (mtime) {
    if (Number.isNaN(mtime.getTime())) throw new InputError('extraction mtime is not a valid date');
    return mtime;
  }
  return new Date(sourceDateEpoch() * 1000);
}

/** Makes `root` an empty directory to extract into; true when it was created. */
async function prepareRoot(root: string, dir: string, filename: string): Promise<boolean> {
  const existing = await fs.promises.lstat(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing) {
    if (!existing.isDirectory()) throw new InputError(`cannot extract ${filename} into ${dir}: it exists and is not a directory`);
    if ((await fs.promises.readdir(root)).length) throw new InputError(`cannot extract ${filename} into ${dir}: the directory is not empty`);
    return false;
  }
  await fs.promises.mkdir(path.dirname(root), { recursive: true });
  await fs.promises.mkdir(root, { mode: 0o755 });
  return true;
}

const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/**
 * Creates the directories a tree needs, each once; never follows a symlink
 * (`root` is new or empty, and every path is checked to be inside it).
 */
class DirectoryMaker {
  readonly made = new Set<string>();
  /** Each directory a member named, as `/`-separated relative path, to its absolute path with a trailing separator. */
  private readonly prefixes = new Map<string, string>();

  constructor(private readonly root: string) {
    this.made.add(root);
  }

  /**
   * The absolute path of `relative` (a member's directory, '' for the root)
   * with a trailing separator, created when missing: resolved and checked to
   * be inside the root once per directory, not once per file.
   */
  prefix(relative: string, member: string): string {
    const known = this.prefixes.get(relative);
    if (known !== undefined) return known;
    const abs = path.resolve(this.root, relative);
    if (relative !== '' && !isInsideRoot(this.root, abs)) throw new Error(`member ${q(member)} resolves outside ${this.root}`);
    this.ensure(abs);
    const prefix = abs.endsWith(path.sep) ? abs : abs + path.sep;
    this.prefixes.set(relative, prefix);
    return prefix;
  }

  private ensure(abs: string): void {
    if (this.made.has(abs)) return;
    this.ensure(path.dirname(abs));
    try {
      fs.mkdirSync(abs, { mode: 0o755 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!fs.lstatSync(abs).isDirectory()) throw new Error(`${abs} exists and is not a directory`);
    }
    this.made.add(abs);
  }
}

/**
 * A file written whole with synchronous calls: for the small files that make up
 * most wheels, four system calls in a row (open, write, futimens, close) cost
 * less than as many round trips through the thread pool. It is created with
 * its mode, so it needs a chmod only when the umask (`umask`) takes bits of it.
 */
function writeSmallFile(abs: string, mode: number, data: Buffer | string, mtime: Date, umask: number): void {
  const fd = fs.openSync(abs, CREATE, mode);
  try {
    fs.writeFileSync(fd, data);
    if (mode & umask) fs.fchmodSync(fd, mode);
    fs.futimesSync(fd, mtime, mtime);
  } catch (error) {
    throw namingFile(error, abs);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Calls on a file descriptor fail without a path (a full disk: ENOSPC from
 * write); the file's name makes it an OS error reported as one line naming
 * the place, not a bug.
 */
function namingFile(error: unknown, abs: string): unknown {
  const e = error as NodeJS.ErrnoException;
  if (e instanceof Error && typeof e.code === 'string' && e.path === undefined) Object.assign(e, { path: abs, syscall: e.syscall ?? 'write' });
  return error;
}

/** A member too big to hold in memory, streamed into its file. */
async function writeStreamedFile(source: WheelSource, name: string, abs: string, mode: number, mtime: Date): Promise<void> {
  const handle = await fs.promises.open(abs, CREATE, 0o600);
  try {
    await source.readInto(name, (chunk) => handle.writeFile(chunk));
    await handle.chmod(mode);
    await handle.utimes(mtime, mtime);
  } catch (error) {
    throw namingFile(error, abs);
  } finally {
    await handle.close();
  }
}

/**
 * Where a file member goes: its directory's prefix and its last segment,
 * which must be a name (validation refuses "." and ".." segments anywhere;
 * this keeps the tree safe from any WheelSource).
 */
function filePath(dirs: DirectoryMaker, name: string): string {
  const slash = name.lastIndexOf('/');
  const base = name.slice(slash + 1);
  if (base === '' || base === '.' || base === '..') throw new Error(`member ${q(name)} is not a file name`);
  return dirs.prefix(slash < 0 ? '' : name.slice(0, slash), name) + base;
}

/** Writes the tree; on failure the caller empties `root`. */
async function writeTree(source: WheelSource, root: string, mtime: Date): Promise<void> {
  const dirs = new DirectoryMaker(root);
  const umask = process.umask();
  for (const member of source.members) {
    if (member.isDirectory) {
      dirs.prefix(member.name.slice(0, -1), member.name);
      continue;
    }
    const target = filePath(dirs, member.name);
    if (isStreamed(member)) await writeStreamedFile(source, member.name, target, member.mode, mtime);
    else writeSmallFile(target, member.mode, source.readSmall(member.name), mtime, umask);
  }
  writeSmallFile(path.join(root, ZIPINFO_FILE), 0o644, formatZipInfo(source.zipInfo), mtime, umask);
  // Directories last: writing into them changed their mtimes.
  for (const d of [...dirs.made].sort().reverse()) {
    fs.chmodSync(d, 0o755);
    fs.utimesSync(d, mtime, mtime);
  }
}

/**
 * Writes every member of `source` under `dir` byte for byte, plus ZIPINFO_FILE.
 * `dir` must not exist or be empty; on failure it is left as it was found.
 */
export async function extractWheel(source: WheelSource, dir: string, options: ExtractOptions = {}): Promise<void> {
  const mtime = resolveMtime(options.mtime);
  const root = path.resolve(dir);
  const createdRoot = await prepareRoot(root, dir, source.filename);
  try {
    await writeTree(source, root, mtime);
  } catch (error) {
    if (createdRoot) await fs.promises.rm(root, { recursive: true, force: true });
    else {
      for (const child of await fs.promises.readdir(root).catch(() => [] as string[])) {
        await fs.promises.rm(path.join(root, child), { recursive: true, force: true });
      }
    }
    throw error;
  }
}
