/**
 * Facts of the zip format (APPNOTE.TXT) shared by the wheel reader
 * (source.ts) and the stored-zip writer (stored-zip.ts): record signatures
 * and sizes, flag bits, methods, CRC-32 and DOS dates and times.
 */
import * as zlib from 'node:zlib';

/** General purpose flag bits. */
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_UTF8 = 0x0800;

/** Compression methods. */
export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/** Record signatures and fixed sizes (without the variable-length name, extra and comment fields). */
export const LOCAL_HEADER_SIGNATURE = 0x04034b50;
export const LOCAL_HEADER_SIZE = 30;
export const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
export const CENTRAL_HEADER_SIZE = 46;
export const END_SIGNATURE = 0x06054b50;
export const END_SIZE = 22;
export const ZIP64_END_SIGNATURE = 0x06064b50;
export const ZIP64_END_SIZE = 56;
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
export const ZIP64_LOCATOR_SIZE = 20;
/** Header ID of the zip64 extended information extra field. */
export const ZIP64_EXTRA_ID = 0x0001;

/** The largest 16- and 32-bit values; a field holding one of them may be continued in zip64 records. */
export const LIMIT16 = 0xffff;
export const LIMIT32 = 0xffffffff;

/** `[year, month, day, hour, minute, second]` from a DOS date and time. */
export type DosTime = [number, number, number, number, number, number];

/** Decode a DOS date and time as Python's zipfile does. */
export function decodeDosTime(date: number, time: number): DosTime {
  return [((date >> 9) & 0x7f) + 1980, (date >> 5) & 0x0f, date & 0x1f, (time >> 11) & 0x1f, (time >> 5) & 0x3f, (time & 0x1f) * 2];
}

/** The DOS time field (two-second resolution). */
export function dosTime([, , , hour, minute, second]: DosTime): number {
  return (hour << 11) | (minute << 5) | Math.floor(second / 2);
}

/** The DOS date field. */
export function dosDate([year, month, day]: DosTime): number {
  return ((year - 1980) << 9) | (month << 5) | day;
}

let crcTable: Uint32Array | undefined;
/** CRC-32 (zip/zlib polynomial), continuing from `value`: zlib's where Node has it (20.15 and later), else a table. */
export function crc32(data: Buffer, value = 0): number {
  const native = (zlib as { crc32?: (d: Buffer, v?: number) => number }).crc32;
  if (typeof native === 'function') return native(data, value) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = (crcTable[(c ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
