/**
 * Crafts wheels for tests: valid ones with a correct RECORD, and broken or
 * malicious ones (path tricks, symlinks, duplicate names, a local header that
 * disagrees with the central directory, ...). The zip writer is a small one of
 * our own so that every header field can be chosen, including wrong ones.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export type DosTime = [number, number, number, number, number, number];

/** One zip member. Defaults give what Python's zipfile writes on Unix. */
export interface ZipMember {
  name: string | Buffer;
  data?: string | Buffer;
  /** 0 stored, 8 deflated (default for files), anything else is written as given (data stored raw). */
  method?: number;
  time?: DosTime;
  /** Version made by; default 0x0314 (Unix, 2.0), as Python writes it. */
  madeBy?: number;
  needed?: number;
  /** General purpose flags; 0x800 is added for non-ASCII names unless `rawFlags`. */
  flags?: number;
  rawFlags?: boolean;
  /** External attributes; default from `mode`. */
  attr?: number;
  /** Internal attributes (bit 0: text, as Info-ZIP sets it); default 0. */
  internalAttr?: number;
  /** Unix st_mode; default 0o100644 for files, 0o040755 for directories. */
  mode?: number;
  extra?: Buffer;
  localExtra?: Buffer;
  comment?: Buffer;
  /** Write a data descriptor (flag bit 3) with zero CRC and sizes in the local header. */
  dataDescriptor?: boolean;
  /** Override the CRC-32 in both headers (to corrupt it). */
  crc?: number;
  /** Local header fields that differ from the central directory. */
  local?: { name?: string | Buffer; method?: number; crc?: number; compressedSize?: number; size?: number; flags?: number };
}

export interface ZipOptions {
  comment?: Buffer;
}

export function dosDate([y, mo, d]: DosTime): number {
  return ((y - 1980) << 9) | (mo << 5) | d;
}
export function dosTime([, , , h, mi, s]: DosTime): number {
  return (h << 11) | (mi << 5) | Math.floor(s / 2);
}

/** Write a zip archive to a buffer, members in the given order. */
export function writeZip(members: ZipMember[], options: ZipOptions = {}): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const nameBytes = Buffer.isBuffer(m.name) ? m.name : Buffer.from(m.name, 'utf8');
    const nameText = nameBytes.toString('utf8');
    const isDir = nameText.endsWith('/');
    const data = m.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(m.data) ? m.data : Buffer.from(m.data, 'utf8');
    const method = m.method ?? (isDir ? 0 : 8);
    const compressed = method === 8 ? zlib.deflateRawSync(data) : data;
    const crc = m.crc ?? zlib.crc32(data);
    let flags = m.flags ?? 0;
    if (!m.rawFlags && nameBytes.some((b) => b >= 0x80)) flags |= 0x800;
    if (m.dataDescriptor) flags |= 0x08;
    const time = m.time ?? [1980, 1, 1, 0, 0, 0];
    const mode = m.mode ?? (isDir ? 0o040755 : 0o100644);
    const attr = m.attr ?? ((mode << 16) >>> 0) | (isDir ? 0x10 : 0);
    const madeBy = m.madeBy ?? 0x0314;
    const needed = m.needed ?? 20;
    const extra = m.extra ?? Buffer.alloc(0);
    const localExtra = m.localExtra ?? extra;
    const comment = m.comment ?? Buffer.alloc(0);
    const local = m.local ?? {};
    const localName = local.name === undefined ? nameBytes : Buffer.isBuffer(local.name) ? local.name : Buffer.from(local.name, 'utf8');

    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(needed, 4);
    lh.writeUInt16LE(local.flags ?? flags, 6);
    lh.writeUInt16LE(local.method ?? method, 8);
    lh.writeUInt16LE(dosTime(time), 10);
    lh.writeUInt16LE(dosDate(time), 12);
    lh.writeUInt32LE(local.crc ?? (m.dataDescriptor ? 0 : crc), 14);
    lh.writeUInt32LE(local.compressedSize ?? (m.dataDescriptor ? 0 : compressed.length), 18);
    lh.writeUInt32LE(local.size ?? (m.dataDescriptor ? 0 : data.length), 22);
    lh.writeUInt16LE(localName.length, 26);
    lh.writeUInt16LE(localExtra.length, 28);
    const parts = [lh, localName, localExtra, compressed];
    if (m.dataDescriptor) {
      const dd = Buffer.alloc(16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      dd.writeUInt32LE(compressed.length, 8);
      dd.writeUInt32LE(data.length, 12);
      parts.push(dd);
    }
    const localRecord = Buffer.concat(parts);
    chunks.push(localRecord);

    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(madeBy, 4);
    ch.writeUInt16LE(needed, 6);
    ch.writeUInt16LE(flags, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt16LE(dosTime(time), 12);
    ch.writeUInt16LE(dosDate(time), 14);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(compressed.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nameBytes.length, 28);
    ch.writeUInt16LE(extra.length, 30);
    ch.writeUInt16LE(comment.length, 32);
    ch.writeUInt16LE(0, 34);
    ch.writeUInt16LE(m.internalAttr ?? 0, 36);
    ch.writeUInt32LE(attr >>> 0, 38);
    ch.writeUInt32LE(offset, 42);
    central.push(Buffer.concat([ch, nameBytes, extra, comment]));
    offset += localRecord.length;
  }
  const cd = Buffer.concat(central);
  const comment = options.comment ?? Buffer.alloc(0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...chunks, cd, eocd, comment]);
}

