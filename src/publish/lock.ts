/**
 * One publish at a time per repository: `DIR/.reqset-publish.lock`, created
 * exclusively (link(2) of a complete temporary file, so the lock never exists
 * half-written) and holding the owner's pid, host and process start time.
 *
 * A lock whose owner is gone (same host, pid not running, or the pid now
 * belongs to another process) is stale and taken over; breaking it is itself
 * serialised by `DIR/.reqset-publish.lock.break`, so two waiters cannot both
 * take over. A lock held by another host is never broken automatically.
 */
import { readFileSync } from 'node:fs';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { isAlive } from '../fsutil.ts';

export const LOCK_NAME = '.reqset-publish.lock';

interface Holder {
  pid: number;
  host: string;
  /** Field 22 of /proc/<pid>/stat: tells a reused pid from the original process. */
  startTicks: string;
  since: string;
}

function startTicks(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count from after its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

/** Whether the holder's process is certainly gone. */
export function isStale(holder: Holder): boolean {
  if (holder.host !== hostname()) return false;
  if (!isAlive(holder.pid)) return true;
  const ticks = startTicks(holder.pid);
  return holder.startTicks !== '' && ticks !== '' && ticks !== holder.startTicks;
}

async function readHolder(file: string): Promise<{ holder?: Holder; text: string } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const data = JSON.parse(text) as Holder;
    if (typeof data.pid === 'number' && typeof data.host === 'string') return { holder: data, text };
  } catch {
    /* not ours or damaged: reported below */
  }
  return { text };
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Removes the lock if it still has exactly the stale content, under the breaker lock. */
async function breakStale(file: string, staleText: string): Promise<void> {
  const breaker = `${file}.break`;
  const mine = `${file}.break-tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(mine, String(process.pid));
  try {
    await link(mine, breaker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone else is breaking it; a breaker left by a crash is removed after a minute.
    if ((await ageMs(breaker)) > 60_000) await unlink(breaker).catch(() => {});
    return;
  } finally {
    await unlink(mine).catch(() => {});
  }
  try {
    const now = await readHolder(file);
    if (now && now.text === staleText) await unlink(file).catch(() => {});
  } finally {
    await unlink(breaker).catch(() => {});
  }
}

export interface LockOptions {
  /** Give up waiting for another publish after this long (default 30 minutes). */
  timeoutMs?: number;
  progress?: (line: string) => void;
}

/** Takes the repository's publish lock, waiting for a running publish; returns the release function. */
export async function acquireLock(dir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const file = path.join(dir, LOCK_NAME);
  const holder: Holder = { pid: process.pid, host: hostname(), startTicks: startTicks(process.pid), since: new Date().toISOString() };
  const text = `${JSON.stringify(holder)}\n`;
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const started = Date.now();
  let announced = false;
  for (;;) {
    const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await writeFile(temp, text);
    let taken = false;
    try {
      await link(temp, file);
      taken = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(temp).catch(() => {});
    }
    if (taken) {
      return async () => {
        const now = await readHolder(file);
        if (now?.text === text) await unlink(file).catch(() => {});
      };
    }
    const current = await readHolder(file);
    if (!current) continue; // released in between
    if (current.holder ? isStale(current.holder) : (await ageMs(file)) > 60_000) {
      options.progress?.(`publish: taking over the stale lock ${file} (${current.holder ? `pid ${current.holder.pid} is gone` : 'unreadable'})`);
      await breakStale(file, current.text);
      continue;
    }
    const who = current.holder ? `pid ${current.holder.pid} on ${current.holder.host} since ${current.holder.since}` : 'an unknown process';
    if (Date.now() - started > timeoutMs) {
      throw new ToolError(`${dir} is being published by ${who}; gave up waiting after ${Math.round(timeoutMs / 1000)} s (if no publish is running there, remove ${file})`);
    }
    if (!announced) {
      options.progress?.(`publish: waiting for ${who} to finish publishing to ${dir}`);
      announced = true;
    }
    await sleep(100 + Math.random() * 150);
  }
}

/** Temporary lock files left by killed processes (harmless, but tidy up while holding the lock). */
export function isDeadLockTemp(name: string): boolean {
  const m = /^\.reqset-publish\.lock\.(?:break-)?tmp-(\d+)-/.exec(name);
  return !!m && !isAlive(Number(m[1]));
}
