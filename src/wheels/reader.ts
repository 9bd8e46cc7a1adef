/**
 * The zip reader under a wheel source: opens the file, hashes it, lists the
 * central directory (yauzl), checks each member's local header against it and
 * reads member bytes through a ContentCheck (count, CRC-32, RECORD hash).
 * It reports what it finds; deciding whether the wheel is valid is validate's.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
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
export const IN_MEMORY_LIMIT = 16 * 1024 * 1024;

/** Members read at once (I/O goes through libuv's thread pool). */
export const CONCURRENCY = 8;

const fsOpen = promisify(fs.open);
const fsFstat = promisify(fs.fstat);
const fsClose = promisify(fs.close);

async function readAt(fd: number, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const bytesRead = await new Promise<number>((resolve, reject) =>
      fs.read(fd, buffer, done, length - done, position + done, (err, n) => (err ? reject(err) : resolve(n))),
    );
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

async function sha256OfFd(fd: number, size: number): Promise<string> {
  const hash = createHash('sha256');
  const chunk = 1 << 20;
  for (let pos = 0; pos < size; pos += chunk) {
    const buf = await readAt(fd, Math.min(chunk, size - pos), pos);
    if (buf.length === 0) break;
    hash.update(buf);
  }
  return hash.digest('hex');
}

/** Decode a raw member name; the second value is a problem, when there is one. */
function decodeName(raw: Buffer, flags: number): [string, string | undefined] {
  const ascii = raw.every((b) => b < 0x80);
  if (flags & FLAG_UTF8 || ascii) {
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
  return { member, entry, rawName, localExtra: Buffer.alloc(0), nameProblem, readable: true };
}

/** Checks a member's bytes as they stream by: count, CRC-32 and the RECORD digest. */
class ContentCheck {
  private count = 0;
  private crc = 0;
  private readonly sha256: Hash = createHash('sha256');
  private readonly other: Hash | undefined;

  constructor(
    private readonly member: WheelMember,
    private readonly expected: RecordHash | undefined,
  ) {
    this.other = expected && expected.nodeAlgorithm !== 'sha256' ? createHash(expected.nodeAlgorithm) : undefined;
  }

  /** Returns a problem as soon as there are more bytes than declared (zip bombs stop here). */
  update(chunk: Buffer): string | undefined {
    this.count += chunk.length;
    if (this.count > this.member.uncompressedSize) {
      return `decompresses to more than the ${this.member.uncompressedSize} bytes its header declares`;
    }
    this.crc = crc32(chunk, this.crc);
    this.sha256.update(chunk);
    this.other?.update(chunk);
    return undefined;
  }

  /** Problems found once all bytes are seen, and the hex sha256. */
  finish(): ContentResult {
    const problems: string[] = [];
    const sha256 = this.sha256.digest();
    if (this.count !== this.member.uncompressedSize) {
      problems.push(`decompresses to ${this.count} bytes, its header declares ${this.member.uncompressedSize}`);
    }
    if (this.crc >>> 0 !== this.member.crc32 >>> 0) {
      problems.push(`CRC-32 mismatch: data is ${hex32(this.crc)}, header says ${hex32(this.member.crc32)} (corrupt data)`);
    }
    if (this.expected) {
      const actual = this.other ? this.other.digest() : sha256;
      if (!actual.equals(this.expected.digest)) {
        problems.push(
          `RECORD hash mismatch: RECORD says ${this.expected.algorithm}=${this.expected.digest.toString('base64url')}, ` +
            `the file has ${this.expected.algorithm}=${actual.toString('base64url')}`,
        );
      }
    }
    return { problems, sha256: sha256.toString('hex') };
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

  private constructor(
    private readonly fd: number,
    readonly size: number,
    readonly sha256: string,
  ) {}

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
      yauzl.fromFd(
        this.fd,
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
  async checkLocalHeader(state: MemberState): Promise<string | undefined> {
    const { member } = state;
    const offset = member.localHeaderOffset;
    if (offset + LOCAL_HEADER_SIZE > this.size) return `its local header offset ${offset} is beyond the end of the file`;
    // One read usually covers the fixed part, the name and the extra field.
    const guess = LOCAL_HEADER_SIZE + state.rawName.length + 128;
    const head = await readAt(this.fd, Math.min(guess, this.size - offset), offset);
    const header = head.subarray(0, LOCAL_HEADER_SIZE);
    if (header.length < LOCAL_HEADER_SIZE) return `its local header at offset ${offset} is truncated`;
    const signature = header.readUInt32LE(0);
    if (signature !== LOCAL_HEADER_SIGNATURE) return `no local file header at offset ${offset} (signature ${hex32(signature)})`;
    const nameLength = header.readUInt16LE(26);
    const extraLength = header.readUInt16LE(28);
    const variable =
      head.length >= LOCAL_HEADER_SIZE + nameLength + extraLength
        ? head.subarray(LOCAL_HEADER_SIZE, LOCAL_HEADER_SIZE + nameLength + extraLength)
        : await readAt(this.fd, nameLength + extraLength, offset + LOCAL_HEADER_SIZE);
    if (variable.length < nameLength + extraLength) return `its local header at offset ${offset} is truncated`;
    state.localExtra = Buffer.from(variable.subarray(nameLength));
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
   * A member's bytes, in chunks. Small members: one read of the compressed data at
   * the offset checked against the local header, inflated at once (never beyond
   * one byte more than declared). Big members: yauzl's stream.
   */
  private async *chunks(state: MemberState): AsyncGenerator<Buffer> {
    const { member } = state;
    if (member.dataOffset < 0) throw new Error('its local header was not checked');
    if (member.compressedSize > IN_MEMORY_LIMIT || member.uncompressedSize > IN_MEMORY_LIMIT) {
      const stream = await streamOf(this.opened, state.entry);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
      } finally {
        stream.destroy();
      }
      return;
    }
    const raw = await readAt(this.fd, member.compressedSize, member.dataOffset);
    if (raw.length < member.compressedSize) throw new Error('its data is truncated');
    if (member.method === METHOD_STORED) {
      yield raw;
      return;
    }
    try {
      yield zlib.inflateRawSync(raw, { maxOutputLength: member.uncompressedSize + 1 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new Error(`it decompresses to more than the ${member.uncompressedSize} bytes its header declares`);
      }
      throw error;
    }
  }

  /**
   * Streams one member through a ContentCheck, handing each chunk to `sink`.
   * Returns the problems found (decompression errors included) and the sha256.
   */
  async stream(state: MemberState, sink: (chunk: Buffer) => Promise<void> | void): Promise<ContentResult> {
    const check = new ContentCheck(state.member, state.expected);
    try {
      for await (const chunk of this.chunks(state)) {
        const tooMuch = check.update(chunk);
        if (tooMuch) return { problems: [tooMuch], sha256: '' };
        await sink(chunk);
      }
    } catch (error) {
      return { problems: [`cannot be decompressed: ${(error as Error).message}`], sha256: '' };
    }
    return check.finish();
  }

  async close(): Promise<void> {
    if (this.zip) this.zip.close(); // yauzl closes the descriptor
    else await fsClose(this.fd).catch(() => undefined);
  }
}
