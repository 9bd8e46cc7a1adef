/**
 * The hashes of reqsets/webapp.txt: for every pin, the sha256 of each file of
 * its PyPI release that pip may use on the webapp's targets (CPython 3.11,
 * x86_64, glibc up to Debian 12's): the sdist, and the compatible wheels unless
 * the pin list's --no-binary names the project. The e2e test checks the pin
 * list against PyPI with it; after changing a version in the pin list, write
 * the hashes again with
 *
 *   node --import tsx test/helpers/webapp-pins.ts --write
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { normalizeName } from '../../src/python/names.ts';
import { incompatibility, parseWheelFilename, type TagTarget } from '../../src/python/tags.ts';
import { REPO_ROOT } from './env.ts';

export const WEBAPP_PIN_LIST = path.join(REPO_ROOT, 'reqsets', 'webapp.txt');

/** Both targets' tags at once (el9-py311 has glibc 2.34, debian12 2.36): what pip on either may pick. */
const WEBAPP_TAGS: TagTarget = { pythonVersion: '3.11', glibc: '2.36', arch: 'x86_64' };

/** `name==version \` opening a pin, in the form pip-compile writes. */
const PIN_LINE = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$/;
const HASH_LINE = /^\s+--hash=sha256:[0-9a-f]{64}( \\)?$/;

interface ReleaseFile {
  filename: string;
  packagetype: string;
  digests: { sha256: string };
}

/** The projects a pin list's `--no-binary` lines name (comma lists, as pip reads them). */
export function noBinaryProjects(text: string): Set<string> {
  const lines = [...text.matchAll(/^--no-binary[ =](\S+)/gm)].map((m) => m[1] ?? '');
  return new Set(lines.flatMap((l) => l.split(',')).map(normalizeName));
}

/** The sha256 of every file of `name==version` on PyPI that pip may use on the targets, sorted. */
export async function pypiHashes(name: string, version: string, sdistOnly: boolean): Promise<string[]> {
  const response = await fetch(`https://pypi.org/pypi/${normalizeName(name)}/json`);
  if (!response.ok) throw new Error(`PyPI's JSON API answered ${response.status} for ${name}`);
  const files = ((await response.json()) as { releases: Record<string, ReleaseFile[]> }).releases[version];
  if (!files?.length) throw new Error(`PyPI has no files of ${name}==${version}`);
  const usable = files.filter((f) => {
    if (f.packagetype === 'sdist') return true;
    const wheel = f.filename.endsWith('.whl') ? parseWheelFilename(f.filename) : undefined;
    return !sdistOnly && wheel !== undefined && incompatibility(wheel, WEBAPP_TAGS) === undefined;
  });
  return usable.map((f) => f.digests.sha256).sort();
}

/** The pin list with every pin's hash lines replaced by what PyPI has now; everything else kept as it is. */
export async function withPypiHashes(text: string): Promise<string> {
  const noBinary = noBinaryProjects(text);
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    out.push(line);
    const pin = PIN_LINE.exec(line);
    if (!pin?.[1] || !pin[2]) continue;
    while (HASH_LINE.test(lines[i + 1] ?? '')) i++;
    const hashes = await pypiHashes(pin[1], pin[2], noBinary.has(normalizeName(pin[1])));
    out.push(...hashes.map((h, n) => `    --hash=sha256:${h}${n < hashes.length - 1 ? ' \\' : ''}`));
  }
  return out.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  if (process.argv[2] !== '--write') {
    console.error('usage: node --import tsx test/helpers/webapp-pins.ts --write');
    process.exit(2);
  }
  await writeFile(WEBAPP_PIN_LIST, await withPypiHashes(await readFile(WEBAPP_PIN_LIST, 'utf8')));
  console.log(`wrote ${WEBAPP_PIN_LIST}`);
}
