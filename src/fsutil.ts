/** File-system helpers for outputs that appear whole or not at all, and where reqset keeps its caches. */
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';

/** A file's hex digest in a hash algorithm node knows (sha256, and pip's sha384 and sha512), read as a stream. */
export async function fileDigest(file: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256File(file: string): Promise<string> {
  return fileDigest(file, 'sha256');
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `$XDG_CACHE_HOME/reqset`: the wheel and package caches, and reqset's container engine settings, unless --wheel-cache says otherwise. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'reqset');
}

/** Temporary directories of this process not yet removed or moved into place. */
const pending = new Set<string>();

/**
 * Removes this process's temporary directories now, synchronously: for the
 * CLI's signal handlers, as the process exits right after. Best effort.
 */
export function removeTempDirsSync(): void {
  for (const dir of pending) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort while exiting */
    }
  }
  pending.clear();
}

/** Whether process `pid` still runs on this machine. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Directories and name families this process has already swept. */
const swept = new Set<string>();

/**
 * Removes what killed runs left in `dir`: entries of a name family
 * (`reqset-`, `.<target>.tmp-`) ending `-<pid>-XXXXXX` (our temporary
 * directories carry their owner's pid) whose process is gone. Once per
 * directory and family per process; best effort.
 */
async function sweepLeftovers(dir: string, family: string): Promise<void> {
  const key = path.join(dir, family);
  if (swept.has(key)) return;
  swept.add(key);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = name.startsWith(family) ? Number(/-(\d+)-[A-Za-z0-9]{6}(?:\.old)?$/.exec(name)?.[1]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => {});
  }
}

/** A temporary directory named `<prefix><pid>-XXXXXX` in `parent`, after sweeping dead runs' ones of its family. */
async function ownedTempDir(parent: string, prefix: string, family: string): Promise<string> {
  await sweepLeftovers(parent, family);
  const dir = await mkdtemp(path.join(parent, `${prefix}${process.pid}-`));
  pending.add(dir);
  return dir;
}

/** A temporary directory next to `finalPath` (same file system, so rename is atomic). */
export async function stagingDirFor(finalPath: string): Promise<string> {
  await mkdir(path.dirname(finalPath), { recursive: true });
  const prefix = `.${path.basename(finalPath)}.tmp-`;
  return ownedTempDir(path.dirname(finalPath), prefix, prefix);
}

export async function discard(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  pending.delete(dir);
}

/**
 * Small JSON files by key (a hex digest) under `dir`: what a cache found out
 * about some content, so that the same content is not examined again. A file
 * appears by rename, whole or not at all; an unreadable one is a miss.
 */
export class VerdictFiles {
  constructor(readonly dir: string) {}

  async read<T>(key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.fileOf(key), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  async write(key: string, verdict: unknown): Promise<void> {
    const file = this.fileOf(key);
    // Written in a pid-named staging directory, so a killed run leaves nothing the next one does not remove.
    const staging = await stagingDirFor(file);
    try {
      await writeFile(path.join(staging, 'verdict.json'), JSON.stringify(verdict));
      await rename(path.join(staging, 'verdict.json'), file);
    } finally {
      await discard(staging);
    }
  }

  private fileOf(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }
}

/**
 * Moves a finished staging directory over `finalPath`, replacing what was
 * there. The staging directory was made 0700 (mkdtemp); the final one gets
 * the mode any new directory gets (0755 with umask 022).
 */
export async function replaceDir(staging: string, finalPath: string): Promise<void> {
  await chmod(staging, 0o777 & ~process.umask());
  const old = `${staging}.old`;
  let hadOld = true;
  try {
    await rename(finalPath, old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    hadOld = false;
  }
  try {
    await rename(staging, finalPath);
  } catch (error) {
    if (hadOld) await rename(old, finalPath);
    throw error;
  }
  pending.delete(staging);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/** Runs `work` in a fresh temporary directory that is always removed. */
export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>, parent?: string): Promise<T> {
  const base = parent ?? tmpdir();
  await mkdir(base, { recursive: true });
  // Every temporary directory of reqset's starts `reqset-`: one sweep finds them all.
  const dir = await ownedTempDir(base, prefix, prefix.startsWith('reqset-') ? 'reqset-' : prefix);
  try {
    return await work(dir);
  } finally {
    await discard(dir);
  }
}

/**
 * Runs `fn` over `items` through p-limit, at most `limit` at a time, results
 * in the items' order. After a failure no new item starts; it throws the first
 * failure once the running ones end, so nothing is still running when it
 * returns (a caller may close or remove what they use).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const run = pLimit({ concurrency: Math.max(1, limit), rejectOnClear: true });
  let failure: { error: unknown } | undefined;
  const stopOnFailure = async (item: T): Promise<R> => {
    try {
      return await fn(item);
    } catch (error) {
      failure ??= { error };
      run.clearQueue(); // the items not started yet reject with an AbortError and never start
      throw error;
    }
  };
  const settled = await Promise.allSettled(items.map((item) => run(stopOnFailure, item)));
  if (failure) throw failure.error;
  return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
}
