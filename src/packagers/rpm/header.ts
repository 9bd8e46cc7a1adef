/**
 * What the RPM packager reads back from a package it just built, from the
 * header itself rather than with `rpm -qp` (a process per package): the
 * requires as `rpm -qp --requires` prints them and the files it holds. The
 * format (rpm's own tag and type numbers): a 96-byte lead, the signature
 * header padded to 8 bytes, then the main header; a header is a magic
 * number, the count of index entries, the size of the data, the entries
 * (tag, type, offset, count: 4 big-endian 32-bit numbers each) and the data.
 */
import { open } from 'node:fs/promises';
import { ToolError } from '../../errors.ts';

const LEAD_SIZE = 96;
const HEADER_MAGIC = 0x8eade801;
const INTRO_SIZE = 16;
const ENTRY_SIZE = 16;

const TYPE_INT32 = 4;
const TYPE_STRING_ARRAY = 8;

const TAG_REQUIREFLAGS = 1048;
const TAG_REQUIRENAME = 1049;
const TAG_REQUIREVERSION = 1050;
const TAG_DIRINDEXES = 1116;
const TAG_BASENAMES = 1117;
const TAG_DIRNAMES = 1118;

const SENSE_LESS = 2;
const SENSE_GREATER = 4;
const SENSE_EQUAL = 8;

export interface RpmContents {
  /** As `rpm -qp --requires` prints them, in the header's order (repeats included). */
  requires: string[];
  /** Every path the package holds, directories and %ghost files included. */
  files: string[];
}

/** A header's index entries by tag, and its data: a tag's values are decoded only when asked for. */
interface Tags {
  buffer: Buffer;
  dataStart: number;
  entries: Map<number, { type: number; offset: number; count: number }>;
  file: string;
}

/** Where the header whose intro starts at `intro` of `buffer` ends. */
function headerEnd(buffer: Buffer, intro: number, file: string): number {
  if (buffer.length < intro + INTRO_SIZE || buffer.readUInt32BE(intro) !== HEADER_MAGIC) throw new ToolError(`${file}: not an RPM package (no header at byte ${intro})`);
  return intro + INTRO_SIZE + buffer.readUInt32BE(intro + 8) * ENTRY_SIZE + buffer.readUInt32BE(intro + 12);
}

/**
 * The index of the header whose intro starts at `intro` of `buffer` (which
 * holds all of it). Not every tag's values: a package of 20,000 files has
 * a dozen arrays of 20,000 values (digests, owners, times, ...), of which
 * only the names are wanted.
 */
function readHeader(buffer: Buffer, intro: number, file: string): Tags {
  if (buffer.length < headerEnd(buffer, intro, file)) throw new ToolError(`${file}: its RPM header is cut short`);
  const count = buffer.readUInt32BE(intro + 8);
  const entries: Tags['entries'] = new Map();
  for (let i = 0; i < count; i++) {
    const at = intro + INTRO_SIZE + i * ENTRY_SIZE;
    const [tag, type, offset, n] = [0, 4, 8, 12].map((o) => buffer.readUInt32BE(at + o)) as [number, number, number, number];
    entries.set(tag, { type, offset, count: n });
  }
  return { buffer, dataStart: intro + INTRO_SIZE + count * ENTRY_SIZE, entries, file };
}

function arrayOf<T extends string | number>(tags: Tags, tag: number, type: typeof TYPE_INT32 | typeof TYPE_STRING_ARRAY): T[] {
  const entry = tags.entries.get(tag);
  if (!entry) return [];
  if (entry.type !== type) throw new ToolError(`${tags.file}: RPM header tag ${tag} has type ${entry.type}, not ${type}`);
  const { buffer } = tags;
  const values: (string | number)[] = [];
  let position = tags.dataStart + entry.offset;
  for (let k = 0; k < entry.count; k++) {
    if (type === TYPE_INT32) {
      values.push(buffer.readUInt32BE(position));
      position += 4;
    } else {
      const nul = buffer.indexOf(0, position);
      values.push(buffer.toString('utf8', position, nul));
      position = nul + 1;
    }
  }
  return values as T[];
}

/** A dependency as rpm prints it: the name, then the comparison and the version when it has them. */
function dependencyText(name: string, flags: number, version: string): string {
  const sense = `${flags & SENSE_LESS ? '<' : ''}${flags & SENSE_GREATER ? '>' : ''}${flags & SENSE_EQUAL ? '=' : ''}`;
  if (!sense) return name;
  return version ? `${name} ${sense} ${version}` : `${name} ${sense}`;
}

/** The requires and files of the RPM package `file`. */
export async function readRpmContents(file: string): Promise<RpmContents> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const prefix = async (length: number) => {
      const buffer = Buffer.alloc(Math.min(size, length));
      await handle.read(buffer, 0, buffer.length, 0);
      return buffer;
    };
    // The headers only: the payload, which follows them, is most of the file.
    let buffer = await prefix(64 << 10);
    const signatureEnd = headerEnd(buffer, LEAD_SIZE, file);
    const mainIntro = signatureEnd + ((8 - (signatureEnd % 8)) % 8);
    const mainEnd = headerEnd(buffer, mainIntro, file);
    if (mainEnd > buffer.length) buffer = await prefix(mainEnd);
    const tags = readHeader(buffer, mainIntro, file);
    const names = arrayOf<string>(tags, TAG_REQUIRENAME, TYPE_STRING_ARRAY);
    const flags = arrayOf<number>(tags, TAG_REQUIREFLAGS, TYPE_INT32);
    const versions = arrayOf<string>(tags, TAG_REQUIREVERSION, TYPE_STRING_ARRAY);
    const dirs = arrayOf<string>(tags, TAG_DIRNAMES, TYPE_STRING_ARRAY);
    const indexes = arrayOf<number>(tags, TAG_DIRINDEXES, TYPE_INT32);
    return {
      requires: names.map((name, i) => dependencyText(name, flags[i] ?? 0, versions[i] ?? '')),
      files: arrayOf<string>(tags, TAG_BASENAMES, TYPE_STRING_ARRAY).map((base, i) => `${dirs[indexes[i] ?? 0]}${base}`),
    };
  } finally {
    await handle.close();
  }
}
