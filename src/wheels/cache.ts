/**
 * The content-addressed wheel cache: a built wheel is stored under the hash
 * of everything that went into building it, so an unchanged pin is never
 * rebuilt and a changed input never reuses a stale wheel. Safe to share
 * between concurrent jobs: entries appear by rename.
 */
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { sha256 } from '../fsutil.ts';

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'reqset');
}

/** Everything a built wheel depends on. */
export interface BuildInputs {
  key: string;
  version: string;
  /**
   * The builder interpreter and where it runs: `<python> <X.Y.Z>` on this
   * machine, `<engine>:<image ID> <python> <X.Y.Z>` in a builder image. Not
   * the target: targets built by the same builder share its wheels.
   */
  builder: string;
  /** sha256 of the local sdist, or the index and pinned hashes it comes from. */
  source: string;
  /** sha256 of each pinned build requirement's wheel, by name. */
  buildDependencies: Record<string, string>;
  /** Anything else that changes the build: `hook`, the sha256 of the package's build hook (only for packages that have one). */
  extra: Record<string, string>;
}

export function cacheKey(inputs: BuildInputs): string {
  const sorted = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
  return sha256(JSON.stringify({ format: 1, ...inputs, buildDependencies: sorted(inputs.buildDependencies), extra: sorted(inputs.extra) }));
}

export class WheelCache {
  constructor(readonly dir: string) {}

  private entryDir(key: string): string {
    return path.join(this.dir, 'wheels', key.slice(0, 2), key);
  }

  /** The cached wheel's path, or undefined on a miss. */
  async lookup(key: string): Promise<string | undefined> {
    try {
      const wheel = (await readdir(this.entryDir(key))).find((f) => f.endsWith('.whl'));
      return wheel ? path.join(this.entryDir(key), wheel) : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async store(key: string, wheel: string, inputs: BuildInputs): Promise<string> {
    const final = this.entryDir(key);
    await mkdir(path.dirname(final), { recursive: true });
    const staging = await mkdtemp(`${final}.tmp-`);
    try {
      await copyFile(wheel, path.join(staging, path.basename(wheel)));
      await writeFile(path.join(staging, 'inputs.json'), `${JSON.stringify(inputs, null, 2)}\n`);
      const won = await rename(staging, final).then(
        () => true,
        async (error: NodeJS.ErrnoException) => {
          // Another job stored the same key first: its entry is as good as ours.
          if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
          await rm(staging, { recursive: true, force: true });
          return false;
        },
      );
      // The entry that won the race, whatever its wheel is called.
      if (!won) return (await this.lookup(key)) ?? path.join(final, path.basename(wheel));
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    return path.join(final, path.basename(wheel));
  }

  logFile(reqset: string, target: string, item: string): string {
    return path.join(this.dir, 'logs', reqset, target, `${item}.log`);
  }
}
