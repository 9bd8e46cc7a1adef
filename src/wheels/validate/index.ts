/**
 * Validation of an opened wheel: runs each step (each returns its problems, in
 * the order they are reported) and decides the verdict. Nothing from a wheel is
 * trusted until it has been checked: member paths, file types, the zip
 * structure, RECORD (every file listed, every hash and size right) and the
 * metadata files.
 */
import { InputError } from '../../errors.ts';
import { wheelFilenameOrThrow, type WheelName } from '../../python/tags.ts';
import type { CoreMetadata, EntryPoints, RecordEntry, WheelInfo } from '../metadata.ts';
import { memberState, type MemberState, type ZipReader } from '../reader.ts';
import { entryPointProblems, metadataMatchProblems, readDistInfoFiles } from './dist-info.ts';
import { distInfoDirectory, placementProblems } from './layout.ts';
import { duplicateProblems, entryProblems, parentFileProblems } from './members.ts';
import { contentProblems, recordProblems } from './record.ts';
import { localHeaderProblems, overlapProblems } from './structure.ts';
import type yauzl from 'yauzl';

/** What a valid wheel is found to be. */
export interface ValidWheel {
  parsedFilename: WheelName;
  distInfo: string;
  metadata: CoreMetadata;
  wheel: WheelInfo;
  entryPoints: EntryPoints;
  record: RecordEntry[];
  /** In central-directory order. */
  states: MemberState[];
  /** The first member of each name. */
  byName: Map<string, MemberState>;
}

/** The file name parsed, or its problems. */
function filenameProblems(filename: string): { parsed?: WheelName; problems: string[] } {
  try {
    return { parsed: wheelFilenameOrThrow(filename), problems: [] };
  } catch (error) {
    return { problems: error instanceof InputError ? error.problems : [(error as Error).message] };
  }
}

/** The members of `entries`, each with its own problems and its duplicates'. */
function centralDirectory(entries: readonly yauzl.Entry[]): { states: MemberState[]; byName: Map<string, MemberState>; problems: string[] } {
  const states = entries.map(memberState);
  const byPath = new Map<string, MemberState>();
  const byName = new Map<string, MemberState>();
  const problems: string[] = [];
  for (const state of states) problems.push(...entryProblems(state), ...duplicateProblems(state, byPath, byName));
  return { states, byName, problems };
}

export interface ValidateOptions {
  /** false: the members' bytes are not read (source.ts validatedSha256: these bytes were found valid before); default true. */
  readContents?: boolean;
}

/** Every problem of the wheel `reader` has open, or what the valid wheel is. */
export async function validate(reader: ZipReader, filename: string, entries: readonly yauzl.Entry[], options: ValidateOptions = {}): Promise<{ problems: string[] } | { valid: ValidWheel }> {
  const name = filenameProblems(filename);
  const { states, byName, problems: memberProblems } = centralDirectory(entries);
  const problems = [...name.problems, ...memberProblems, ...parentFileProblems(states)];
  problems.push(...localHeaderProblems(reader, states), ...overlapProblems(states));
  const { distInfo, problems: distInfoProblems } = distInfoDirectory(states, name.parsed);
  problems.push(...distInfoProblems, ...placementProblems(states, distInfo));
  const files = await readDistInfoFiles(reader, byName, distInfo);
  problems.push(...files.problems, ...metadataMatchProblems(files.metadata, name.parsed, distInfo), ...entryPointProblems(files.entryPoints, distInfo));
  problems.push(...recordProblems(files.record, states, byName, distInfo));
  if (options.readContents !== false) problems.push(...(await contentProblems(reader, states, byName)));

  const { parsed: parsedFilename } = name;
  const { metadata, wheel, record, entryPoints } = files;
  if (problems.length || !parsedFilename || !metadata || !wheel || !record) {
    return { problems: problems.length ? problems : ['the wheel could not be read'] };
  }
  return { valid: { parsedFilename, distInfo, metadata, wheel, entryPoints, record, states, byName } };
}
