/**
 * Wheel filenames (PEP 427) and their compatibility tags (PEP 425, PEP 600
 * manylinux) judged against a target: its CPython version, glibc and arch.
 */
import pep440 from '@renovatebot/pep440';
import { normalizeName } from './names.ts';

export interface WheelName {
  filename: string;
  /** PEP 503 normalized. */
  key: string;
  version: string;
  build?: string;
  pythonTags: string[];
  abiTags: string[];
  platformTags: string[];
}

export function parseWheelFilename(filename: string): WheelName | undefined {
  const m = /^([^-]+)-([^-]+)(?:-(\d[^-]*))?-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(filename);
  if (!m) return undefined;
  const [, name, version, build, py, abi, plat] = m as unknown as string[];
  if (!name || !version || !py || !abi || !plat || !pep440.valid(version)) return undefined;
  return {
    filename,
    key: normalizeName(name),
    version,
    build,
    pythonTags: py.split('.'),
    abiTags: abi.split('.'),
    platformTags: plat.split('.'),
  };
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
