/** Validation steps over the `.dist-info` files: read and parse them, and hold them to the file name. */
import { InputError } from '../../errors.ts';
import type { WheelName } from '../../python/tags.ts';
import {
  normalizeName,
  normalizeVersionText,
  parseCoreMetadata,
  parseEntryPoints,
  parseRecord,
  parseWheelFile,
  type CoreMetadata,
  type EntryPoints,
  type RecordEntry,
  type WheelInfo,
} from '../metadata.ts';
import { decodeUtf8, type MemberState, type ZipReader } from '../reader.ts';
import { memberProblem } from './members.ts';

const q = (s: string): string => JSON.stringify(s);

/** A dist-info file larger than this is refused (they are read into memory). */
const MAX_METADATA_FILE = 64 * 1024 * 1024;

export interface DistInfoFiles {
  metadata?: CoreMetadata;
  wheel?: WheelInfo;
  record?: RecordEntry[];
  entryPoints: EntryPoints;
  problems: string[];
}

/** One dist-info file's text, or undefined with the reason in `problems`. */
async function readText(
  reader: ZipReader,
  byName: ReadonlyMap<string, MemberState>,
  name: string,
  required: boolean,
  problems: string[],
): Promise<string | undefined> {
  const state = byName.get(name);
  if (!state || state.member.isDirectory) {
    if (required) problems.push(`the wheel has no ${name} (required)`);
    return undefined;
  }
  if (!state.readable) return undefined;
  if (state.member.uncompressedSize > MAX_METADATA_FILE) {
    problems.push(memberProblem(name, `is ${state.member.uncompressedSize} bytes; dist-info files over ${MAX_METADATA_FILE} bytes are refused`));
    return undefined;
  }
  const chunks: Buffer[] = [];
  const result = await reader.stream(state, (c) => void chunks.push(c));
  problems.push(...result.problems.map((why) => memberProblem(name, why)));
  if (result.problems.length) {
    state.readable = false;
    return undefined;
  }
  try {
    return decodeUtf8(Buffer.concat(chunks));
  } catch {
    problems.push(memberProblem(name, 'is not valid UTF-8'));
    return undefined;
  }
}

/** `parser(text)`, or undefined with its InputError's problems in `problems`. */
function parse<T>(name: string, text: string | undefined, parser: (t: string) => T, problems: string[]): T | undefined {
  if (text === undefined) return undefined;
  try {
    return parser(text);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    problems.push(...(error.problems.length ? error.problems : [error.message]).map((why) => memberProblem(name, why)));
    return undefined;
  }
}

/** METADATA, WHEEL, RECORD (required) and entry_points.txt, read and parsed. */
export async function readDistInfoFiles(reader: ZipReader, byName: ReadonlyMap<string, MemberState>, distInfo: string): Promise<DistInfoFiles> {
  const problems: string[] = [];
  const files: DistInfoFiles = { entryPoints: { console_scripts: {}, gui_scripts: {} }, problems };
  if (!distInfo) return files;
  const load = async <T>(file: string, required: boolean, parser: (t: string) => T): Promise<T | undefined> => {
    const name = `${distInfo}/${file}`;
    return parse(name, await readText(reader, byName, name, required, problems), parser, problems);
  };
  const metadata = await load('METADATA', true, parseCoreMetadata);
  const wheel = await load('WHEEL', true, parseWheelFile);
  const record = await load('RECORD', true, parseRecord);
  const entryPoints = await load('entry_points.txt', false, parseEntryPoints);
  return { ...(metadata && { metadata }), ...(wheel && { wheel }), ...(record && { record }), entryPoints: entryPoints ?? files.entryPoints, problems };
}

/** METADATA's Name and Version against the file name's. */
export function metadataMatchProblems(metadata: CoreMetadata | undefined, parsedFilename: WheelName | undefined, distInfo: string): string[] {
  if (!metadata || !parsedFilename) return [];
  const problems: string[] = [];
  const name = `${distInfo}/METADATA`;
  if (normalizeName(metadata.name) !== parsedFilename.key) {
    problems.push(memberProblem(name, `Name ${q(metadata.name)} does not match the file name's distribution ${q(parsedFilename.distribution)}`));
  }
  if (normalizeVersionText(metadata.version) !== normalizeVersionText(parsedFilename.version)) {
    problems.push(memberProblem(name, `Version ${q(metadata.version)} does not match the file name's version ${q(parsedFilename.version)}`));
  }
  return problems;
}

/** Script names that would not be safe as command names. */
export function entryPointProblems(entryPoints: EntryPoints, distInfo: string): string[] {
  const problems: string[] = [];
  for (const group of ['console_scripts', 'gui_scripts'] as const) {
    for (const script of Object.keys(entryPoints[group])) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(script)) {
        problems.push(memberProblem(`${distInfo}/entry_points.txt`, `[${group}] name ${q(script)} is not a safe command name`));
      }
    }
  }
  return problems;
}