// ---------------------------------------------------------------------------

export type RecordRow = [path: string, hash: string, size: string];

export interface WheelSpec {
  name: string;
  version: string;
  /** Files of the wheel (not the dist-info ones, which are generated). */
  files?: Record<string, string | Buffer>;
  /** Compressed tag set for the file name; default `py3-none-any` (or made from `tags`). */
  tag?: string;
  /** Expanded tags for the WHEEL file, e.g. ['py2-none-any', 'py3-none-any']; default: expanded from `tag`. */
  tags?: string[];
  build?: string;
  /** Extra METADATA headers, e.g. `{ Summary: 'x', 'Requires-Dist': ['a', 'b'] }`. */
  metadata?: Record<string, string | string[]>;
  /** Replace the whole METADATA text. */
  metadataText?: string;
  /** entry_points.txt content. */
  entryPoints?: string;
  rootIsPurelib?: boolean;
  /** The dist-info directory name; default `{name}-{version}.dist-info`. */
  distInfo?: string;
  /** dist-info files to leave out: 'METADATA', 'WHEEL', 'RECORD'. */
  omit?: string[];
  /** Extra raw members, added after the files (and listed in RECORD unless `unrecorded`). */
  extraMembers?: Array<ZipMember & { unrecorded?: boolean }>;
  /** Per-member defaults and overrides, by name (mode, time, method, ...). */
  memberOptions?: Record<string, Partial<ZipMember>>;
  /** Change RECORD rows before RECORD is written. */
  record?: (rows: RecordRow[]) => RecordRow[];
  /** Change the final member list (RECORD included) before the zip is written. */
  tamper?: (members: ZipMember[]) => ZipMember[];
  /** Output file name; default from name, version, build and tag. */
  filename?: string;
  zipOptions?: ZipOptions;
}

