/**
 * A wheel source: opens a `.whl`, reads and validates everything about it, and
 * only then hands out its metadata, its members and their bytes. Writing the
 * wheel somewhere (a package payload, a directory) is the caller's business;
 * `extractTo` is the one careful way to put its files on disk.
 *
 * Nothing from a wheel is trusted until it has been checked: member paths, file
 * types, the zip structure (central directory against the local headers, CRCs,
 * sizes, overlaps), RECORD (every file listed, every hash and size right) and the
 * metadata files. All problems of one wheel are reported in one InputError.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { InputError } from '../errors.ts';
import { mapLimit } from '../fsutil.ts';
import { wheelFilenameOrThrow, type WheelName } from '../python/tags.ts';
import {
  decodeRecordHash,
  normalizeName,
  normalizeVersionText,
  parseCoreMetadata,
  parseEntryPoints,
  parseRecord,
  parseWheelFile,
  type CoreMetadata,
  type EntryPoints,
  type RecordEntry,
  type RecordHash,
  type WheelInfo,
} from './metadata.ts';
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
  METHOD_DEFLATED,
  METHOD_STORED,
  type DosTime,
} from './zip.ts';

/** Written by extractTo next to the unpacked files: what is needed to rebuild the .whl. */
export const ZIPINFO_FILE = '.reqset-wheel.json';

/** mtime of extracted files when neither the option nor SOURCE_DATE_EPOCH gives one. */
export const DEFAULT_MTIME = new Date('2000-01-01T00:00:00Z');

/** The keys allowed under `{name}-{version}.data/`. */
export const DATA_DIRECTORY_KEYS: ReadonlySet<string> = new Set(['purelib', 'platlib', 'headers', 'scripts', 'data']);

/** A dist-info file larger than this is refused (they are read into memory). */
const MAX_METADATA_FILE = 64 * 1024 * 1024;

/**
 * Limits on what a wheel unpacks to, checked from the central directory's
 * declared sizes before any member is read, hashed or extracted (the bytes are
 * later held to those declared sizes, so the declaration is what counts). A
 * wheel with an honest RECORD can still be a zip bomb: 1 MB of zip unpacking
 * to gigabytes. The defaults admit the largest real wheels: torch and the
 * CUDA wheels unpack to a few GB in tens of thousands of files, and real
 * members (Python text, shared libraries, data) deflate 2-10x, rarely past
 * 20x (the corpus: numpy at most 13x); deflate's own ceiling is about 1030x,
 * and a bomb's members sit near it. So: 8 GiB in all, 200,000 members, and
 * 200:1 for members over 1 MiB (a small file of zeros is harmless).
 */
export interface WheelLimits {
  /** Sum of the members' declared sizes, in bytes (`--max-wheel-size`). */
  maxSize: number;
  /** Central directory entries, directories included (`--max-wheel-members`). */
  maxMembers: number;
  /** Size over compressed size of one member larger than RATIO_FLOOR (`--max-compression-ratio`). */
  maxCompressionRatio: number;
}

export const DEFAULT_WHEEL_LIMITS: Readonly<WheelLimits> = Object.freeze({
  maxSize: 8 * 1024 ** 3,
  maxMembers: 200_000,
  maxCompressionRatio: 200,
});

/** Members up to this size are not held to the compression ratio limit. */
export const RATIO_FLOOR = 1024 * 1024;

export interface OpenWheelOptions {
  /** Overrides of DEFAULT_WHEEL_LIMITS. */
  limits?: Partial<WheelLimits>;
}

