/**
 * A wheel source: opens a `.whl`, reads and validates everything about it
 * (reader.ts, validate/; bytes found valid before, by sha256, are not read
 * through again: OpenWheelOptions.validatedSha256), and only then hands out
 * its metadata, its members and their bytes. Writing the wheel somewhere is
 * a destination's business: extract.ts (an unpacked tree) and stored-zip.ts
 * (a zip of stored members), both taking a WheelSource. All problems of one
 * wheel are reported in one InputError.
 */
import * as path from 'node:path';
import { InputError } from '../errors.ts';
import type { WheelName } from '../python/tags.ts';
import { limitProblems, memberCountProblems, resolveLimits, type WheelLimits } from './limits.ts';
import type { CoreMetadata, EntryPoints, RecordEntry, WheelInfo } from './metadata.ts';
import { isStreamed, ZipReader, type MemberState, type WheelMember } from './reader.ts';
import { validate, type ValidWheel } from './validate/index.ts';
import { zipInfoOf, type ZipInfo } from './zipinfo.ts';


export interface OpenWheelOptions {
  /** Overrides of DEFAULT_WHEEL_LIMITS. */
  limits?: Partial<WheelLimits>;
  /**
   * The sha256 of the bytes an earlier openWheel found valid under the same
   * limits (the wheels stage's WheelRecord): a file with other bytes is
   * refused. The members' bytes are then not read through up front (a second
   * full pass over the same bytes); everything else is checked as always, and
   * so is each member as it is read (CRC-32, RECORD hash), which catches a
   * change after hashing. The members' `sha256` stay ''.
   */
  validatedSha256?: string;
}

export interface WheelSource {
  /** The path openWheel was given. */
  path: string;
  filename: string;
  parsedFilename: WheelName;
  /** Hex sha256 of the .whl file. */
  sha256: string;
  size: number;
  /** The `.dist-info` directory, without a trailing slash: "name-1.0.dist-info". */
  distInfo: string;
  metadata: CoreMetadata;
  wheel: WheelInfo;
  entryPoints: EntryPoints;
  record: RecordEntry[];
  /** In central-directory order. */
  members: WheelMember[];
  zipInfo: ZipInfo;
  /** One file member's bytes (checked again against its CRC and RECORD hash). */
  read(name: string): Promise<Buffer>;
  /** One file member that is not isStreamed (reader.ts): its bytes, checked as by `read`, synchronously. */
  readSmall(name: string): Buffer;
  /** One file member's bytes chunk by chunk, checked as by `read`: a mismatch throws after the chunks seen. */
  readInto(name: string, sink: (chunk: Buffer) => Promise<void> | void): Promise<void>;
  close(): Promise<void>;
}

const q = (s: string): string => JSON.stringify(s);

/**
 * Open `wheelPath`, validate all of it, and return a WheelSource. Throws
 * InputError. The wheel is first held to `options.limits` (DEFAULT_WHEEL_LIMITS),
 * from the central directory alone: nothing is read, hashed or extracted before.
 */
export async function openWheel(wheelPath: string, options: OpenWheelOptions = {}): Promise<WheelSource> {
  const filename = path.basename(wheelPath);
  const invalid = (problems: string[]) =>
    new InputError(`invalid wheel ${wheelPath}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
  const overLimits = (problems: string[]) =>
    new InputError(`wheel ${wheelPath} is refused before unpacking: ${problems.length} limit${problems.length === 1 ? '' : 's'} exceeded`, problems);

  const reader = await ZipReader.open(wheelPath);
  try {
    const { validatedSha256 } = options;
    if (validatedSha256 !== undefined && reader.sha256 !== validatedSha256) {
      throw new InputError(`wheel ${wheelPath} changed after it was validated: its sha256 is ${reader.sha256}, the validated wheel's was ${validatedSha256}`);
    }
    let count: number;
    try {
      count = await reader.openZip();
    } catch (error) {
      throw invalid([`not a zip archive (${(error as Error).message})`]);
    }
    const limits = resolveLimits(options.limits);
    const tooMany = memberCountProblems(count, limits);
    if (tooMany.length) throw overLimits(tooMany);
    let entries;
    try {
      entries = await reader.entries();
    } catch (error) {
      throw invalid([`the zip central directory is corrupt: ${(error as Error).message}`]);
    }
    const tooBig = limitProblems(entries, limits);
    if (tooBig.length) throw overLimits(tooBig);
    const verdict = await validate(reader, filename, entries, { readContents: validatedSha256 === undefined });
    if ('problems' in verdict) throw invalid(verdict.problems);
    reader.forgetReadAhead();
    return new OpenedWheel(wheelPath, filename, reader, verdict.valid);
  } catch (error) {
    await reader.close();
    throw error;
  }
}

class OpenedWheel implements WheelSource {
  readonly filename: string;
  readonly parsedFilename: WheelName;
  readonly sha256: string;
  readonly size: number;
  readonly distInfo: string;
  readonly metadata: CoreMetadata;
  readonly wheel: WheelInfo;
  readonly entryPoints: EntryPoints;
  readonly record: RecordEntry[];
  readonly members: WheelMember[];
  readonly zipInfo: ZipInfo;
  private readonly byName: Map<string, MemberState>;
  private closed = false;

  constructor(
    readonly path: string,
    filename: string,
    private readonly reader: ZipReader,
    valid: ValidWheel,
  ) {
    this.filename = filename;
    this.parsedFilename = valid.parsedFilename;
    this.sha256 = reader.sha256;
    this.size = reader.size;
    this.distInfo = valid.distInfo;
    this.metadata = valid.metadata;
    this.wheel = valid.wheel;
    this.entryPoints = valid.entryPoints;
    this.record = valid.record;
    this.members = valid.states.map((s) => s.member);
    this.byName = valid.byName;
    this.zipInfo = zipInfoOf({ filename, sha256: reader.sha256, size: reader.size, comment: reader.comment }, valid.states);
  }

  private changed(name: string, problems: string[]): InputError {
    return new InputError(
      `wheel ${this.path} changed since it was opened: member ${q(name)}: ${problems.join('; ')}`,
      problems.map((p) => `member ${q(name)}: ${p}`),
    );
  }

  private fileState(name: string): MemberState {
    if (this.closed) throw new Error(`wheel ${this.path} is closed`);
    const state = this.byName.get(name);
    if (!state || state.member.isDirectory) throw new Error(`wheel ${this.path} has no file member ${q(name)}`);
    return state;
  }

  async readInto(name: string, sink: (chunk: Buffer) => Promise<void> | void): Promise<void> {
    await this.streamChecked(name, this.fileState(name), sink);
  }

  readSmall(name: string): Buffer {
    const state = this.fileState(name);
    if (isStreamed(state.member)) throw new Error(`wheel ${this.path}: member ${q(name)} is too big to be read at once`);
    return this.wholeChecked(name, state);
  }

  async read(name: string): Promise<Buffer> {
    const state = this.fileState(name);
    if (!isStreamed(state.member)) return this.wholeChecked(name, state);
    const chunks: Buffer[] = [];
    await this.streamChecked(name, state, (c) => void chunks.push(c));
    return Buffer.concat(chunks);
  }

  private wholeChecked(name: string, state: MemberState): Buffer {
    const { bytes, problems } = this.reader.readWhole(state);
    if (!bytes) throw this.changed(name, problems);
    return bytes;
  }

  private async streamChecked(name: string, state: MemberState, sink: (chunk: Buffer) => Promise<void> | void): Promise<void> {
    const result = await this.reader.stream(state, sink);
    if (result.problems.length) throw this.changed(name, result.problems);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reader.close();
  }
}
