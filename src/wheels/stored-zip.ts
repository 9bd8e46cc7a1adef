/**
 * The stored-zip layout of a wheel package: `<wheel-stem>.zip` holds the
 * wheel's members in the wheel's own (central-directory) order, with the same
 * names, times, "version made by", "version needed" and external attributes,
 * but every member STORED (method 0, uncompressed), and then ZIPINFO_FILE
 * (`.reqset-wheel.json`, what is needed to deflate each member again and
 * rebuild the very same .whl) as the last member.
 *
 * Uncompressed members keep the package payload's compressor (and delta RPMs)
 * working on the files' own bytes, as the unpacked layout does, while the
 * package installs one file instead of a tree. The runtime helper reads such a
 * zip wherever it reads a wheel tree (rebuild-wheel, verify, install-venv).
 *
 * Deterministic: the bytes depend only on the wheel. No extra fields, no
 * comments, no data descriptors; the general purpose flags keep only the UTF-8
 * bit (set for every non-ASCII name, written in UTF-8); ZIPINFO_FILE is dated
 * 1980-01-01 00:00. Zip64 records are written only where a size, an offset or
 * the member count needs them.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { WheelSource } from './source.ts';
import { formatZipInfo, ZIPINFO_FILE } from './zipinfo.ts';
import {
  CENTRAL_HEADER_SIGNATURE,
  CENTRAL_HEADER_SIZE,
  crc32,
  dosDate,
  dosTime,
  END_SIGNATURE,
  END_SIZE,
  FLAG_UTF8,
  LIMIT16,
  LIMIT32,
  LOCAL_HEADER_SIGNATURE,
  LOCAL_HEADER_SIZE,
  METHOD_STORED,
  ZIP64_END_SIGNATURE,
  ZIP64_END_SIZE,
  ZIP64_EXTRA_ID,
  ZIP64_LOCATOR_SIGNATURE,
  ZIP64_LOCATOR_SIZE,
  type DosTime,
} from './zip.ts';

/** Version made by for ZIPINFO_FILE: Unix, zip 2.0 (what Python's zipfile writes). */
const MADE_BY_UNIX = 0x0314;
const NEEDED_DEFAULT = 20;
const NEEDED_ZIP64 = 45;
const INFO_TIME: DosTime = [1980, 1, 1, 0, 0, 0];

/** One member as the writer needs it. */
export interface StoredMember {
  name: string;
  /** Empty for a directory (its name ends with `/`). */
  data: Buffer;
  time: DosTime;
  madeBy: number;
  needed: number;
  flags: number;
  externalAttr: number;
}

/** A zip64 extra field block holding `values` (8 bytes each). */
function zip64Extra(values: bigint[]): Buffer {
  const block = Buffer.alloc(4 + values.length * 8);
  block.writeUInt16LE(ZIP64_EXTRA_ID, 0);
  block.writeUInt16LE(values.length * 8, 2);
  values.forEach((v, i) => block.writeBigUInt64LE(v, 4 + i * 8));
  return block;
}

/**
 * Writes a zip of stored members, in the given order, to an open file,
 * keeping only the small central directory in memory.
 */
export class StoredZipWriter {
  private offset = 0;
  private readonly central: Buffer[] = [];
  private readonly hash = createHash('sha256');
  private count = 0;

  /** `sink` takes the archive's bytes in order: a file (fileSink) or memory. */
  constructor(private readonly sink: (data: Buffer) => Promise<void> | void) {}

  private async write(data: Buffer): Promise<void> {
    await this.sink(data);
    this.hash.update(data);
    this.offset += data.length;
  }

