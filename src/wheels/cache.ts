/**
 * The content-addressed wheel cache: a built wheel is stored under the hash
 * of everything that went into building it, so an unchanged pin is never
 * rebuilt and a changed input never reuses a stale wheel. An entry
 * `wheels/<k2>/<key>/` holds the wheel, inputs.json (what it was built from)
 * and entry.json (the wheel's file name and sha256), checked on every reuse:
 * a bad or incomplete entry (entries of older reqset versions have no
 * entry.json) is discarded and reported, and the wheel is built again. Safe to
 * share between concurrent jobs: entries appear, and are discarded, by rename.
 * Distributions fetched from an index are kept the same way under
 * `downloads/`, keyed by what selects them, so an unchanged pin is fetched once.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { discard as discardDir, sha256, sha256File, stagingDirFor, VerdictFiles } from '../fsutil.ts';

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

/** What entry.json records: the file reused from the entry, and what the caller noted about it. */
interface Entry {
  file: string;
  sha256: string;
  /** A fetched distribution: the URL it came from (credentials redacted). */
  from?: string;
  /** A built wheel: the build requirements pip took from the index, as `name==version` (--allow-unpinned-build-requirements). */
  unpinnedBuildRequirements?: string[];
}

/** What the caller notes in an entry, besides the file. */
export type EntryNotes = Omit<Entry, 'file' | 'sha256'>;

export type WheelLookup = ({ hit: true; path: string; sha256: string } & EntryNotes) | { hit: false; discarded?: string };

/** What an entry directory holds: a sound entry, nothing, or why it is bad. */
type Inspection = ({ sound: true; path: string; sha256: string } & EntryNotes) | { sound: false; absent: true } | { sound: false; absent: false; why: string };

/** The two kinds of entries: built wheels, and distributions fetched from an index (wheels or sdists). */
const AREAS = {
  wheels: (file: string) => file.endsWith('.whl'),
  downloads: (file: string) => /\.(whl|tar\.gz|zip)$/.test(file),
};
type Area = keyof typeof AREAS;

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

export class WheelCache {
  /**
   * Wheels' verdicts (what validating one found), by a key of the wheel's
   * sha256, the limits it was held to and the validator's version. Validating
   * every member of numpy or scipy takes seconds; a wheel with the same bytes
   * gets the same verdict.
   */
  readonly verdicts: VerdictFiles;

  constructor(readonly dir: string) {
    this.verdicts = new VerdictFiles(path.join(dir, 'verdicts'));
  }

  private entryDir(key: string, area: Area = 'wheels'): string {
    return path.join(this.dir, area, key.slice(0, 2), key);
  }

  /**
   * The cached wheel (or, in `downloads`, fetched distribution) when its
   * entry is sound. A bad or incomplete entry is removed; `discarded` names it
   * and says why, for one warning.
   */
  async lookup(key: string, area: Area = 'wheels'): Promise<WheelLookup> {
    const dir = this.entryDir(key, area);
    const found = await this.inspect(dir, area);
    if (found.sound) {
      const { sound: _, ...hit } = found;
      return { hit: true, ...hit };
    }
    if (found.absent) return { hit: false };
    await this.discard(dir);
    return { hit: false, discarded: `${dir}: ${found.why}` };
  }

  private async inspect(dir: string, area: Area): Promise<Inspection> {
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
    const wheels = files.filter(AREAS[area]);
    if (wheels.length > 1) return bad(`more than one wheel (${wheels.sort().join(', ')})`);
    if (!wheels.includes(entry.file)) return bad(wheels[0] ? `holds ${wheels[0]}, entry.json records ${entry.file}` : `${entry.file} is missing`);
    const wheel = path.join(dir, entry.file);
    const actual = await sha256File(wheel).catch((error: unknown) => {
      if (code(error) === 'ENOENT' || code(error) === 'EISDIR') return undefined;
      throw error;
    });
    if (actual === undefined) return bad(`${entry.file} is missing`);
    if (actual !== entry.sha256) return bad(`${entry.file} has sha256 ${actual}, entry.json records ${entry.sha256}`);
    const { file: _, sha256: __, ...notes } = entry;
    return { sound: true, path: wheel, sha256: actual, ...notes };
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

  /**
   * Stores a built wheel (or, in `downloads`, a fetched distribution) as a
   * copy, with what selected it (`inputs`) and the caller's notes; returns the
   * file in the cache entry, the one another job stored first if it is sound.
   */
  async store(key: string, wheel: string, inputs: object, notes: EntryNotes = {}, area: Area = 'wheels'): Promise<string> {
    const final = this.entryDir(key, area);
    // Named with our pid: a killed run's staging is removed by the next store beside it.
    const staging = await stagingDirFor(final);
    let moved = false;
    try {
      const name = path.basename(wheel);
      await copyFile(wheel, path.join(staging, name));
      const entry: Entry = { file: name, sha256: await sha256File(path.join(staging, name)), ...notes };
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
        const other = await this.inspect(final, area);
        if (other.sound) return other.path;
        if (!other.absent) await this.discard(final);
      }
      throw new ToolError(`could not store ${name} in the wheel cache: ${final} kept being replaced by other jobs`);
    } finally {
      if (!moved) await discardDir(staging);
    }
  }

  logFile(reqset: string, target: string, item: string): string {
    return path.join(this.dir, 'logs', reqset, target, `${item}.log`);
  }
}