/** `8G`, `300M`, `64K`, `1.5G` or a number of bytes: binary units (G = GiB). */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new InputError(`${q(text)} is not a size: give bytes or a number with K, M, G or T (e.g. 8G)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InputError(`${q(text)} is not a size of at least one byte`);
  return bytes;
}

/** `1234 bytes (1.2 KiB)`. */
function formatBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = '';
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return unit ? `${n} bytes (${value.toFixed(1)} ${unit})` : `${n} bytes`;
}

/** The limits `entries` break, one problem each (bomb-like members listed by name), or []. */
function limitProblems(entries: readonly yauzl.Entry[], limits: WheelLimits): string[] {
  const problems: string[] = [];
  if (entries.length > limits.maxMembers) {
    problems.push(`the wheel has ${entries.length} members, over the limit of ${limits.maxMembers} (raise it with --max-wheel-members)`);
  }
  let total = 0;
  let largest: yauzl.Entry | undefined;
  for (const entry of entries) {
    total += entry.uncompressedSize;
    if (!largest || entry.uncompressedSize > largest.uncompressedSize) largest = entry;
    if (entry.uncompressedSize <= RATIO_FLOOR) continue;
    const ratio = entry.uncompressedSize / entry.compressedSize; // Infinity for 0 compressed bytes
    if (ratio > limits.maxCompressionRatio) {
      problems.push(
        `member ${q(entry.fileNameRaw.toString('utf8'))}: unpacks to ${formatBytes(entry.uncompressedSize)} from ${entry.compressedSize} ` +
          `(${Number.isFinite(ratio) ? Math.round(ratio) : 'infinite'}:1), over the compression ratio limit of ${limits.maxCompressionRatio}:1 ` +
          `for members over 1 MiB: a zip bomb? (if the wheel is genuine, raise the limit with --max-compression-ratio)`,
      );
    }
  }
  if (total > limits.maxSize) {
    const biggest = largest ? `; the largest is member ${q(largest.fileNameRaw.toString('utf8'))}, ${formatBytes(largest.uncompressedSize)}` : '';
    problems.push(
      `the members unpack to ${formatBytes(total)} in all${biggest}: over the limit of ${formatBytes(limits.maxSize)} ` +
        `(raise it with --max-wheel-size)`,
    );
  }
  return problems;
}

/** `version made by` host systems whose external attributes carry a Unix st_mode. */
const UNIX_HOSTS: ReadonlySet<number> = new Set([3 /* Unix */, 19 /* OS X (Darwin) */]);

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const FILE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0o120000: 'a symbolic link',
  0o020000: 'a character device',
  0o060000: 'a block device',
  0o010000: 'a FIFO',
  0o140000: 'a socket',
};

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

export interface ZipInfoMember {
  name: string;
  method: number;
  time: DosTime;
  madeBy: number;
  needed: number;
  flags: number;
  attr: number;
  /** Hex of the central-directory extra field. */
  extra: string;
  /** Hex of the local-header extra field. */
  localExtra: string;
  /** Hex of the member comment. */
  comment: string;
}

/** What is needed to rebuild the same .whl from its unpacked tree (ZIPINFO_FILE). */
export interface ZipInfo {
  format: 1;
  filename: string;
  sha256: string;
  size: number;
  /** Hex of the archive comment. */
  comment: string;
  /** In central-directory order, directory entries included. */
  members: ZipInfoMember[];
}

export interface ExtractOptions {
  /** mtime of every file and directory written; default SOURCE_DATE_EPOCH, else 2000-01-01T00:00:00Z. */
  mtime?: Date;
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
  /**
   * Write every member under `dir` byte for byte, plus ZIPINFO_FILE. `dir` must
   * not exist or be empty. Never follows or creates symlinks. Files get 0644 or
   * 0755, directories 0755, everything the same mtime.
   */
  extractTo(dir: string, options?: ExtractOptions): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Small helpers

const q = (s: string): string => JSON.stringify(s);

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

/** Members read or written at once (I/O goes through libuv's thread pool). */
const CONCURRENCY = 8;

/** True when `target` is strictly inside `root` (both absolute, already resolved). */
export function isInsideRoot(root: string, target: string, sep: string = path.sep): boolean {
  const base = root.endsWith(sep) ? root : root + sep;
  return target.startsWith(base) && target.length > base.length;
}

/** A fake root to resolve member names against: a sibling like `/reqset-wheel-root-evil` must not pass. */
export const FAKE_ROOT = '/reqset-wheel-root';

/**
 * Why a zip member name is unsafe to extract, or [] when it is fine.
 * Names are `/`-separated and relative; directories end with one `/`.
 */
export function memberNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name === '' || name === '/') return ['empty name'];
  if (name.includes('\0')) problems.push('name contains a NUL byte');
  // eslint-disable-next-line no-control-regex
  else if (/[\x01-\x1f\x7f]/.test(name)) problems.push('name contains a control character');
  if (name.includes('\\')) problems.push('name contains a backslash (a Windows path separator)');
  if (name.startsWith('/')) problems.push('absolute path');
  if (/^[A-Za-z]:/.test(name)) problems.push('absolute Windows path (drive letter)');
  const segments = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (segments.includes('..')) problems.push('path contains a ".." segment');
  if (segments.includes('.')) problems.push('path contains a "." segment');
  if (!name.startsWith('/') && segments.includes('')) problems.push('path contains an empty segment ("//")');
  const resolved = path.posix.resolve(FAKE_ROOT, name);
  if (!isInsideRoot(FAKE_ROOT, resolved, '/')) problems.push('path resolves outside the extraction directory');
  return problems;
}

/** mtime for extraction: the option, else SOURCE_DATE_EPOCH, else DEFAULT_MTIME. */
export function resolveMtime(mtime?: Date): Date {
  if (mtime) {
    if (Number.isNaN(mtime.getTime())) throw new InputError('extraction mtime is not a valid date');
    return mtime;
  }
  const sde = process.env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde.trim())) throw new InputError(`SOURCE_DATE_EPOCH must be a number of seconds since 1970, not ${q(sde)}`);
    return new Date(Number(sde.trim()) * 1000);
  }
  return DEFAULT_MTIME;
}

/** The ZIPINFO_FILE text: 2-space indented JSON, ASCII only, trailing newline. */
export function formatZipInfo(info: ZipInfo): string {
  const ordered: ZipInfo = {
    format: info.format,
    filename: info.filename,
    sha256: info.sha256,
    size: info.size,
    comment: info.comment,
    members: info.members.map((m) => ({
      name: m.name,
      method: m.method,
      time: m.time,
      madeBy: m.madeBy,
      needed: m.needed,
      flags: m.flags,
      attr: m.attr,
      extra: m.extra,
      localExtra: m.localExtra,
      comment: m.comment,
    })),
  };
  return (
    JSON.stringify(ordered, null, 2).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n'
  );
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
  finish(): { problems: string[]; sha256: string } {
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

const hex32 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

// ---------------------------------------------------------------------------
// Opening and validating

interface MemberState {
  member: WheelMember;
  entry: yauzl.Entry;
  rawName: Buffer;
  localExtra: Buffer;
  /** False when the member's bytes cannot be read (encrypted, unknown method, broken header). */
  readable: boolean;
  expected?: RecordHash;
}

function readEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
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

function fromFd(fd: number): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.fromFd(
      fd,
      // Names are decoded and validated here, sizes checked while streaming.
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false, strictFileNames: true },
      (err, zip) => (err || !zip ? reject(err ?? new Error('no zip file')) : resolve(zip)),
    ),
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

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

/** The Info-ZIP Unicode Path extra field (0x7075), when present and valid. */
function unicodePathField(entry: yauzl.Entry): string | undefined {
  for (const field of entry.extraFields) {
    if (field.id !== 0x7075 || field.data.length < 5 || field.data[0] !== 1) continue;
    try {
      return utf8.decode(field.data.subarray(5));
    } catch {
      return '\ufffd(invalid UTF-8)';
    }
  }
  return undefined;
}

function streamOf(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(err ?? new Error('no stream')) : resolve(stream))),
  );
}

/** Members up to this size are read with one pread and inflated in memory; bigger ones are streamed. */
const IN_MEMORY_LIMIT = 16 * 1024 * 1024;

/**
 * A member's bytes, in chunks. Small members: one read of the compressed data at
 * the offset checked against the local header, inflated at once (never beyond
 * one byte more than declared). Big members: yauzl's stream.
 */
async function* memberChunks(fd: number, zip: yauzl.ZipFile, state: MemberState): AsyncGenerator<Buffer> {
  const { member } = state;
  if (member.dataOffset < 0) throw new Error('its local header was not checked');
  if (member.compressedSize > IN_MEMORY_LIMIT || member.uncompressedSize > IN_MEMORY_LIMIT) {
    const stream = await streamOf(zip, state.entry);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    } finally {
      stream.destroy();
    }
    return;
  }
  const raw = await readAt(fd, member.compressedSize, member.dataOffset);
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
 * Stream one member through a ContentCheck, handing each chunk to `sink`.
 * Returns the problems found (decompression errors included) and the sha256.
 */
async function streamMember(
  fd: number,
  zip: yauzl.ZipFile,
  state: MemberState,
  sink: (chunk: Buffer) => Promise<void> | void,
): Promise<{ problems: string[]; sha256: string }> {
  const check = new ContentCheck(state.member, state.expected);
  try {
    for await (const chunk of memberChunks(fd, zip, state)) {
      const tooMuch = check.update(chunk);
      if (tooMuch) return { problems: [tooMuch], sha256: '' };
      await sink(chunk);
    }
  } catch (error) {
    return { problems: [`cannot be decompressed: ${(error as Error).message}`], sha256: '' };
  }
  return check.finish();
}

const stripUndefined = <T extends object>(o: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Open `wheelPath`, validate all of it, and return a WheelSource. Throws
 * InputError. The wheel is first held to `options.limits` (DEFAULT_WHEEL_LIMITS).
 */
export async function openWheel(wheelPath: string, options: OpenWheelOptions = {}): Promise<WheelSource> {
  const filename = path.basename(wheelPath);
  const invalid = (problems: string[]) =>
    new InputError(`invalid wheel ${wheelPath}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
  const overLimits = (problems: string[]) =>
    new InputError(`wheel ${wheelPath} is refused before unpacking: ${problems.length} limit${problems.length === 1 ? '' : 's'} exceeded`, problems);

  let fd: number;
  try {
    fd = await fsOpen(wheelPath, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`cannot open wheel ${wheelPath}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let zip: yauzl.ZipFile | undefined;
  try {
    const stat = await fsFstat(fd);
    if (!stat.isFile()) throw new InputError(`cannot open wheel ${wheelPath}: not a regular file`);
    const size = stat.size;
    const sha256 = await sha256OfFd(fd, size);
    try {
      zip = await fromFd(fd);
    } catch (error) {
      throw invalid([`not a zip archive (${(error as Error).message})`]);
    }
    // The limits, from the central directory alone: nothing is read, hashed or extracted before.
    const limits: WheelLimits = { ...DEFAULT_WHEEL_LIMITS, ...stripUndefined(options.limits) };
    if (zip.entryCount > limits.maxMembers) {
      throw overLimits([`the wheel has ${zip.entryCount} members, over the limit of ${limits.maxMembers} (raise it with --max-wheel-members)`]);
    }
    let entries: yauzl.Entry[];
    try {
      entries = await readEntries(zip);
    } catch (error) {
      throw invalid([`the zip central directory is corrupt: ${(error as Error).message}`]);
    }
    const tooBig = limitProblems(entries, limits);
    if (tooBig.length) throw overLimits(tooBig);
    const opened = await validate(wheelPath, filename, fd, zip, size, sha256, entries);
    if ('problems' in opened) throw invalid(opened.problems);
    return opened.source;
  } catch (error) {
    if (zip) zip.close();
    else await fsClose(fd).catch(() => undefined);
    throw error;
  }
}

async function validate(
  wheelPath: string,
  filename: string,
  fd: number,
  zip: yauzl.ZipFile,
  size: number,
  sha256: string,
  entries: yauzl.Entry[],
): Promise<{ source: WheelSource } | { problems: string[] }> {
  const problems: string[] = [];
  const problem = (name: string, why: string) => problems.push(`member ${q(name)}: ${why}`);

  // -- the file name
  let parsedFilename: WheelName | undefined;
  try {
    parsedFilename = wheelFilenameOrThrow(filename);
  } catch (error) {
    problems.push(...(error instanceof InputError ? error.problems : [(error as Error).message]));
  }

  // -- every central directory entry on its own
  const states: MemberState[] = [];
  const byName = new Map<string, MemberState>();
  const byKey = new Map<string, MemberState>(); // name without trailing slash
  for (const entry of entries) {
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
    const state: MemberState = { member, entry, rawName, localExtra: Buffer.alloc(0), readable: true };
    states.push(state);

    if (nameProblem) problem(name, nameProblem);
    const unicodePath = unicodePathField(entry);
    if (unicodePath !== undefined && unicodePath !== name) {
      problem(name, `its Unicode Path extra field names it ${q(unicodePath)}: the name is ambiguous`);
    }
    for (const why of memberNameProblems(name)) problem(name, why);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
      problem(name, 'is encrypted');
      state.readable = false;
    }
    if (member.method !== METHOD_STORED && member.method !== METHOD_DEFLATED) {
      problem(name, `uses compression method ${member.method}; only stored (0) and deflated (8) are allowed in a wheel`);
      state.readable = false;
    } else if (member.method === METHOD_STORED && member.compressedSize !== member.uncompressedSize) {
      problem(name, `is stored uncompressed but its compressed size ${member.compressedSize} differs from its size ${member.uncompressedSize}`);
      state.readable = false;
    }
    if (unixMode !== undefined) {
      const type = unixMode & S_IFMT;
      const special = FILE_TYPE_NAMES[type];
      if (special) {
        problem(name, `is ${special} (mode ${unixMode.toString(8)}); a wheel may only hold regular files and directories`);
        state.readable = false;
      } else if (type === S_IFDIR && !isDirectory) {
        problem(name, 'has a directory mode but its name does not end with "/"');
      } else if (type === S_IFREG && isDirectory) {
        problem(name, 'is a directory entry with a regular-file mode');
      }
    }
    if (isDirectory && (member.uncompressedSize !== 0 || member.compressedSize > 2)) {
      problem(name, `is a directory entry with ${member.uncompressedSize} bytes of data`);
    }
    const key = isDirectory ? name.slice(0, -1) : name;
    const earlier = byKey.get(key);
    if (earlier) {
      problem(
        name,
        earlier.member.name === name
          ? 'appears more than once in the zip central directory (duplicate name)'
          : `conflicts with member ${q(earlier.member.name)} (same path as a file and as a directory)`,
      );
    } else {
      byKey.set(key, state);
      byName.set(name, state);
    }
  }

  // -- a file cannot also be a parent directory
  const fileNames = new Set(states.filter((s) => !s.member.isDirectory).map((s) => s.member.name));
  const reportedParents = new Set<string>();
  for (const { member } of states) {
    const segments = member.name.replace(/\/$/, '').split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (fileNames.has(parent) && !reportedParents.has(parent)) {
        reportedParents.add(parent);
        problem(parent, `is a file, but member ${q(member.name)} needs it to be a directory`);
      }
    }
  }

  // -- the local file headers, read from the file itself
  const headerProblems = await mapLimit(states, CONCURRENCY, (state) => checkLocalHeader(fd, size, state));
  states.forEach((state, i) => {
    const why = headerProblems[i];
    if (why) {
      problem(state.member.name, why);
      state.readable = false;
    }
  });
  const located = states.filter((s) => s.member.dataOffset >= 0).sort((a, b) => a.member.localHeaderOffset - b.member.localHeaderOffset);
  for (let i = 1; i < located.length; i++) {
    const prev = located[i - 1] as MemberState;
    const cur = located[i] as MemberState;
    if (prev.member.dataOffset + prev.member.compressedSize > cur.member.localHeaderOffset) {
      problem(cur.member.name, `overlaps the data of member ${q(prev.member.name)} in the file (overlapping entries)`);
      cur.readable = false;
    }
  }

  // -- layout: one .dist-info, known .data keys, no reserved names
  const topLevel = new Set(states.map((s) => s.member.name.split('/')[0] ?? ''));
  const distInfos = [...topLevel].filter((t) => t.endsWith('.dist-info')).sort();
  let distInfo = '';
  if (distInfos.length === 0) problems.push('the wheel has no top-level *.dist-info directory');
  else if (distInfos.length > 1) problems.push(`the wheel has ${distInfos.length} .dist-info directories (${distInfos.join(', ')}); it must have exactly one`);
  else distInfo = distInfos[0] as string;

  const distStem = distInfo.slice(0, -'.dist-info'.length);
  if (distInfo && parsedFilename) {
    const dash = distStem.lastIndexOf('-');
    const diName = dash > 0 ? distStem.slice(0, dash) : distStem;
    const diVersion = dash > 0 ? distStem.slice(dash + 1) : '';
    if (
      normalizeName(diName) !== parsedFilename.key ||
      normalizeVersionText(diVersion) !== normalizeVersionText(parsedFilename.version)
    ) {
      problems.push(
        `the .dist-info directory ${q(distInfo)} does not match the file name ` +
          `(expected ${parsedFilename.distribution}-${parsedFilename.version}.dist-info)`,
      );
    }
  }
  const reportedData = new Set<string>();
  for (const { member } of states) {
    const segments = member.name.split('/');
    const top = segments[0] ?? '';
    if (member.name === ZIPINFO_FILE) problem(member.name, `collides with the file reqset writes next to the unpacked wheel (${ZIPINFO_FILE})`);
    if (!top.endsWith('.data') || !top.includes('-') || segments.length < 2) continue;
    if (distInfo && normalizeVersionText(top.slice(0, -'.data'.length)) !== normalizeVersionText(distStem)) {
      if (!reportedData.has(top)) problem(member.name, `is in the data directory ${q(top)}, which does not belong to ${q(distInfo)} (expected ${distStem}.data)`);
      reportedData.add(top);
      continue;
    }
    const key = segments[1] ?? '';
    const isDataDirEntry = segments.length === 2 && key === ''; // "x-1.0.data/"
    if (isDataDirEntry) continue;
    if (segments.length === 2) {
      problem(member.name, `is directly in ${q(top + '/')}; files there must be under one of ${[...DATA_DIRECTORY_KEYS].join(', ')}`);
    } else if (!DATA_DIRECTORY_KEYS.has(key)) {
      const scheme = `${top}/${key}/`;
      if (!reportedData.has(scheme)) {
        reportedData.add(scheme);
        problem(member.name, `unknown .data directory ${q(scheme)} (allowed: ${[...DATA_DIRECTORY_KEYS].join(', ')})`);
      }
    }
  }

  // -- the dist-info files
  const texts = new Map<string, string>();
  const readText = async (file: string, required: boolean): Promise<string | undefined> => {
    const name = `${distInfo}/${file}`;
    const state = byName.get(name);
    if (!state || state.member.isDirectory) {
      if (required) problems.push(`the wheel has no ${name} (required)`);
      return undefined;
    }
    if (!state.readable) return undefined;
    if (state.member.uncompressedSize > MAX_METADATA_FILE) {
      problem(name, `is ${state.member.uncompressedSize} bytes; dist-info files over ${MAX_METADATA_FILE} bytes are refused`);
      return undefined;
    }
    const chunks: Buffer[] = [];
    const result = await streamMember(fd, zip, state, (c) => void chunks.push(c));
    for (const why of result.problems) problem(name, why);
    if (result.problems.length) {
      state.readable = false;
      return undefined;
    }
    try {
      const text = utf8.decode(Buffer.concat(chunks));
      texts.set(file, text);
      return text;
    } catch {
      problem(name, 'is not valid UTF-8');
      return undefined;
    }
  };
  let metadata: CoreMetadata | undefined;
  let wheel: WheelInfo | undefined;
  let entryPoints: EntryPoints = { console_scripts: {}, gui_scripts: {} };
  let record: RecordEntry[] | undefined;
  const parse = <T>(file: string, text: string | undefined, parser: (t: string) => T): T | undefined => {
    if (text === undefined) return undefined;
    try {
      return parser(text);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      const name = `${distInfo}/${file}`;
      for (const why of error.problems.length ? error.problems : [error.message]) problem(name, why);
      return undefined;
    }
  };
  if (distInfo) {
    metadata = parse('METADATA', await readText('METADATA', true), parseCoreMetadata);
    wheel = parse('WHEEL', await readText('WHEEL', true), parseWheelFile);
    record = parse('RECORD', await readText('RECORD', true), parseRecord);
    entryPoints = parse('entry_points.txt', await readText('entry_points.txt', false), parseEntryPoints) ?? entryPoints;
  }

  if (metadata && parsedFilename) {
    const metaName = `${distInfo}/METADATA`;
    if (normalizeName(metadata.name) !== parsedFilename.key) {
      problem(metaName, `Name ${q(metadata.name)} does not match the file name's distribution ${q(parsedFilename.distribution)}`);
    }
    if (normalizeVersionText(metadata.version) !== normalizeVersionText(parsedFilename.version)) {
      problem(metaName, `Version ${q(metadata.version)} does not match the file name's version ${q(parsedFilename.version)}`);
    }
  }
  for (const group of ['console_scripts', 'gui_scripts'] as const) {
    for (const script of Object.keys(entryPoints[group])) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(script)) {
        problem(`${distInfo}/entry_points.txt`, `[${group}] name ${q(script)} is not a safe command name`);
      }
    }
  }

  // -- RECORD against the members
  const recordName = `${distInfo}/RECORD`;
  const unsigned = new Set([recordName, `${recordName}.jws`, `${recordName}.p7s`]);
  if (record) {
    const rows = new Map<string, RecordEntry>();
    for (const row of record) {
      const at = `RECORD line ${row.line}`;
      if (rows.has(row.path)) {
        problem(row.path, `is listed more than once in RECORD (lines ${rows.get(row.path)?.line} and ${row.line})`);
        continue;
      }
      rows.set(row.path, row);
      if (row.path.endsWith('/')) continue; // a directory row: nothing to check
      const state = byName.get(row.path);
      if (!state || state.member.isDirectory) {
        problems.push(`${at}: RECORD lists ${q(row.path)}, which is not in the wheel`);
        continue;
      }
      if (row.size !== undefined && row.size !== state.member.uncompressedSize) {
        problem(row.path, `RECORD size ${row.size} does not match the member's size ${state.member.uncompressedSize} (${at})`);
      }
      if (unsigned.has(row.path)) continue;
      if (row.hash === '') {
        problem(row.path, `has no hash in RECORD (${at})`);
        continue;
      }
      const decoded = decodeRecordHash(row.hash);
      if (typeof decoded === 'string') {
        problem(row.path, `${decoded} (${at})`);
        continue;
      }
      state.expected = decoded;
      state.member.recordHash = row.hash;
    }
    for (const { member } of states) {
      if (!member.isDirectory && !unsigned.has(member.name) && !rows.has(member.name)) {
        problem(member.name, 'is not listed in RECORD');
      }
    }
  }

  // -- every file's bytes: CRC, size and RECORD hash (dist-info files again: now RECORD is known)
  const toHash = states.filter((s) => !s.member.isDirectory && s.readable && byName.get(s.member.name) === s);
  const hashed = await mapLimit(toHash, CONCURRENCY, (state) => streamMember(fd, zip, state, () => undefined));
  toHash.forEach(({ member }, i) => {
    const result = hashed[i] as { problems: string[]; sha256: string };
    for (const why of result.problems) problem(member.name, why);
    member.sha256 = result.sha256;
  });

  if (problems.length || !parsedFilename || !metadata || !wheel || !record) {
    if (!problems.length) problems.push('the wheel could not be read');
    return { problems };
  }

  const zipComment = (zip as unknown as { comment: Buffer | string }).comment;
  const zipInfo: ZipInfo = {
    format: 1,
    filename,
    sha256,
    size,
    comment: Buffer.isBuffer(zipComment) ? zipComment.toString('hex') : Buffer.from(zipComment, 'latin1').toString('hex'),
    members: states.map(({ member, entry, localExtra }) => ({
      name: member.name,
      method: member.method,
      time: member.time,
      madeBy: member.madeBy,
      needed: member.needed,
      flags: member.flags,
      attr: member.externalAttr,
      extra: entry.extraFieldRaw.toString('hex'),
      localExtra: localExtra.toString('hex'),
      comment: entry.fileCommentRaw.toString('hex'),
    })),
  };

  return {
    source: new OpenedWheel({
      path: wheelPath,
      filename,
      parsedFilename,
      sha256,
      size,
      distInfo,
      metadata,
      wheel,
      entryPoints,
      record,
      zipInfo,
      zip,
      fd,
      states,
      byName,
    }),
  };
}

