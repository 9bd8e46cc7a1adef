/**
 * The zip reader under a wheel source: opens the file, hashes it, lists the
 * central directory (yauzl), checks each member's local header against it and
 * checks member bytes as it reads them (count, CRC-32, RECORD hash).
 * It reports what it finds; deciding whether the wheel is valid is validate's.
 */
import { isAscii } from 'node:buffer';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import yauzl from 'yauzl';
import { InputError } from '../errors.ts';
import type { RecordHash } from './metadata.ts';
import {
  crc32,
  decodeDosTime,
  FLAG_DATA_DESCRIPTOR,
  FLAG_ENCRYPTED,
  FLAG_STRONG_ENCRYPTION,
  FLAG_UTF8,
  LIMIT32,
  LOCAL_HEADER_SIGNATURE,
  LOCAL_HEADER_SIZE,
  METHOD_STORED,
  type DosTime,
} from './zip.ts';

export interface WheelMember {
  /** Path inside the zip, `/`-separated; directories end with `/`. */
  name: string;
  isDirectory: boolean;
  compressedSize: number;
  uncompressedSize: number;
  /** Compression method: 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  /** General purpose bit flag. */
  flags: number;
  /** Version made by (host system in the high byte). */
  madeBy: number;
  /** Version needed to extract. */
  needed: number;
  /** External file attributes. */
  externalAttr: number;
  /** The Unix st_mode (type and permission bits), when the archive records one. */
  unixMode?: number;
  /** Mode given to the extracted file: 0o755 (directories, executables) or 0o644. */
  mode: number;
  time: DosTime;
  localHeaderOffset: number;
  /** Where the member's (compressed) data starts in the file. */
  dataOffset: number;
  /** The member's RECORD hash field (`sha256=...`); '' for directories and RECORD itself. */
  recordHash: string;
  /** Hex sha256 of the member's bytes; '' for directories. */
  sha256: string;
}

/** A member as validation sees it: its entry, raw name, local extra field and what is known of its bytes. */
export interface MemberState {
  member: WheelMember;
  entry: yauzl.Entry;
  rawName: Buffer;
  localExtra: Buffer;
  /** The name decoding problem, when there is one. */
  nameProblem: string | undefined;
  /** False when the member's bytes cannot be read (encrypted, unknown method, broken header). */
  readable: boolean;
  expected?: RecordHash;
}

/** A member's bytes checked: the problems found and the hex sha256 ('' when reading stopped). */
export interface ContentResult {
  problems: string[];
  sha256: string;
}

const q = (s: string): string => JSON.stringify(s);
export const hex32 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decoding; throws on invalid bytes. */
export const decodeUtf8 = (bytes: Uint8Array): string => utf8.decode(bytes);

/** `version made by` host systems whose external attributes carry a Unix st_mode. */
const UNIX_HOSTS: ReadonlySet<number> = new Set([3 /* Unix */, 19 /* OS X (Darwin) */]);

/** Members up to this size are read with one pread and inflated in memory; bigger ones are streamed. */
const IN_MEMORY_LIMIT = 16 * 1024 * 1024;

/** True for a member too big to hold in memory at once: its bytes come in chunks. */
export const isStreamed = (member: WheelMember): boolean => member.compressedSize > IN_MEMORY_LIMIT || member.uncompressedSize > IN_MEMORY_LIMIT;

/** Big members streamed at once (their reads and inflation go through libuv's thread pool). */
export const CONCURRENCY = 8;

const fsOpen = promisify(fs.open);
const fsFstat = promisify(fs.fstat);
const fsClose = promisify(fs.close);
const fsRead = promisify(fs.read);

/** Bytes read ahead by a WindowedFile. */
const WINDOW = 1024 * 1024;
/** Bytes read at a time for a streamed member. */
const STREAM_CHUNK = 1024 * 1024;

/**
 * Synchronous positioned reads through one read-ahead window. The central
 * directory, the local headers and the members are read in file order, so one
 * pread serves many small reads: a wheel of 20,000 small files costs tens of
 * system calls, not tens of thousands of thread-pool round trips.
 */
class WindowedFile {
  private window: Buffer = Buffer.alloc(0);
  private start = 0;

  constructor(
    readonly fd: number,
    readonly size: number,
  ) {}

