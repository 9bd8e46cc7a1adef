/**
 * The content-addressed package cache: a built package is stored under the
 * hash of its inputs and its version (build.ts packageKey), so a build runs
 * rpmbuild / dpkg-deb only for packages whose inputs changed. Each entry
 * records the package's sha256, checked on every reuse: a bad or incomplete
 * entry is discarded (and reported) and the package is built again. Entries
 * appear by rename, so concurrent builds may share the cache.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../fsutil.ts';

/** What a reuse needs besides the file: what build() found out while building. */
export interface CachedFacts {
  requires: string[];
  /** The wheel the post-install rebuilds (wheel packages only). */
  rebuilt?: { sha256: string; identical: boolean };
}

interface Entry extends CachedFacts {
  file: string;
  sha256: string;
}

export type CacheLookup = { hit: true; path: string; sha256: string; facts: CachedFacts } | { hit: false; discarded?: string };

export class PackageCache {
  constructor(readonly dir: string) {}

  private entryDir(key: string): string {
    return path.join(this.dir, 'packages', key.slice(0, 2), key);
  }

  /**
   * Copies the cached package `fileName` into `outDir` when the entry is
   * sound. A bad entry is removed; `discarded` says why, for one warning.
   */
  async take(key: string, fileName: string, outDir: string): Promise<CacheLookup> {
    const dir = this.entryDir(key);
    let entry: Entry;
    try {
      entry = JSON.parse(await readFile(path.join(dir, 'entry.json'), 'utf8')) as Entry;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { hit: false };
      await rm(dir, { recursive: true, force: true });
      return { hit: false, discarded: `${dir}: unreadable entry.json` };
    }
    const cached = path.join(dir, fileName);
    const actual = entry.file === fileName ? await sha256File(cached).catch(() => undefined) : undefined;
    if (actual !== entry.sha256 || !Array.isArray(entry.requires)) {
      await rm(dir, { recursive: true, force: true });
      return { hit: false, discarded: `${cached}: ${actual === undefined ? 'missing' : 'its sha256 does not match the entry'}` };
    }
    const out = path.join(outDir, fileName);
    await mkdir(outDir, { recursive: true });
    // A copy (a reflink where the file system can), not a hard link: signing
    // the output in place must not change the cache entry.
    await copyFile(cached, out, constants.COPYFILE_FICLONE);
    return { hit: true, path: out, sha256: entry.sha256, facts: { requires: entry.requires, ...(entry.rebuilt ? { rebuilt: entry.rebuilt } : {}) } };
  }

  /** Stores a built package (a copy, whose sha256 is `sha256`) with what a reuse needs. */
  async store(key: string, file: string, sha256: string, facts: CachedFacts): Promise<void> {
    const final = this.entryDir(key);
    await mkdir(path.dirname(final), { recursive: true });
    const tmp = await mkdtemp(`${final}.tmp-`);
    try {
      const name = path.basename(file);
      await copyFile(file, path.join(tmp, name));
      const entry: Entry = { file: name, sha256, ...facts };
      await writeFile(path.join(tmp, 'entry.json'), `${JSON.stringify(entry, null, 1)}\n`);
      await rm(final, { recursive: true, force: true });
      await rename(tmp, final);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
