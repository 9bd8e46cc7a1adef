/**
 * The staged package tree of a .deb: walking it in a stable order,
 * normalising modes and times, and the numbers dpkg wants about it
 * (Installed-Size, md5sums).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, lutimes, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface TreeEntry {
  /** Path relative to the tree, `/`-separated, without a leading `./`. */
  rel: string;
  type: 'dir' | 'file' | 'symlink';
  size: number;
  mode: number;
  /** `dev:ino`, to count hard-linked files once. */
  inode: string;
}

/** Byte order, as `LC_ALL=C sort` and dpkg-deb order names. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Every entry below `dir` (not `dir` itself), sorted by path in byte order. */
export async function walkTree(dir: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  async function visit(rel: string) {
    const names = (await readdir(rel ? path.join(dir, rel) : dir)).sort(byteOrder);
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      const stats = await lstat(path.join(dir, child));
      const type = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : undefined;
      if (!type) throw new Error(`internal: ${path.join(dir, child)} is not a file, directory or symbolic link; a package cannot hold it`);
      out.push({ rel: child, type, size: stats.size, mode: stats.mode & 0o7777, inode: `${stats.dev}:${stats.ino}` });
      if (type === 'dir') await visit(child);
    }
  }
  await visit('');
  return out.sort((a, b) => byteOrder(a.rel, b.rel));
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

/** Sets the access and modification time of `dir` and everything below it (symbolic links themselves). */
export async function setTimes(dir: string, epoch: number): Promise<void> {
  const entries = await walkTree(dir);
  // Changing times never changes a parent's mtime, so the order does not matter.
  for (const entry of entries) await lutimes(path.join(dir, entry.rel), epoch, epoch);
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

async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `DEBIAN/md5sums`: `<md5>  <path>` for every regular file, in path order. */
export async function md5sums(dir: string, entries: TreeEntry[]): Promise<string> {
  const lines: string[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    if (/[\n\r]/.test(entry.rel)) throw new Error(`internal: file name with a line break cannot be packaged: ${JSON.stringify(entry.rel)}`);
    lines.push(`${await md5File(path.join(dir, entry.rel))}  ${entry.rel}\n`);
  }
  return lines.join('');
}
