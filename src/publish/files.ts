/**
 * File operations that keep a published repository consistent for readers:
 * new files appear whole under names that never replace another file
 * (link(2) fails on an existing name), index switches are rename(2), and
 * data is on disk (fsync) before the index that refers to it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export async function fsyncPath(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Copies a file (into a staging directory) and flushes it. */
export async function copyDurable(src: string, dest: string): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  await copyFile(src, dest);
  await fsyncPath(dest);
}

/**
 * Makes `dest` a hard link to `src` unless `dest` exists; true if it was
 * created. Never replaces a file a reader may be downloading.
 */
export async function linkNew(src: string, dest: string): Promise<boolean> {
  await mkdir(path.dirname(dest), { recursive: true });
  try {
    await link(src, dest);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'EMLINK') throw error;
  }
  // A file system without hard links: a flushed copy renamed into place (the publish lock keeps others out).
  if (await exists(dest)) return false;
  const temp = path.join(path.dirname(dest), `.${path.basename(dest)}.tmp-${process.pid}`);
  await copyFile(src, temp);
  await fsyncPath(temp);
  await rename(temp, dest);
  return true;
}

/** Atomically replaces `dest` with `src` (same file system), flushed first. */
export async function replaceFile(src: string, dest: string): Promise<void> {
  await fsyncPath(src);
  await mkdir(path.dirname(dest), { recursive: true });
  await rename(src, dest);
}

export async function removeFile(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Removes `dir` and its empty parents up to (not including) `stop`. */
export async function removeEmptyDirs(dir: string, stop: string): Promise<void> {
  let current = dir;
  while (current.startsWith(`${stop}${path.sep}`)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = path.dirname(current);
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Regular files below `dir` (relative paths, sorted); [] if `dir` does not exist. */
export async function filesBelow(dir: string, accept: (relative: string) => boolean = () => true): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter(accept)
    .sort();
}

export interface FileDigest {
  size: number;
  md5: string;
  sha256: string;
}

export async function digestFile(file: string): Promise<FileDigest> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    md5.update(buffer);
    sha256.update(buffer);
    size += buffer.length;
  }
  return { size, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/** Byte-for-byte comparison of two files. */
export async function sameBytes(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const [sa, sb] = await Promise.all([ha.stat(), hb.stat()]);
    if (sa.size !== sb.size) return false;
    const size = 1 << 20;
    const ba = Buffer.alloc(size);
    const bb = Buffer.alloc(size);
    for (let offset = 0; offset < sa.size; offset += size) {
      const [ra, rb] = await Promise.all([ha.read(ba, 0, size, offset), hb.read(bb, 0, size, offset)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
    return true;
  } finally {
    await Promise.all([ha.close(), hb.close()]);
  }
}

/** Leftovers of a publish that was killed: staging directories and temporary lock files. */
export async function removeLeftovers(dir: string, isLeftover: (name: string) => boolean): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (!isLeftover(name)) continue;
    await rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
