/** Validation steps over the wheel's layout: one .dist-info matching the file name, known .data keys, no reserved names. */
import type { WheelName } from '../../python/tags.ts';
import { normalizeName, normalizeVersionText } from '../metadata.ts';
import type { MemberState } from '../reader.ts';
import { ZIPINFO_FILE } from '../zipinfo.ts';
import { memberProblem } from './members.ts';

const q = (s: string): string => JSON.stringify(s);

/** The keys allowed under `{name}-{version}.data/`. */
export const DATA_DIRECTORY_KEYS: ReadonlySet<string> = new Set(['purelib', 'platlib', 'headers', 'scripts', 'data']);

/** A member name's first segment. */
function topLevel(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
}

/** The one top-level `.dist-info` directory ('' when there is none or more than one) and its problems. */
export function distInfoDirectory(states: readonly MemberState[], parsedFilename: WheelName | undefined): { distInfo: string; problems: string[] } {
  const tops = new Set<string>();
  for (const { member } of states) tops.add(topLevel(member.name));
  const distInfos = [...tops].filter((t) => t.endsWith('.dist-info')).sort();
  if (distInfos.length === 0) return { distInfo: '', problems: ['the wheel has no top-level *.dist-info directory'] };
  if (distInfos.length > 1) {
    return { distInfo: '', problems: [`the wheel has ${distInfos.length} .dist-info directories (${distInfos.join(', ')}); it must have exactly one`] };
  }
  const distInfo = distInfos[0] as string;
  if (!parsedFilename) return { distInfo, problems: [] };
  const distStem = distInfo.slice(0, -'.dist-info'.length);
  const dash = distStem.lastIndexOf('-');
  const diName = dash > 0 ? distStem.slice(0, dash) : distStem;
  const diVersion = dash > 0 ? distStem.slice(dash + 1) : '';
  if (normalizeName(diName) === parsedFilename.key && normalizeVersionText(diVersion) === normalizeVersionText(parsedFilename.version)) {
    return { distInfo, problems: [] };
  }
  return {
    distInfo,
    problems: [
      `the .dist-info directory ${q(distInfo)} does not match the file name ` +
        `(expected ${parsedFilename.distribution}-${parsedFilename.version}.dist-info)`,
    ],
  };
}

/** Members that collide with ZIPINFO_FILE or sit where a `.data` directory allows nothing. */
export function placementProblems(states: readonly MemberState[], distInfo: string): string[] {
  const distStem = distInfo.slice(0, -'.dist-info'.length);
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const { member } of states) {
    const top = topLevel(member.name);
    if (member.name === ZIPINFO_FILE) problems.push(memberProblem(member.name, `collides with the file reqset writes next to the unpacked wheel (${ZIPINFO_FILE})`));
    if (!top.endsWith('.data') || !top.includes('-') || top === member.name) continue;
    const segments = member.name.split('/');
    if (distInfo && normalizeVersionText(top.slice(0, -'.data'.length)) !== normalizeVersionText(distStem)) {
      if (!reported.has(top)) problems.push(memberProblem(member.name, `is in the data directory ${q(top)}, which does not belong to ${q(distInfo)} (expected ${distStem}.data)`));
      reported.add(top);
      continue;
    }
    const key = segments[1] ?? '';
    if (segments.length === 2 && key === '') continue; // the "x-1.0.data/" entry itself
    if (segments.length === 2) {
      problems.push(memberProblem(member.name, `is directly in ${q(top + '/')}; files there must be under one of ${[...DATA_DIRECTORY_KEYS].join(', ')}`));
    } else if (!DATA_DIRECTORY_KEYS.has(key)) {
      const scheme = `${top}/${key}/`;
      if (!reported.has(scheme)) {
        reported.add(scheme);
        problems.push(memberProblem(member.name, `unknown .data directory ${q(scheme)} (allowed: ${[...DATA_DIRECTORY_KEYS].join(', ')})`));
      }
    }
  }
  return problems;
}