  async add(member: StoredMember): Promise<void> {
    const name = Buffer.from(member.name, 'utf8');
    if (name.length > LIMIT16) throw new Error(`internal: zip member name too long: ${member.name}`);
    const size = member.data.length;
    const crc = crc32(member.data);
    const flags = (member.flags & FLAG_UTF8) | (/[^\x00-\x7f]/.test(member.name) ? FLAG_UTF8 : 0);
    const bigSize = size >= LIMIT32;
    const bigOffset = this.offset >= LIMIT32;
    const needed = bigSize || bigOffset ? Math.max(member.needed, NEEDED_ZIP64) : member.needed;
    const time = dosTime(member.time);
    const date = dosDate(member.time);

    const localExtra = bigSize ? zip64Extra([BigInt(size), BigInt(size)]) : Buffer.alloc(0);
    const local = Buffer.alloc(LOCAL_HEADER_SIZE);
    local.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
    local.writeUInt16LE(needed, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(METHOD_STORED, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(bigSize ? LIMIT32 : size, 18);
    local.writeUInt32LE(bigSize ? LIMIT32 : size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    const offset = this.offset;
    await this.write(Buffer.concat([local, name, localExtra]));
    await this.write(member.data);

    const centralValues: bigint[] = [];
    if (bigSize) centralValues.push(BigInt(size), BigInt(size));
    if (bigOffset) centralValues.push(BigInt(offset));
    const centralExtra = centralValues.length ? zip64Extra(centralValues) : Buffer.alloc(0);
    const header = Buffer.alloc(CENTRAL_HEADER_SIZE);
    header.writeUInt32LE(CENTRAL_HEADER_SIGNATURE, 0);
    header.writeUInt16LE(member.madeBy, 4);
    header.writeUInt16LE(needed, 6);
    header.writeUInt16LE(flags, 8);
    header.writeUInt16LE(METHOD_STORED, 10);
    header.writeUInt16LE(time, 12);
    header.writeUInt16LE(date, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(bigSize ? LIMIT32 : size, 20);
    header.writeUInt32LE(bigSize ? LIMIT32 : size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt16LE(centralExtra.length, 30);
    header.writeUInt16LE(0, 32); // comment length
    header.writeUInt16LE(0, 34); // disk
    header.writeUInt16LE(0, 36); // internal attributes
    header.writeUInt32LE(member.externalAttr >>> 0, 38);
    header.writeUInt32LE(bigOffset ? LIMIT32 : offset, 42);
    this.central.push(Buffer.concat([header, name, centralExtra]));
    this.count++;
  }

  /** Writes the central directory; returns the archive's sha256 (hex) and size. */
  async finish(): Promise<{ sha256: string; size: number }> {
    const start = this.offset;
    await this.write(Buffer.concat(this.central));
    const size = this.offset - start;
    const count = this.count;
    if (count >= LIMIT16 || start >= LIMIT32 || size >= LIMIT32) {
      const end64 = this.offset;
      const record = Buffer.alloc(ZIP64_END_SIZE);
      record.writeUInt32LE(ZIP64_END_SIGNATURE, 0);
      record.writeBigUInt64LE(BigInt(ZIP64_END_SIZE - 12), 4); // the size of the rest of the record
      record.writeUInt16LE(NEEDED_ZIP64, 12);
      record.writeUInt16LE(NEEDED_ZIP64, 14);
      record.writeUInt32LE(0, 16);
      record.writeUInt32LE(0, 20);
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(size), 40);
      record.writeBigUInt64LE(BigInt(start), 48);
      const locator = Buffer.alloc(ZIP64_LOCATOR_SIZE);
      locator.writeUInt32LE(ZIP64_LOCATOR_SIGNATURE, 0);
      locator.writeUInt32LE(0, 4);
      locator.writeBigUInt64LE(BigInt(end64), 8);
      locator.writeUInt32LE(1, 16);
      await this.write(Buffer.concat([record, locator]));
    }
    const end = Buffer.alloc(END_SIZE);
    end.writeUInt32LE(END_SIGNATURE, 0);
    end.writeUInt16LE(Math.min(count, LIMIT16), 8);
    end.writeUInt16LE(Math.min(count, LIMIT16), 10);
    end.writeUInt32LE(Math.min(size, LIMIT32), 12);
    end.writeUInt32LE(Math.min(start, LIMIT32), 16);
    end.writeUInt16LE(0, 20);
    await this.write(end);
    return { sha256: this.hash.digest('hex'), size: this.offset };
  }
}

/** A StoredZipWriter sink writing whole buffers to an open file. */
function fileSink(handle: FileHandle): (data: Buffer) => Promise<void> {
  return async (data) => {
    let done = 0;
    while (done < data.length) done += (await handle.write(data, done, data.length - done)).bytesWritten;
  };
}

/**
 * Writes the stored zip of an opened wheel to `file` (which must not exist),
 * with mode 0644 and, when given, `mtime`. Every member's bytes are checked
 * again (CRC and RECORD hash) as they are read from the wheel.
 */
export async function writeStoredZip(source: WheelSource, file: string, options: { mtime?: Date } = {}): Promise<{ sha256: string; size: number }> {
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  let result: { sha256: string; size: number };
  try {
    const writer = new StoredZipWriter(fileSink(handle));
    for (const member of source.members) {
      await writer.add({
        name: member.name,
        data: member.isDirectory ? Buffer.alloc(0) : await source.read(member.name),
        time: member.time,
        madeBy: member.madeBy,
        needed: member.needed,
        flags: member.flags,
        externalAttr: member.externalAttr,
      });
    }
    await writer.add({
      name: ZIPINFO_FILE,
      data: Buffer.from(formatZipInfo(source.zipInfo), 'utf8'),
      time: INFO_TIME,
      madeBy: MADE_BY_UNIX,
      needed: NEEDED_DEFAULT,
      flags: 0,
      externalAttr: (0o100644 << 16) >>> 0,
    });
    result = await writer.finish();
    await handle.chmod(0o644);
    if (options.mtime) await handle.utimes(options.mtime, options.mtime);
  } catch (error) {
    await handle.close();
    await rm(file, { force: true });
    throw error;
  }
  await handle.close();
  return result;
}
