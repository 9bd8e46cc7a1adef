/**
 * Finding a pin's artifacts in local --find-links directories: wheels (ranked
 * for the target) and sdists, and an sdist's declared build requirements.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import pep440 from '@renovatebot/pep440';
import yauzl from 'yauzl';
import { InputError } from '../errors.ts';
import { normalizeName } from '../python/names.ts';
import { parseWheelFilename, tagPreference, type TagTarget, type WheelName } from '../python/tags.ts';

export interface LocalArtifacts {
  /** Compatible first; incompatible ones kept so the check can say why. */
  wheels: { path: string; name: WheelName }[];
  sdist?: string;
}

const SDIST = /^(.+)-([^-]+)\.(tar\.gz|zip)$/;

/**
 * Lists every file of the local find-links directories once. A directory that
 * does not exist is an input error naming where it is named (`namedAt`, by
 * path): pip would only ignore it and then fail to find the pins it holds.
 */
export async function listFindLinks(findLinks: string[], namedAt: Record<string, string> = {}): Promise<string[]> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const dir of findLinks) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dir)) continue;
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(missingFindLinks(dir, namedAt[dir]));
      continue;
    }
    for (const entry of entries.sort()) files.push(path.join(dir, entry));
  }
  if (missing.length) throw new InputError(`${missing.length === 1 ? 'a --find-links directory does' : 'some --find-links directories do'} not exist`, missing);
  return files;
}

function missingFindLinks(dir: string, namedAt: string | undefined): string {
  if (!namedAt) return `--find-links ${dir} (command line) does not exist: create it with the wheels and sdists of the pins, or fix the path`;
  const file = namedAt.replace(/:\d+$/, '');
  return `${namedAt}: --find-links ${dir} does not exist: create it with the wheels and sdists of the pins (the pin list's comments may say how), or fix the path, which is relative to ${file}`;
}

export function locate(files: string[], key: string, version: string, target: TagTarget): LocalArtifacts {
  const wheels: LocalArtifacts['wheels'] = [];
  let sdist: string | undefined;
  for (const file of files) {
    const base = path.basename(file);
    const wheel = parseWheelFilename(base);
    if (wheel) {
      if (wheel.key === key && pep440.eq(wheel.version, version)) wheels.push({ path: file, name: wheel });
      continue;
    }
    const m = SDIST.exec(base);
    if (m?.[1] && m[2] && !sdist && normalizeName(m[1]) === key && pep440.valid(m[2]) && pep440.eq(m[2], version)) sdist = file;
  }
  wheels.sort((a, b) => tagPreference(a.name, target) - tagPreference(b.name, target) || a.name.filename.localeCompare(b.name.filename));
  return { wheels, sdist };
}

/** Setuptools' implicit build requirements when an sdist has no pyproject.toml (PEP 517). */
const LEGACY_BUILD_REQUIRES = ['setuptools>=40.8.0', 'wheel'];

/**
 * `[build-system] requires` of a pyproject.toml: a small reader for the one
 * key we need (an array of strings), not a general TOML parser.
 */
export function buildRequiresFromPyproject(text: string): string[] | undefined {
  const section = /^\[build-system\][^\n]*\n([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text);
  if (!section?.[1]) return undefined;
  const body = section[1].replace(/#[^\n'"]*$/gm, '');
  const array = /^\s*requires\s*=\s*\[([\s\S]*?)\]/m.exec(body);
  if (!array?.[1]) return undefined;
  return [...array[1].matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2] ?? '').filter(Boolean);
}

async function readTarMember(archive: string, wanted: (name: string) => boolean): Promise<string | undefined> {
  // Loaded here: only a pin built from an sdist needs it, and every command would pay its import.
  const tar = await import('tar');
  let found: string | undefined;
  await tar.t({
    file: archive,
    onReadEntry: (entry) => {
      if (found === undefined && wanted(entry.path)) {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => (found = Buffer.concat(chunks).toString('utf8')));
      } else entry.resume();
    },
  });
  return found;
}

async function readZipMember(archive: string, wanted: (name: string) => boolean): Promise<string | undefined> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(archive, { lazyEntries: true }, (err, z) => (err || !z ? reject(err) : resolve(z))),
  );
  return new Promise((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      if (!wanted(entry.fileName)) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          zip.close();
          resolve(Buffer.concat(chunks).toString('utf8'));
        });
      });
    });
    zip.on('end', () => resolve(undefined));
    zip.on('error', reject);
    zip.readEntry();
  });
}

/** The build requirements an sdist declares (its top-level pyproject.toml). */
export async function sdistBuildRequires(archive: string): Promise<string[]> {
  const isTopPyproject = (name: string) => /^[^/]+\/pyproject\.toml$/.test(name.replace(/^\.\//, ''));
  const text = archive.endsWith('.zip') ? await readZipMember(archive, isTopPyproject) : await readTarMember(archive, isTopPyproject);
  if (text === undefined) return LEGACY_BUILD_REQUIRES;
  return buildRequiresFromPyproject(text) ?? LEGACY_BUILD_REQUIRES;
}