export function recordHash(data: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}=${createHash(algorithm).update(data).digest('base64url')}`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatRecord(rows: RecordRow[]): string {
  return rows.map((r) => r.map(csvField).join(',') + '\r\n').join('');
}

const toBuffer = (d: string | Buffer | undefined) => (d === undefined ? Buffer.alloc(0) : Buffer.isBuffer(d) ? d : Buffer.from(d, 'utf8'));

/** Build a wheel in memory: its file name, bytes and members. */
export function buildWheel(spec: WheelSpec): { filename: string; buffer: Buffer; members: ZipMember[] } {
  const escapedName = spec.name.replace(/[-_.]+/g, '_');
  const distInfo = spec.distInfo ?? `${escapedName}-${spec.version}.dist-info`;
  const omit = new Set(spec.omit ?? []);
  const metadataText =
    spec.metadataText ??
    [
      'Metadata-Version: 2.1',
      `Name: ${spec.name}`,
      `Version: ${spec.version}`,
      ...Object.entries(spec.metadata ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`)),
      '',
      'The description body.',
      '',
    ].join('\n');
  const compress = (list: string[]) => {
    const parts = [new Set<string>(), new Set<string>(), new Set<string>()];
    for (const t of list) t.split('-').forEach((x, i) => parts[i]?.add(x));
    return parts.map((set) => [...set].join('.')).join('-');
  };
  const tag = spec.tag ?? (spec.tags?.length ? compress(spec.tags) : 'py3-none-any');
  const [py = 'py3', abi = 'none', plat = 'any'] = tag.split('-');
  const tags: string[] = spec.tags ? [...spec.tags] : [];
  if (!spec.tags) for (const p of py.split('.')) for (const a of abi.split('.')) for (const pl of plat.split('.')) tags.push(`${p}-${a}-${pl}`);
  const wheelText = [
    'Wheel-Version: 1.0',
    'Generator: reqset-test (0.1)',
    `Root-Is-Purelib: ${spec.rootIsPurelib ?? tag.endsWith('-any')}`,
    ...tags.map((t) => `Tag: ${t}`),
    ...(spec.build ? [`Build: ${spec.build}`] : []),
    '',
    '',
  ].join('\n');

  const withOptions = (m: ZipMember): ZipMember => {
    const name = Buffer.isBuffer(m.name) ? m.name.toString('utf8') : m.name;
    return { ...m, ...(spec.memberOptions?.[name] ?? {}) };
  };
  const members: Array<ZipMember & { unrecorded?: boolean }> = [];
  for (const [name, data] of Object.entries(spec.files ?? {})) members.push(withOptions({ name, data }));
  for (const m of spec.extraMembers ?? []) members.push(withOptions(m));
  if (!omit.has('METADATA')) members.push(withOptions({ name: `${distInfo}/METADATA`, data: metadataText }));
  if (!omit.has('WHEEL')) members.push(withOptions({ name: `${distInfo}/WHEEL`, data: wheelText }));
  if (spec.entryPoints !== undefined) members.push(withOptions({ name: `${distInfo}/entry_points.txt`, data: spec.entryPoints }));

  const seen = new Set<string>();
  let rows: RecordRow[] = [];
  for (const m of members) {
    const name = Buffer.isBuffer(m.name) ? m.name.toString('utf8') : m.name;
    if (name.endsWith('/') || m.unrecorded || seen.has(name)) continue;
    seen.add(name);
    const data = toBuffer(m.data);
    rows.push([name, recordHash(data), String(data.length)]);
  }
  const recordName = `${distInfo}/RECORD`;
  rows.push([recordName, '', '']);
  if (spec.record) rows = spec.record(rows);
  let all: ZipMember[] = members.map(({ unrecorded: _u, ...m }) => m);
  if (!omit.has('RECORD')) all.push(withOptions({ name: recordName, data: formatRecord(rows) }));
  if (spec.tamper) all = spec.tamper(all);
  const filename = spec.filename ?? `${escapedName}-${spec.version}${spec.build ? `-${spec.build}` : ''}-${tag}.whl`;
  return { filename, buffer: writeZip(all, spec.zipOptions), members: all };
}

/** Write a wheel into `dir` (created if needed) and return its path. */
export async function makeWheel(dir: string, spec: WheelSpec): Promise<string> {
  const { filename, buffer } = buildWheel(spec);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, filename);
  await writeFile(file, buffer);
  return file;
}

/** Offset of the first local header whose name is `name` (for patching bytes in tests). */
export function findLocalHeader(zip: Buffer, name: string): number {
  const nameBytes = Buffer.from(name, 'utf8');
  for (let i = zip.indexOf(0x50); i >= 0 && i + 30 <= zip.length; i = zip.indexOf(0x50, i + 1)) {
    if (zip.readUInt32LE(i) !== 0x04034b50) continue;
    const n = zip.readUInt16LE(i + 26);
    if (n === nameBytes.length && zip.subarray(i + 30, i + 30 + n).equals(nameBytes)) return i;
  }
  throw new Error(`no local header named ${name}`);
}
