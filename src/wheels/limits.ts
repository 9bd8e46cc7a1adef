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
 * 200:1 for members over 16 MiB. Below that, zeros are harmless and real:
 * shared libraries padded to 2 MiB pages go past 200:1 (pillow 13's bundled
 * libXau, 2 MiB from 9 KB: 224:1).
 */
import type yauzl from 'yauzl';
import { InputError } from '../errors.ts';

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
export const RATIO_FLOOR = 16 * 1024 * 1024;
/** RATIO_FLOOR as the messages and options say it. */
export const RATIO_FLOOR_TEXT = '16 MiB';

const q = (s: string): string => JSON.stringify(s);

/** DEFAULT_WHEEL_LIMITS with the overrides that are given. */
export function resolveLimits(overrides: Partial<WheelLimits> = {}): WheelLimits {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<WheelLimits>;
  return { ...DEFAULT_WHEEL_LIMITS, ...given };
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

/** The member count limit's problem, or [] (known from the end record, before any entry is read). */
export function memberCountProblems(count: number, limits: WheelLimits): string[] {
  return count > limits.maxMembers ? [`the wheel has ${count} members, over the limit of ${limits.maxMembers} (raise it with --max-wheel-members)`] : [];
}

/** The limits `entries` break, one problem each (bomb-like members listed by name), or []. */
export function limitProblems(entries: readonly yauzl.Entry[], limits: WheelLimits): string[] {
  const problems = memberCountProblems(entries.length, limits);
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
          `for members over ${RATIO_FLOOR_TEXT}: a zip bomb? (if the wheel is genuine, raise the limit with --max-compression-ratio)`,
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
