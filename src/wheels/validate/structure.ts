/** Validation steps over the zip's structure: local headers against the central directory, overlapping data. */
import { mapLimit } from '../../fsutil.ts';
import { CONCURRENCY, type MemberState, type ZipReader } from '../reader.ts';
import { memberProblem } from './members.ts';

const q = (s: string): string => JSON.stringify(s);

/** Each member's local header, read from the file; a member whose header is wrong is marked unreadable. */
export async function localHeaderProblems(reader: ZipReader, states: readonly MemberState[]): Promise<string[]> {
  const whys = await mapLimit(states, CONCURRENCY, (state) => reader.checkLocalHeader(state));
  const problems: string[] = [];
  states.forEach((state, i) => {
    const why = whys[i];
    if (why) {
      problems.push(memberProblem(state.member.name, why));
      state.readable = false;
    }
  });
  return problems;
}

/** Members whose data runs into the next member's local header (marked unreadable). */
export function overlapProblems(states: readonly MemberState[]): string[] {
  const located = states.filter((s) => s.member.dataOffset >= 0).sort((a, b) => a.member.localHeaderOffset - b.member.localHeaderOffset);
  const problems: string[] = [];
  for (let i = 1; i < located.length; i++) {
    const prev = located[i - 1] as MemberState;
    const cur = located[i] as MemberState;
    if (prev.member.dataOffset + prev.member.compressedSize > cur.member.localHeaderOffset) {
      problems.push(memberProblem(cur.member.name, `overlaps the data of member ${q(prev.member.name)} in the file (overlapping entries)`));
      cur.readable = false;
    }
  }
  return problems;
}