  /** Later reads go to the file again. */
  forget(): void {
    this.window = Buffer.alloc(0);
  }

  /** `length` bytes at `position`, fewer at the end of the file. A window is never written to once read: its views stay valid. */
  read(length: number, position: number): Buffer {
    const end = Math.min(position + length, this.size);
    if (position >= this.start && end <= this.start + this.window.length) {
      return this.window.subarray(position - this.start, end - this.start);
    }
    if (length >= WINDOW) return this.pread(Math.max(0, end - position), position);
    this.window = this.pread(Math.min(WINDOW, this.size - position), position);
    this.start = position;
    return this.window.subarray(0, Math.max(0, end - position));
  }

  private pread(length: number, position: number): Buffer {
    const buffer = Buffer.allocUnsafe(Math.max(0, length));
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buffer, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  }
}

/** yauzl's reads through a WindowedFile; big members stream from the descriptor. */
class WindowedZipAccess extends yauzl.RandomAccessReader {
  constructor(private readonly file: WindowedFile) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    try {
      const bytes = this.file.read(length, position);
      bytes.copy(buffer, offset);
      // Asynchronous as yauzl expects: it reads the next entry from the callback.
      process.nextTick(callback, null, bytes.length);
    } catch (error) {
      process.nextTick(callback, error as Error);
    }
  }

  /** Not fs.createReadStream: destroying that closes the descriptor, which yauzl does after every member. */
  override _readStreamForRange(start: number, end: number): Readable {
    const { fd } = this.file;
    let position = start;
    return new Readable({
      highWaterMark: STREAM_CHUNK,
      read(size) {
        const length = Math.min(size, end - position);
        if (length <= 0) return void this.push(null);
        const buffer = Buffer.allocUnsafe(length);
        fs.read(fd, buffer, 0, length, position, (error, bytesRead) => {
          if (error) return void this.destroy(error);
          position += bytesRead;
          this.push(bytesRead ? buffer.subarray(0, bytesRead) : null);
        });
      },
    });
  }

  override close(callback: (err: Error | null) => void): void {
    fs.close(this.file.fd, callback);
  }
}

