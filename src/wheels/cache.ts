/**
 * The content-addressed wheel cache: a built wheel is stored under the hash
 * of everything that went into building it, so an unchanged pin is never
 * rebuilt and a changed input never reuses a stale wheel. An entry
 * `wheels/<k2>/<key>/` holds the wheel, inputs.json (what it was built from)
 * and entry.json (the wheel's file name and sha256), checked on every reuse:
 * a bad or incomplete entry (entries of older reqset versions have no
 * entry.json) is discarded and reported, and the wheel is built again. Safe to
 * share between concurrent jobs: entries appear, and are discarded, by rename.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { discard as discardDir, sha256, sha256File, stagingDirFor } from '../fsutil.ts';

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

/** What entry.json records: the wheel reused from the entry. */
interface Entry {
  file: string;
  sha256: string;
}

export type WheelLookup = { hit: true; path: string; sha256: string } | { hit: false; discarded?: string };

/** What an entry directory holds: a sound entry, nothing, or why it is bad. */
type Inspection = { sound: true; path: string; sha256: string } | { sound: false; absent: true } | { sound: false; absent: false; why: string };

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

export class WheelCache {
  constructor(readonly dir: string) {}

  private entryDir(key: string): string {
    return path.join(this.dir, 'wheels', key.slice(0, 2), key);
  }

  /**
   * The cached wheel when its entry is sound. A bad or incomplete entry is
   * removed; `discarded` names it and says why, for one warning.
   */
  async lookup(key: string): Promise<WheelLookup> {
    const dir = this.entryDir(key);
    const found = await this.inspect(dir);
    if (found.sound) return { hit: true, path: found.path, sha256: found.sha256 };
    if (found.absent) return { hit: false };
    await this.discard(dir);
    return { hit: false, discarded: `${dir}: ${found.why}` };
  }

  private async inspect(dir: string): Promise<Inspection> {
    let files: string[];
    try {
      files = await readdir(dir);
    } catch (error) {
      if (code(error) === 'ENOENT') return { sound: false, absent: true };
      if (code(error) === 'ENOTDIR') return { sound: false, absent: false, why: 'not a directory' };
      throw error;
    }
    const bad = (why: string): Inspection => ({ sound: false, absent: false, why });
    let entry: Partial<Entry>;
    try {
      entry = JSON.parse(await readFile(path.join(dir, 'entry.json'), 'utf8')) as Partial<Entry>;
    } catch (error) {
      if (code(error) === 'ENOENT') return bad('no entry.json with the wheel\'s sha256 (an incomplete entry, or one written by an older reqset)');
      return bad('unreadable entry.json');
    }
    if (typeof entry !== 'object' || entry === null || typeof entry.file !== 'string' || typeof entry.sha256 !== 'string') return bad('unreadable entry.json');
    try {
      JSON.parse(await readFile(path.join(dir, 'inputs.json'), 'utf8'));
    } catch (error) {
      return bad(code(error) === 'ENOENT' ? 'no inputs.json' : 'unreadable inputs.json');
    }
    const wheels = files.filter((f) => f.endsWith('.whl'));
    if (wheels.length > 1) return bad(`more than one wheel (${wheels.sort().join(', ')})`);
    if (!wheels.includes(entry.file)) return bad(wheels[0] ? `holds ${wheels[0]}, entry.json records ${entry.file}` : `${entry.file} is missing`);
    const wheel = path.join(dir, entry.file);
    const actual = await sha256File(wheel).catch((error: unknown) => {
      if (code(error) === 'ENOENT' || code(error) === 'EISDIR') return undefined;
      throw error;
    });
    if (actual === undefined) return bad(`${entry.file} is missing`);
    if (actual !== entry.sha256) return bad(`${entry.file} has sha256 ${actual}, entry.json records ${entry.sha256}`);
    return { sound: true, path: wheel, sha256: actual };
  }

  /** Moves a bad entry out of the way (one rename, so no job sees half of it), then removes it. */
  private async discard(dir: string): Promise<void> {
    const aside = `${dir}.discarded-${randomBytes(6).toString('hex')}`;
    try {
      await rename(dir, aside);
    } catch (error) {
      // Another job discarded it first.
      if (code(error) === 'ENOENT') return;
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
  }

  /** Stores a built wheel (a copy); returns the wheel in the cache entry, the one another job stored first if it is sound. */
  async store(key: string, wheel: string, inputs: BuildInputs): Promise<string> {
    const final = this.entryDir(key);
    // Named with our pid: a killed run's staging is removed by the next store beside it.
    const staging = await stagingDirFor(final);
    let moved = false;
    try {
      const name = path.basename(wheel);
      await copyFile(wheel, path.join(staging, name));
      const entry: Entry = { file: name, sha256: await sha256File(path.join(staging, name)) };
      await writeFile(path.join(staging, 'inputs.json'), `${JSON.stringify(inputs, null, 2)}\n`);
      await writeFile(path.join(staging, 'entry.json'), `${JSON.stringify(entry, null, 1)}\n`);
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await rename(staging, final);
          moved = true;
          return path.join(final, name);
        } catch (error) {
          if (code(error) !== 'ENOTEMPTY' && code(error) !== 'EEXIST') throw error;
        }
        // Another job stored the same key first: its entry is as good as ours
        // if it is sound (whatever its wheel is called); a bad one is replaced.
        const other = await this.inspect(final);
        if (other.sound) return other.path;
        if (!other.absent) await this.discard(final);
      }
      throw new ToolError(`could not store ${name} in the wheel cache: ${final} kept being replaced by other jobs`);
    } finally {
      if (!moved) await discardDir(staging);
    }
  }

  /**
   * A wheel's verdict (what validating it found), by `key`: the wheel's
   * sha256, the limits it was held to and the validator's version. Validating
   * every member of numpy or scipy takes seconds; a wheel with the same bytes
   * gets the same verdict. An unreadable entry is a miss.
   */
  async verdict<T>(key: string): Promise<T | undefined> {
    return readFile(this.verdictFile(key), 'utf8').then((text) => JSON.parse(text) as T, () => undefined);
  }

  /** Stores a verdict; it appears by rename, whole or not at all. */
  async storeVerdict(key: string, verdict: unknown): Promise<void> {
    const file = this.verdictFile(key);
    // Written in a pid-named staging directory, so a killed run leaves nothing the next one does not remove.
    const staging = await stagingDirFor(file);
    try {
      await writeFile(path.join(staging, 'verdict.json'), JSON.stringify(verdict));
      await rename(path.join(staging, 'verdict.json'), file);
    } finally {
      await discardDir(staging);
    }
  }

  private verdictFile(key: string): string {
    return path.join(this.dir, 'verdicts', key.slice(0, 2), `${key}.json`);
  }

  logFile(reqset: string, target: string, item: string): string {
    return path.join(this.dir, 'logs', reqset, target, `${item}.log`);
  }
}