/** Check one member's local header against its central directory entry; sets dataOffset. */
async function checkLocalHeader(fd: number, fileSize: number, state: MemberState): Promise<string | undefined> {
  const { member } = state;
  const offset = member.localHeaderOffset;
  if (offset + LOCAL_HEADER_SIZE > fileSize) return `its local header offset ${offset} is beyond the end of the file`;
  // One read usually covers the fixed part, the name and the extra field.
  const guess = LOCAL_HEADER_SIZE + state.rawName.length + 128;
  const head = await readAt(fd, Math.min(guess, fileSize - offset), offset);
  const header = head.subarray(0, LOCAL_HEADER_SIZE);
  if (header.length < LOCAL_HEADER_SIZE) return `its local header at offset ${offset} is truncated`;
  const signature = header.readUInt32LE(0);
  if (signature !== LOCAL_HEADER_SIGNATURE) return `no local file header at offset ${offset} (signature ${hex32(signature)})`;
  const flags = header.readUInt16LE(6);
  const method = header.readUInt16LE(8);
  const crc = header.readUInt32LE(14);
  const compressedSize = header.readUInt32LE(18);
  const uncompressedSize = header.readUInt32LE(22);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const variable =
    head.length >= LOCAL_HEADER_SIZE + nameLength + extraLength
      ? head.subarray(LOCAL_HEADER_SIZE, LOCAL_HEADER_SIZE + nameLength + extraLength)
      : await readAt(fd, nameLength + extraLength, offset + LOCAL_HEADER_SIZE);
  if (variable.length < nameLength + extraLength) return `its local header at offset ${offset} is truncated`;
  const localName = variable.subarray(0, nameLength);
  state.localExtra = Buffer.from(variable.subarray(nameLength));
  const mismatches: string[] = [];
  if (!localName.equals(state.rawName)) {
    mismatches.push(`the local header names it ${q(localName.toString('latin1'))}`);
  }
  if (method !== member.method) mismatches.push(`the local header says compression method ${method}, the central directory ${member.method}`);
  if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) && !(member.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION))) {
    mismatches.push('the local header marks it encrypted, the central directory does not');
  }
  // With a data descriptor (bit 3) the local CRC and sizes may be zero; zip64 puts 0xffffffff there.
  const deferred = (flags & FLAG_DATA_DESCRIPTOR) !== 0;
  const compare = (what: string, local: number, central: number, hex = false) => {
    if (local === LIMIT32 || (deferred && local === 0) || local === central >>> 0) return;
    const show = hex ? hex32 : String;
    mismatches.push(`the local header says ${what} ${show(local)}, the central directory ${show(central)}`);
  };
  compare('CRC-32', crc, member.crc32, true);
  compare('compressed size', compressedSize, member.compressedSize);
  compare('size', uncompressedSize, member.uncompressedSize);
  if (mismatches.length) return `local file header does not match the central directory: ${mismatches.join('; ')}`;
  member.dataOffset = offset + LOCAL_HEADER_SIZE + nameLength + extraLength;
  if (member.dataOffset + member.compressedSize > fileSize) {
    return `its data (${member.compressedSize} bytes at offset ${member.dataOffset}) runs past the end of the file`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The opened wheel

/** What openWheel hands the opened wheel: its facts (members come from `states`) and the open zip. */
type OpenedWheelInit = Omit<WheelSource, 'members' | 'read' | 'extractTo' | 'close'> & {
  zip: yauzl.ZipFile;
  fd: number;
  states: MemberState[];
  byName: Map<string, MemberState>;
};

class OpenedWheel implements WheelSource {
  readonly path: string;
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
  private readonly zip: yauzl.ZipFile;
  private readonly fd: number;
  private readonly states: MemberState[];
  private readonly byName: Map<string, MemberState>;
  private closed = false;

  constructor(init: OpenedWheelInit) {
    this.path = init.path;
    this.filename = init.filename;
    this.parsedFilename = init.parsedFilename;
    this.sha256 = init.sha256;
    this.size = init.size;
    this.distInfo = init.distInfo;
    this.metadata = init.metadata;
    this.wheel = init.wheel;
    this.entryPoints = init.entryPoints;
    this.record = init.record;
    this.zipInfo = init.zipInfo;
    this.zip = init.zip;
    this.fd = init.fd;
    this.states = init.states;
    this.byName = init.byName;
    this.members = init.states.map((s) => s.member);
  }

  private changed(name: string, problems: string[]): InputError {
    return new InputError(
      `wheel ${this.path} changed since it was opened: member ${q(name)}: ${problems.join('; ')}`,
      problems.map((p) => `member ${q(name)}: ${p}`),
    );
  }

  async read(name: string): Promise<Buffer> {
    if (this.closed) throw new Error(`wheel ${this.path} is closed`);
    const state = this.byName.get(name);
    if (!state || state.member.isDirectory) throw new Error(`wheel ${this.path} has no file member ${q(name)}`);
    const chunks: Buffer[] = [];
    const result = await streamMember(this.fd, this.zip, state, (c) => void chunks.push(c));
    if (result.problems.length) throw this.changed(name, result.problems);
    return Buffer.concat(chunks);
  }

  async extractTo(dir: string, options: ExtractOptions = {}): Promise<void> {
    if (this.closed) throw new Error(`wheel ${this.path} is closed`);
    const mtime = resolveMtime(options.mtime);
    const root = path.resolve(dir);
    let createdRoot = false;
    const existing = await fs.promises.lstat(root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (existing) {
      if (!existing.isDirectory()) throw new InputError(`cannot extract ${this.filename} into ${dir}: it exists and is not a directory`);
      if ((await fs.promises.readdir(root)).length) throw new InputError(`cannot extract ${this.filename} into ${dir}: the directory is not empty`);
    } else {
      await fs.promises.mkdir(path.dirname(root), { recursive: true });
      await fs.promises.mkdir(root, { mode: 0o755 });
      createdRoot = true;
    }

    const dirs = new Set<string>([root]);
    const ensureDir = async (abs: string) => {
      if (dirs.has(abs)) return;
      await ensureDir(path.dirname(abs));
      try {
        await fs.promises.mkdir(abs, { mode: 0o755 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const st = await fs.promises.lstat(abs);
        if (!st.isDirectory()) throw new Error(`${abs} exists and is not a directory`);
      }
      dirs.add(abs);
    };
    const writeFile = async (abs: string, mode: number, fill: (handle: fs.promises.FileHandle) => Promise<void>) => {
      const handle = await fs.promises.open(
        abs,
        fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
        0o600,
      );
      try {
        await fill(handle);
        await handle.chmod(mode);
        await handle.utimes(mtime, mtime);
      } finally {
        await handle.close();
      }
    };

    try {
      // Directories first (in order), then the files, several at a time.
      const files: Array<{ state: MemberState; target: string }> = [];
      for (const state of this.states) {
        const { member } = state;
        const target = path.resolve(root, member.name);
        if (!isInsideRoot(root, target)) throw new Error(`member ${q(member.name)} resolves outside ${root}`);
        await ensureDir(member.isDirectory ? target : path.dirname(target));
        if (!member.isDirectory) files.push({ state, target });
      }
      await mapLimit(files, CONCURRENCY, async ({ state, target }) => {
        let problems: string[] = [];
        await writeFile(target, state.member.mode, async (handle) => {
          const result = await streamMember(this.fd, this.zip, state, (chunk) => handle.writeFile(chunk));
          problems = result.problems;
        });
        if (problems.length) throw this.changed(state.member.name, problems);
      });
      await writeFile(path.join(root, ZIPINFO_FILE), 0o644, (handle) => handle.writeFile(formatZipInfo(this.zipInfo)));
      // Directories last: writing into them changed their mtimes.
      for (const d of [...dirs].sort().reverse()) {
        await fs.promises.chmod(d, 0o755);
        await fs.promises.utimes(d, mtime, mtime);
      }
    } catch (error) {
      if (createdRoot) await fs.promises.rm(root, { recursive: true, force: true });
      else {
        for (const child of await fs.promises.readdir(root).catch(() => [] as string[])) {
          await fs.promises.rm(path.join(root, child), { recursive: true, force: true });
        }
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zip.close();
  }
}