async function sha256OfFd(fd: number, size: number): Promise<string> {
  const hash = crypto.createHash('sha256');
  const chunk = Buffer.allocUnsafe(4 << 20);
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await fsRead(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
    if (bytesRead === 0) break;
    hash.update(chunk.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest('hex');
}

/** The local extra field of the many members without one (never written to). */
const NO_BYTES = Buffer.alloc(0);

/** Decode a raw member name; the second value is a problem, when there is one. */
function decodeName(raw: Buffer, flags: number): [string, string | undefined] {
  if (flags & FLAG_UTF8 || isAscii(raw)) {
    try {
      return [utf8.decode(raw), undefined];
    } catch {
      return [raw.toString('latin1'), 'name is not valid UTF-8 although the UTF-8 flag is set'];
    }
  }
  return [
    raw.toString('latin1'),
    'name is not ASCII and the UTF-8 flag (bit 11) is not set: its encoding is ambiguous (zip tools would decode it as CP437)',
  ];
}

/** The member a central directory entry describes, before anything of it is checked. */
export function memberState(entry: yauzl.Entry): MemberState {
  const rawName = entry.fileNameRaw;
  const flags = entry.generalPurposeBitFlag;
  const [name, nameProblem] = decodeName(rawName, flags);
  const isDirectory = name.endsWith('/');
  const host = entry.versionMadeBy >> 8;
  const modeBits = entry.externalFileAttributes >>> 16;
  const unixMode = UNIX_HOSTS.has(host) && modeBits !== 0 ? modeBits : undefined;
  const member: WheelMember = {
    name,
    isDirectory,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    method: entry.compressionMethod,
    crc32: entry.crc32 >>> 0,
    flags,
    madeBy: entry.versionMadeBy,
    needed: entry.versionNeededToExtract,
    externalAttr: entry.externalFileAttributes >>> 0,
    ...(unixMode !== undefined ? { unixMode } : {}),
    mode: isDirectory || (unixMode !== undefined && unixMode & 0o111) ? 0o755 : 0o644,
    time: decodeDosTime(entry.lastModFileDate, entry.lastModFileTime),
    localHeaderOffset: entry.relativeOffsetOfLocalHeader,
    dataOffset: -1,
    recordHash: '',
    sha256: '',
  };
  return { member, entry, rawName, localExtra: NO_BYTES, nameProblem, readable: true };
}

/** A digest of bytes held whole, in one call: no Hash object per member (crypto.hash is Node 20.12 and later). */
const digestOf = (algorithm: string, data: Buffer): Buffer =>
  typeof crypto.hash === 'function' ? crypto.hash(algorithm, data, 'buffer') : crypto.createHash(algorithm).update(data).digest();

/** The problem of `count` bytes where `member` declares fewer, else undefined (zip bombs stop here). */
function overrun(member: WheelMember, count: number): string | undefined {
  return count > member.uncompressedSize ? `decompresses to more than the ${member.uncompressedSize} bytes its header declares` : undefined;
}

/** What all of a member's bytes (`count`, their CRC-32 and digests) say against its header and RECORD row. */
function contentResult(member: WheelMember, expected: RecordHash | undefined, count: number, crc: number, sha256: Buffer, other: Buffer | undefined): ContentResult {
  const problems: string[] = [];
  if (count !== member.uncompressedSize) {
    problems.push(`decompresses to ${count} bytes, its header declares ${member.uncompressedSize}`);
  }
  if (crc >>> 0 !== member.crc32 >>> 0) {
    problems.push(`CRC-32 mismatch: data is ${hex32(crc)}, header says ${hex32(member.crc32)} (corrupt data)`);
  }
  if (expected) {
    const actual = other ?? sha256;
    if (!actual.equals(expected.digest)) {
      problems.push(
        `RECORD hash mismatch: RECORD says ${expected.algorithm}=${expected.digest.toString('base64url')}, ` +
          `the file has ${expected.algorithm}=${actual.toString('base64url')}`,
      );
    }
  }
  return { problems, sha256: sha256.toString('hex') };
}

/** The check of a member's bytes held whole: what ContentCheck finds, without its per-member objects. */
function checkWhole(member: WheelMember, expected: RecordHash | undefined, bytes: Buffer): ContentResult {
  const tooMuch = overrun(member, bytes.length);
  if (tooMuch) return { problems: [tooMuch], sha256: '' };
  const other = expected && expected.nodeAlgorithm !== 'sha256' ? digestOf(expected.nodeAlgorithm, bytes) : undefined;
  return contentResult(member, expected, bytes.length, crc32(bytes), digestOf('sha256', bytes), other);
}

/** Checks a streamed member's bytes as they go by: count, CRC-32 and the RECORD digest. */
class ContentCheck {
  private count = 0;
  private crc = 0;
  private readonly sha256: crypto.Hash = crypto.createHash('sha256');
  private readonly other: crypto.Hash | undefined;

  constructor(
    private readonly member: WheelMember,
    private readonly expected: RecordHash | undefined,
  ) {
    this.other = expected && expected.nodeAlgorithm !== 'sha256' ? crypto.createHash(expected.nodeAlgorithm) : undefined;
  }

  /** Returns a problem as soon as there are more bytes than declared. */
  update(chunk: Buffer): string | undefined {
    this.count += chunk.length;
    const tooMuch = overrun(this.member, this.count);
    if (tooMuch) return tooMuch;
    this.crc = crc32(chunk, this.crc);
    this.sha256.update(chunk);
    this.other?.update(chunk);
    return undefined;
  }

  /** Problems found once all bytes are seen, and the hex sha256. */
  finish(): ContentResult {
    return contentResult(this.member, this.expected, this.count, this.crc, this.sha256.digest(), this.other?.digest());
  }
}

/** The local header's fields that must agree with the central directory. */
interface LocalHeader {
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  name: Buffer;
}

/** How `local` disagrees with the central directory entry of `member`. */
function headerMismatches(member: WheelMember, rawName: Buffer, local: LocalHeader): string[] {
  const mismatches: string[] = [];
  if (!local.name.equals(rawName)) mismatches.push(`the local header names it ${q(local.name.toString('latin1'))}`);
  if (local.method !== member.method) mismatches.push(`the local header says compression method ${local.method}, the central directory ${member.method}`);
  if (local.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) && !(member.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION))) {
    mismatches.push('the local header marks it encrypted, the central directory does not');
  }
  // With a data descriptor (bit 3) the local CRC and sizes may be zero; zip64 puts 0xffffffff there.
  const deferred = (local.flags & FLAG_DATA_DESCRIPTOR) !== 0;
  const compare = (what: string, value: number, central: number, hex = false) => {
    if (value === LIMIT32 || (deferred && value === 0) || value === central >>> 0) return;
    const show = hex ? hex32 : String;
    mismatches.push(`the local header says ${what} ${show(value)}, the central directory ${show(central)}`);
  };
  compare('CRC-32', local.crc, member.crc32, true);
  compare('compressed size', local.compressedSize, member.compressedSize);
  compare('size', local.uncompressedSize, member.uncompressedSize);
  return mismatches;
}

