/** Validation steps over the zip's structure: local headers against the central directory, overlapping data. */
import type { MemberState, ZipReader } from '../reader.ts';
import { memberProblem } from './members.ts';

const q = (s: string): string => JSON.stringify(s);

/** Each member's local header, read from the file; a member whose header is wrong is marked unreadable. */
export function localHeaderProblems(reader: ZipReader, states: readonly MemberState[]): string[] {
  const problems: string[] = [];
  for (const state of states) {
    const why = reader.checkLocalHeader(state);
    if (why) {
      problems.push(memberProblem(state.member.name, why));
      state.readable = false;
    }
  }
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
