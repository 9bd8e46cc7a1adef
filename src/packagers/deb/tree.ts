/**
 * The staged package tree of a .deb: walking it in a stable order,
 * normalising modes and times, and the numbers dpkg wants about it
 * (Installed-Size, md5sums).
 */
import { chmod, lstat, lutimes, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../errors.ts';
import { mapLimit } from '../../fsutil.ts';
import { run } from '../../run.ts';

/**
 * Files looked at or touched at a time: a wheel can have tens of thousands
 * of small files, which one at a time leaves the disk and the thread pool idle.
 */
const FILE_CONCURRENCY = 16;

export interface TreeEntry {
  /** Path relative to the tree, `/`-separated, without a leading `./`. */
  rel: string;
  type: 'dir' | 'file' | 'symlink';
  size: number;
  mode: number;
  /** `dev:ino`, to count hard-linked files once. */
  inode: string;
  /** As lstat gave it, so that times already right are not set again. */
  mtimeMs: number;
}

/** Whether path `file` is `dir` or below it (both absolute, or both relative to the same place). */
export function isWithin(file: string, dir: string): boolean {
  const d = dir.replace(/\/+$/, '');
  return file === d || file.startsWith(`${d}/`);
}

/** Byte order, as `LC_ALL=C sort` and dpkg-deb order names. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Every entry below `dir` (not `dir` itself), sorted by path in byte order. */
export async function walkTree(dir: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  async function visit(rel: string) {
    const names = await readdir(rel ? path.join(dir, rel) : dir);
    const children = names.map((name) => (rel ? `${rel}/${name}` : name));
    const found = await mapLimit(children, FILE_CONCURRENCY, async (child) => ({ child, stat: await lstat(path.join(dir, child)) }));
    for (const { child, stat } of found) {
      const type = stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : stat.isSymbolicLink() ? 'symlink' : undefined;
      if (!type) throw new Error(`internal: ${path.join(dir, child)} is not a file, directory or symbolic link; a package cannot hold it`);
      out.push({ rel: child, type, size: stat.size, mode: stat.mode & 0o7777, inode: `${stat.dev}:${stat.ino}`, mtimeMs: stat.mtimeMs });
      if (type === 'dir') await visit(child);
    }
  }
  await visit('');
  const keyed = out.map((entry) => ({ entry, key: Buffer.from(entry.rel) }));
  return keyed.sort((a, b) => Buffer.compare(a.key, b.key)).map((k) => k.entry);
}

/** 0755 for directories and files with any execute bit, 0644 for other files; no setuid, sticky or group/other write bits. */
export function normalMode(entry: Pick<TreeEntry, 'type' | 'mode'>): number {
  if (entry.type === 'dir') return 0o755;
  return entry.mode & 0o111 ? 0o755 : 0o644;
}

export async function normaliseModes(dir: string, entries: TreeEntry[]): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of entries) {
    if (entry.type === 'symlink') continue;
    const mode = normalMode(entry);
    if (mode !== entry.mode) await chmod(path.join(dir, entry.rel), mode);
    entry.mode = mode;
  }
}

/**
 * Sets the access and modification time of `dir` and of its `entries`
 * (symbolic links themselves) to `epoch`, skipping entries whose mtime
 * already is `epoch` (an unpacked wheel's files are written with it).
 */
export async function setTimes(dir: string, entries: readonly TreeEntry[], epoch: number): Promise<void> {
  const stale = entries.filter((entry) => entry.mtimeMs !== epoch * 1000);
  // Changing times never changes a parent's mtime, so the order does not matter.
  await mapLimit(stale, FILE_CONCURRENCY, (entry) => lutimes(path.join(dir, entry.rel), epoch, epoch));
  await lutimes(dir, epoch, epoch);
}

/**
 * Installed-Size as dpkg-gencontrol computes it for the tree (without
 * DEBIAN/): each regular file and symbolic link rounded up to whole KiB (a
 * hard-linked file counted once), one KiB for every directory, the top one
 * included.
 */
export function installedSizeKiB(entries: TreeEntry[]): number {
  const seen = new Set<string>();
  let total = 1;
  for (const entry of entries) {
    if (entry.type === 'dir') {
      total += 1;
    } else if (!seen.has(entry.inode)) {
      seen.add(entry.inode);
      total += Math.ceil(entry.size / 1024);
    }
  }
  return total;
}

/**
 * `DEBIAN/md5sums`: `<md5>  <path>` for every regular file, in path order.
 * coreutils md5sum hashes them (for 20,000 small files several times faster
 * than opening each one from here); `--zero` ends each line with a NUL and
 * leaves file names as they are (without it, a backslash is escaped).
 */
export async function md5sums(dir: string, entries: TreeEntry[]): Promise<string> {
  const files = entries.filter((entry) => entry.type === 'file').map((entry) => entry.rel);
  const broken = files.find((rel) => /[\n\r]/.test(rel));
  if (broken !== undefined) throw new Error(`internal: file name with a line break cannot be packaged: ${JSON.stringify(broken)}`);
  if (files.length === 0) return '';
  const result = await run(['xargs', '-0', 'md5sum', '--zero', '--'], { cwd: dir, input: files.map((rel) => `${rel}\0`).join(''), env: { LC_ALL: 'C' } });
  const lines = result.stdout.split('\0').slice(0, -1);
  const isLineOf = (line: string | undefined, rel: string) => line !== undefined && /^[0-9a-f]{32}  /.test(line) && line.slice(34) === rel;
  if (lines.length !== files.length || !files.every((rel, i) => isLineOf(lines[i], rel))) throw new ToolError(`md5sum in ${dir} did not give one line per file, in order`);
  return lines.map((line) => `${line}\n`).join('');
}
