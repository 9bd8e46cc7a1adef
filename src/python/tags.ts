/**
 * Wheel filenames (PEP 427) and their compatibility tags (PEP 425, PEP 600
 * manylinux) judged against a target: its CPython version, glibc and arch.
 */
import pep440 from '@renovatebot/pep440';
import { InputError } from '../errors.ts';
import { normalizeName } from './names.ts';

/** A parsed wheel file name: `{distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl`. */
export interface WheelName {
  filename: string;
  /** As written in the file name (escaped: `-` never appears in it). */
  distribution: string;
  /** PEP 503 normalized. */
  key: string;
  /** A valid PEP 440 version, as written. */
  version: string;
  /** Starts with a digit. */
  build?: string;
  pythonTags: string[];
  abiTags: string[];
  platformTags: string[];
  /** Every expanded `python-abi-platform` tag the file name claims. */
  tags: string[];
}

const FILENAME_DIST = /^[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?$/;
const FILENAME_VERSION = /^[A-Za-z0-9_.!+]+$/;
const FILENAME_BUILD = /^[0-9][A-Za-z0-9_.]*$/;
const FILENAME_TAG = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;

/**
 * The one wheel file name parser (PEP 427 / the binary distribution format
 * spec): a bare file name (no path separators), a distribution name, a PEP 440
 * version, an optional build tag starting with a digit, and the python, abi
 * and platform tags (compressed tag sets split on `.`). Returns why the name
 * does not fit instead of a parse.
 */
function checkWheelFilename(filename: string): WheelName | string {
  if (filename.includes('/') || filename.includes('\\')) return 'it contains a path separator';
  if (!filename.endsWith('.whl')) return 'it does not end in .whl';
  const parts = filename.slice(0, -'.whl'.length).split('-');
  if (parts.length !== 5 && parts.length !== 6) return `it has ${parts.length} dash-separated parts, expected 5 or 6`;
  const [distribution = '', version = ''] = parts;
  const build = parts.length === 6 ? parts[2] : undefined;
  const [python = '', abi = '', platform = ''] = parts.slice(-3);
  if (!FILENAME_DIST.test(distribution)) return `bad distribution part ${JSON.stringify(distribution)}`;
  if (!FILENAME_VERSION.test(version) || !pep440.valid(version)) return `bad version part ${JSON.stringify(version)} (it must be a PEP 440 version)`;
  if (build !== undefined && !FILENAME_BUILD.test(build)) return `bad build tag ${JSON.stringify(build)} (it must start with a digit)`;
  for (const [what, tag] of [['python', python], ['abi', abi], ['platform', platform]] as const) {
    if (!FILENAME_TAG.test(tag)) return `bad ${what} tag ${JSON.stringify(tag)}`;
  }
  const pythonTags = python.split('.');
  const abiTags = abi.split('.');
  const platformTags = platform.split('.');
  const tags: string[] = [];
  for (const p of pythonTags) for (const a of abiTags) for (const pl of platformTags) tags.push(`${p}-${a}-${pl}`);
  return {
    filename,
    distribution,
    key: normalizeName(distribution),
    version,
    ...(build !== undefined ? { build } : {}),
    pythonTags,
    abiTags,
    platformTags,
    tags,
  };
}

/** A wheel file name parsed, or undefined when it is not one (see wheelFilenameOrThrow for why). */
export function parseWheelFilename(filename: string): WheelName | undefined {
  const parsed = checkWheelFilename(filename);
  return typeof parsed === 'string' ? undefined : parsed;
}

/** A wheel file name parsed; throws an InputError that explains what does not fit. */
export function wheelFilenameOrThrow(filename: string): WheelName {
  const parsed = checkWheelFilename(filename);
  if (typeof parsed !== 'string') return parsed;
  throw new InputError(`${JSON.stringify(filename)} is not a valid wheel file name: ${parsed}`, [
    `a wheel file name is {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl (${parsed})`,
  ]);
}

export interface TagTarget {
  /** "3.11" */
  pythonVersion: string;
  /** "2.34" */
  glibc: string;
  arch: string;
}

export function isPureWheel(wheel: WheelName): boolean {
  return wheel.abiTags.every((t) => t === 'none') && wheel.platformTags.every((t) => t === 'any');
}

const LEGACY_MANYLINUX: Record<string, [number, number]> = {
  manylinux1: [2, 5],
  manylinux2010: [2, 12],
  manylinux2014: [2, 17],
};

/** The glibc a platform tag needs, or undefined for `any`/`linux_*`; null when it is not a glibc Linux tag. */
function platformRequirement(tag: string, arch: string): { ok: true; glibc?: [number, number] } | { ok: false; why: string } {
  if (tag === 'any') return { ok: true };
  const archOf = (rest: string) => rest === arch;
  let m = /^linux_(.+)$/.exec(tag);
  if (m?.[1]) return archOf(m[1]) ? { ok: true } : { ok: false, why: `is for ${m[1]}, not ${arch}` };
  m = /^manylinux_(\d+)_(\d+)_(.+)$/.exec(tag);
  if (m?.[3]) return archOf(m[3]) ? { ok: true, glibc: [Number(m[1]), Number(m[2])] } : { ok: false, why: `is for ${m[3]}, not ${arch}` };
  m = /^(manylinux1|manylinux2010|manylinux2014)_(.+)$/.exec(tag);
  if (m?.[1] && m[2]) return archOf(m[2]) ? { ok: true, glibc: LEGACY_MANYLINUX[m[1]] } : { ok: false, why: `is for ${m[2]}, not ${arch}` };
  if (tag.startsWith('musllinux_')) return { ok: false, why: 'needs musl libc, the target uses glibc' };
  return { ok: false, why: 'is not a Linux platform' };
}

/** The CPython ABI tag of a version: 3.6/3.7 still carry the "m" (pymalloc) flag. */
export function cpythonAbi(pythonVersion: string): string {
  const [major, minor] = pythonVersion.split('.').map(Number) as [number, number];
  return `cp${major}${minor}${minor < 8 ? 'm' : ''}`;
}

function interpreterOk(py: string, abi: string, target: TagTarget): boolean {
  const [major, minor] = target.pythonVersion.split('.').map(Number) as [number, number];
  const own = `cp${major}${minor}`;
  if (abi === 'none') {
    if (py === `py${major}` || py === own) return true;
    const m = /^py(\d)(\d+)$/.exec(py);
    return !!m && Number(m[1]) === major && Number(m[2]) <= minor;
  }
  if (abi === 'abi3') {
    const m = /^cp(\d)(\d+)$/.exec(py);
    return !!m && Number(m[1]) === major && Number(m[2]) <= minor;
  }
  return py === own && abi === cpythonAbi(target.pythonVersion);
}

/**
 * Why a wheel cannot be installed on the target, or undefined when some tag
 * triple of it fits. The reasons name what the wheel needs and what the
 * target has, so a report can say exactly what is wrong.
 */
export function incompatibility(wheel: WheelName, target: TagTarget): string | undefined {
  const interpreters = wheel.pythonTags.flatMap((py) => wheel.abiTags.map((abi) => [py, abi] as const));
  if (!interpreters.some(([py, abi]) => interpreterOk(py, abi, target))) {
    const tags = interpreters.map(([py, abi]) => `${py}-${abi}`).join(', ');
    return `built for ${tags}; the target has CPython ${target.pythonVersion} (needs ${cpythonAbi(target.pythonVersion).replace(/m$/, '')}, abi3 up to it, or py3-none)`;
  }
  const [gMajor, gMinor] = target.glibc.split('.').map(Number) as [number, number];
  const why: string[] = [];
  for (const tag of wheel.platformTags) {
    const need = platformRequirement(tag, target.arch);
    if (!need.ok) {
      why.push(`${tag} ${need.why}`);
      continue;
    }
    if (!need.glibc) return undefined;
    const [major, minor] = need.glibc;
    if (major < gMajor || (major === gMajor && minor <= gMinor)) return undefined;
    why.push(`${tag} needs glibc ${major}.${minor}, the target has glibc ${target.glibc}`);
  }
  return why.join('; ');
}

/** Lower is better: prefers the most specific compatible wheel, as pip does. */
export function tagPreference(wheel: WheelName, target: TagTarget): number {
  if (incompatibility(wheel, target) !== undefined) return Number.POSITIVE_INFINITY;
  if (isPureWheel(wheel)) return 3;
  if (wheel.abiTags.includes('abi3')) return 2;
  if (wheel.platformTags.some((t) => t.startsWith('linux_'))) return 1;
  return 0;
}