function streamOf(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(err ?? new Error('no stream')) : resolve(stream))),
  );
}

/** An open wheel file: its size and sha256, its central directory, and checked reads of its members. */
export class ZipReader {
  private zip: yauzl.ZipFile | undefined;

  private readonly file: WindowedFile;

  private constructor(
    private readonly fd: number,
    readonly size: number,
    readonly sha256: string,
  ) {
    this.file = new WindowedFile(fd, size);
  }

  /** Opens and hashes a regular file; InputError when it cannot be. */
  static async open(wheelPath: string): Promise<ZipReader> {
    let fd: number;
    try {
      fd = await fsOpen(wheelPath, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`cannot open wheel ${wheelPath}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    try {
      const stat = await fsFstat(fd);
      if (!stat.isFile()) throw new InputError(`cannot open wheel ${wheelPath}: not a regular file`);
      return new ZipReader(fd, stat.size, await sha256OfFd(fd, stat.size));
    } catch (error) {
      await fsClose(fd).catch(() => undefined);
      throw error;
    }
  }

  /** Reads the end of central directory record; returns the entry count. Throws yauzl's error for what is not a zip. */
  async openZip(): Promise<number> {
    this.zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(
        new WindowedZipAccess(this.file),
        this.size,
        // Names are decoded and validated by validate, sizes checked while streaming.
        { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false, strictFileNames: true },
        (err, zip) => (err || !zip ? reject(err ?? new Error('no zip file')) : resolve(zip)),
      ),
    );
    return this.zip.entryCount;
  }

  private get opened(): yauzl.ZipFile {
    if (!this.zip) throw new Error('internal: the zip is not open');
    return this.zip;
  }

  /** The archive comment's bytes. */
  get comment(): Buffer {
    const comment = (this.opened as unknown as { comment: Buffer | string }).comment;
    return Buffer.isBuffer(comment) ? comment : Buffer.from(comment, 'latin1');
  }

  /** Reads from now on see the file as it is on disk (a wheel changed after validation is noticed). */
  forgetReadAhead(): void {
    this.file.forget();
  }

  /** Every central directory entry, in order. Throws yauzl's error for a corrupt directory. */
  entries(): Promise<yauzl.Entry[]> {
    const zip = this.opened;
    return new Promise((resolve, reject) => {
      const entries: yauzl.Entry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        entries.push(entry);
        zip.readEntry();
      });
      zip.once('end', () => resolve(entries));
      zip.once('error', reject);
      zip.readEntry();
    });
  }

  /** Checks one member's local header against its central directory entry; sets dataOffset and localExtra. */
  checkLocalHeader(state: MemberState): string | undefined {
    const { member } = state;
    const offset = member.localHeaderOffset;
    if (offset + LOCAL_HEADER_SIZE > this.size) return `its local header offset ${offset} is beyond the end of the file`;
    // One read usually covers the fixed part, the name and the extra field.
    const guess = LOCAL_HEADER_SIZE + state.rawName.length + 128;
    const head = this.file.read(guess, offset);
    const header = head.subarray(0, LOCAL_HEADER_SIZE);
    if (header.length < LOCAL_HEADER_SIZE) return `its local header at offset ${offset} is truncated`;
    const signature = header.readUInt32LE(0);
    if (signature !== LOCAL_HEADER_SIGNATURE) return `no local file header at offset ${offset} (signature ${hex32(signature)})`;
    const nameLength = header.readUInt16LE(26);
    const extraLength = header.readUInt16LE(28);
    const variable =
      head.length >= LOCAL_HEADER_SIZE + nameLength + extraLength
        ? head.subarray(LOCAL_HEADER_SIZE, LOCAL_HEADER_SIZE + nameLength + extraLength)
        : this.file.read(nameLength + extraLength, offset + LOCAL_HEADER_SIZE);
    if (variable.length < nameLength + extraLength) return `its local header at offset ${offset} is truncated`;
    // A copy, so that the read-ahead window it came from is not kept alive; most members have none.
    if (extraLength) state.localExtra = Buffer.from(variable.subarray(nameLength));
    const mismatches = headerMismatches(member, state.rawName, {
      flags: header.readUInt16LE(6),
      method: header.readUInt16LE(8),
      crc: header.readUInt32LE(14),
      compressedSize: header.readUInt32LE(18),
      uncompressedSize: header.readUInt32LE(22),
      name: variable.subarray(0, nameLength),
    });
    if (mismatches.length) return `local file header does not match the central directory: ${mismatches.join('; ')}`;
    member.dataOffset = offset + LOCAL_HEADER_SIZE + nameLength + extraLength;
    if (member.dataOffset + member.compressedSize > this.size) {
      return `its data (${member.compressedSize} bytes at offset ${member.dataOffset}) runs past the end of the file`;
    }
    return undefined;
  }

  /**
   * A small member's bytes: one read of the compressed data at the offset
   * checked against the local header, inflated at once (never beyond one byte
   * more than declared). Throws when they cannot be had.
   */
  private smallMember(member: WheelMember): Buffer {
    if (member.dataOffset < 0) throw new Error('its local header was not checked');
    const raw = this.file.read(member.compressedSize, member.dataOffset);
    if (raw.length < member.compressedSize) throw new Error('its data is truncated');
    if (member.method === METHOD_STORED) return raw;
    try {
      // One output chunk of the declared size (+1 to see an overrun): zlib's default 16 KiB chunk is garbage for small files.
      const room = Math.max(zlib.constants.Z_MIN_CHUNK, member.uncompressedSize + 1);
      return zlib.inflateRawSync(raw, { maxOutputLength: member.uncompressedSize + 1, chunkSize: room });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new Error(`it decompresses to more than the ${member.uncompressedSize} bytes its header declares`);
      }
      throw error;
    }
  }

  /**
   * A member that is not isStreamed, read and checked at once, synchronously:
   * the problems found and the sha256, and its bytes when there is no problem.
   */
  readWhole(state: MemberState): ContentResult & { bytes?: Buffer } {
    let bytes: Buffer;
    try {
      bytes = this.smallMember(state.member);
    } catch (error) {
      return { problems: [`cannot be decompressed: ${(error as Error).message}`], sha256: '' };
    }
    const result = checkWhole(state.member, state.expected, bytes);
    return result.problems.length ? result : { ...result, bytes };
  }

  /** A streamed member's bytes in chunks, from yauzl's stream. */
  private async *streamedChunks(state: MemberState): AsyncGenerator<Buffer> {
    if (state.member.dataOffset < 0) throw new Error('its local header was not checked');
    const stream = await streamOf(this.opened, state.entry);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    } finally {
      stream.destroy();
    }
  }

  /**
   * One member's bytes through a ContentCheck, handed to `sink` (a small
   * member's only when they check out). Returns the problems found
   * (decompression errors included) and the sha256; what `sink` throws (a
   * write error) is thrown, not taken for a problem of the wheel.
   */
  async stream(state: MemberState, sink: (chunk: Buffer) => Promise<void> | void): Promise<ContentResult> {
    if (!isStreamed(state.member)) {
      const { bytes, ...result } = this.readWhole(state);
      if (bytes) await sink(bytes);
      return result;
    }
    const check = new ContentCheck(state.member, state.expected);
    const chunks = this.streamedChunks(state);
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch (error) {
          return { problems: [`cannot be decompressed: ${(error as Error).message}`], sha256: '' };
        }
        if (next.done) return check.finish();
        const tooMuch = check.update(next.value);
        if (tooMuch) return { problems: [tooMuch], sha256: '' };
        await sink(next.value);
      }
    } finally {
      await chunks.return(undefined);
    }
  }

  async close(): Promise<void> {
    if (this.zip) this.zip.close(); // yauzl closes the descriptor
    else await fsClose(this.fd).catch(() => undefined);
  }
}
