/**
 * The content-addressed package cache: a built package is stored under the
 * hash of its inputs and its version (build.ts packageKey), so a build runs
 * rpmbuild / dpkg-deb only for packages whose inputs changed. Each entry
 * records the package's sha256, checked on every reuse: a bad or incomplete
 * entry is discarded (and reported) and the package is built again. Entries
 * appear whole by rename and are never changed in place, so concurrent builds
 * may share the cache; a killed store leaves a staging directory named with
 * its pid, which the next store of that entry removes.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { discard, sha256File, stagingDirFor, VerdictFiles } from '../fsutil.ts';

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

type EntryRead = { entry: Entry } | { absent: true } | { bad: string };

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** The entry.json of the entry `dir` for the package `fileName`, if it is whole and for that file. */
async function readEntry(dir: string, fileName: string): Promise<EntryRead> {
  let entry: Entry;
  try {
    entry = JSON.parse(await readFile(path.join(dir, 'entry.json'), 'utf8')) as Entry;
  } catch (error) {
    return errorCode(error) === 'ENOENT' ? { absent: true } : { bad: `${dir}: unreadable entry.json` };
  }
  if (entry?.file !== fileName || typeof entry.sha256 !== 'string' || !Array.isArray(entry.requires)) return { bad: `${dir}: entry.json is not for ${fileName}` };
  return { entry };
}

export class PackageCache {
  /** The rebuild checks' verdicts (rebuild-check.ts), with the packages: a cold package build makes them again. */
  readonly checks: VerdictFiles;

  constructor(readonly dir: string) {
    this.checks = new VerdictFiles(path.join(dir, 'packages', 'checks'));
  }

  private entryDir(key: string): string {
    return path.join(this.dir, 'packages', key.slice(0, 2), key);
  }

  /**
   * Copies the cached package `fileName` into `outDir` when the entry is
   * sound. The copy is what is checked, so an entry replaced meanwhile by
   * another run cannot slip through. A bad entry is removed; `discarded` says
   * why, for one warning.
   */
  async take(key: string, fileName: string, outDir: string): Promise<CacheLookup> {
    const dir = this.entryDir(key);
    const read = await readEntry(dir, fileName);
    if ('absent' in read) return { hit: false };
    if ('bad' in read) return this.discardEntry(dir, read.bad);
    const cached = path.join(dir, fileName);
    const out = path.join(outDir, fileName);
    await mkdir(outDir, { recursive: true });
    try {
      // A copy (a reflink where the file system can), not a hard link: signing
      // the output in place must not change the cache entry.
      await copyFile(cached, out, constants.COPYFILE_FICLONE);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      return this.discardEntry(dir, `${cached}: missing`);
    }
    if ((await sha256File(out)) !== read.entry.sha256) {
      await rm(out, { force: true });
      return this.discardEntry(dir, `${cached}: its sha256 does not match the entry`);
    }
    const { requires, rebuilt } = read.entry;
    return { hit: true, path: out, sha256: read.entry.sha256, facts: { requires, ...(rebuilt ? { rebuilt } : {}) } };
  }

  private async discardEntry(dir: string, why: string): Promise<CacheLookup> {
    await rm(dir, { recursive: true, force: true });
    return { hit: false, discarded: why };
  }

  /**
   * Stores a built package (a copy, whose sha256 is `sha256`) with what a
   * reuse needs. When another run stored the same entry first, its entry is
   * kept if sound (the same inputs give the same package) and replaced if not.
   */
  async store(key: string, file: string, sha256: string, facts: CachedFacts): Promise<void> {
    const final = this.entryDir(key);
    const name = path.basename(file);
    const staging = await stagingDirFor(final);
    try {
      await copyFile(file, path.join(staging, name));
      const entry: Entry = { file: name, sha256, ...facts };
      await writeFile(path.join(staging, 'entry.json'), `${JSON.stringify(entry, null, 1)}\n`);
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await rename(staging, final);
          return;
        } catch (error) {
          if (errorCode(error) !== 'ENOTEMPTY' && errorCode(error) !== 'EEXIST') throw error;
        }
        if (await this.isSound(final, name)) return;
        // A bad entry in the way: moved aside whole (a reader never sees half of it), then removed.
        const aside = `${staging}.old`;
        await rename(final, aside).catch((error: unknown) => {
          if (errorCode(error) !== 'ENOENT') throw error;
        });
        await rm(aside, { recursive: true, force: true });
      }
      throw new ToolError(`could not store ${name} in the package cache: ${final} kept being replaced by other runs`);
    } finally {
      await discard(staging);
    }
  }

  private async isSound(dir: string, fileName: string): Promise<boolean> {
    const read = await readEntry(dir, fileName);
    return 'entry' in read && (await sha256File(path.join(dir, fileName)).catch(() => undefined)) === read.entry.sha256;
  }
}
