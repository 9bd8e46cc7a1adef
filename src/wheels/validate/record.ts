/** Validation steps over RECORD and the members' bytes: every file listed, every size and hash right. */
import { mapLimit } from '../../fsutil.ts';
import { decodeRecordHash, type RecordEntry } from '../metadata.ts';
import { CONCURRENCY, isStreamed, type ContentResult, type MemberState, type ZipReader } from '../reader.ts';
import { memberProblem } from './members.ts';

const q = (s: string): string => JSON.stringify(s);

/** One RECORD row against the member it names; sets the member's expected hash. */
function rowProblems(row: RecordEntry, state: MemberState | undefined, unsigned: ReadonlySet<string>): string[] {
  const at = `RECORD line ${row.line}`;
  if (!state || state.member.isDirectory) return [`${at}: RECORD lists ${q(row.path)}, which is not in the wheel`];
  const problems: string[] = [];
  if (row.size !== undefined && row.size !== state.member.uncompressedSize) {
    problems.push(memberProblem(row.path, `RECORD size ${row.size} does not match the member's size ${state.member.uncompressedSize} (${at})`));
  }
  if (unsigned.has(row.path)) return problems;
  if (row.hash === '') return [...problems, memberProblem(row.path, `has no hash in RECORD (${at})`)];
  const decoded = decodeRecordHash(row.hash);
  if (typeof decoded === 'string') return [...problems, memberProblem(row.path, `${decoded} (${at})`)];
  state.expected = decoded;
  state.member.recordHash = row.hash;
  return problems;
}

/**
 * RECORD against the members: each row names a file of the wheel with its size
 * and hash (RECORD and its signatures have none), each file has a row.
 */
export function recordProblems(
  record: readonly RecordEntry[] | undefined,
  states: readonly MemberState[],
  byName: ReadonlyMap<string, MemberState>,
  distInfo: string,
): string[] {
  if (!record) return [];
  const recordName = `${distInfo}/RECORD`;
  const unsigned = new Set([recordName, `${recordName}.jws`, `${recordName}.p7s`]);
  const problems: string[] = [];
  const rows = new Map<string, RecordEntry>();
  for (const row of record) {
    const earlier = rows.get(row.path);
    if (earlier) {
      problems.push(memberProblem(row.path, `is listed more than once in RECORD (lines ${earlier.line} and ${row.line})`));
      continue;
    }
    rows.set(row.path, row);
    if (row.path.endsWith('/')) continue; // a directory row: nothing to check
    problems.push(...rowProblems(row, byName.get(row.path), unsigned));
  }
  for (const { member } of states) {
    if (!member.isDirectory && !unsigned.has(member.name) && !rows.has(member.name)) {
      problems.push(memberProblem(member.name, 'is not listed in RECORD'));
    }
  }
  return problems;
}

/** Every readable file's bytes: size, CRC and RECORD hash (dist-info files again: now RECORD is known). Sets sha256. */
export async function contentProblems(reader: ZipReader, states: readonly MemberState[], byName: ReadonlyMap<string, MemberState>): Promise<string[]> {
  const toHash = states.filter((s) => !s.member.isDirectory && s.readable && byName.get(s.member.name) === s);
  // The big members several at a time (their inflation runs in the thread pool), the small ones at once.
  const streamed = toHash.filter((s) => isStreamed(s.member));
  const streamedResults = await mapLimit(streamed, CONCURRENCY, (state) => reader.stream(state, () => undefined));
  const results = new Map<MemberState, ContentResult>(streamed.map((state, i) => [state, streamedResults[i] as ContentResult]));
  const problems: string[] = [];
  for (const state of toHash) {
    const result = results.get(state) ?? reader.readWhole(state);
    problems.push(...result.problems.map((why) => memberProblem(state.member.name, why)));
    state.member.sha256 = result.sha256;
  }
  return problems;
}
