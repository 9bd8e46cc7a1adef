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

type Tags = Map<number, { type: number; values: (string | number)[] }>;

/** Where the header whose intro starts at `intro` of `buffer` ends. */
function headerEnd(buffer: Buffer, intro: number, file: string): number {
  if (buffer.length < intro + INTRO_SIZE || buffer.readUInt32BE(intro) !== HEADER_MAGIC) throw new ToolError(`${file}: not an RPM package (no header at byte ${intro})`);
  return intro + INTRO_SIZE + buffer.readUInt32BE(intro + 8) * ENTRY_SIZE + buffer.readUInt32BE(intro + 12);
}

/** The entries of the header whose intro starts at `intro` of `buffer` (which holds all of it). */
function readHeader(buffer: Buffer, intro: number, file: string): Tags {
  if (buffer.length < headerEnd(buffer, intro, file)) throw new ToolError(`${file}: its RPM header is cut short`);
  const count = buffer.readUInt32BE(intro + 8);
  const dataStart = intro + INTRO_SIZE + count * ENTRY_SIZE;
  const tags: Tags = new Map();
  for (let i = 0; i < count; i++) {
    const at = intro + INTRO_SIZE + i * ENTRY_SIZE;
    const [tag, type, offset, n] = [0, 4, 8, 12].map((o) => buffer.readUInt32BE(at + o)) as [number, number, number, number];
    const values: (string | number)[] = [];
    let position = dataStart + offset;
    for (let k = 0; k < n && (type === TYPE_INT32 || type === TYPE_STRING_ARRAY); k++) {
      if (type === TYPE_INT32) {
        values.push(buffer.readUInt32BE(position));
        position += 4;
      } else {
        const nul = buffer.indexOf(0, position);
        values.push(buffer.toString('utf8', position, nul));
        position = nul + 1;
      }
    }
    tags.set(tag, { type, values });
  }
  return tags;
}

function arrayOf<T extends string | number>(tags: Tags, tag: number, type: number, file: string): T[] {
  const entry = tags.get(tag);
  if (!entry) return [];
  if (entry.type !== type) throw new ToolError(`${file}: RPM header tag ${tag} has type ${entry.type}, not ${type}`);
  return entry.values as T[];
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
    const names = arrayOf<string>(tags, TAG_REQUIRENAME, TYPE_STRING_ARRAY, file);
    const flags = arrayOf<number>(tags, TAG_REQUIREFLAGS, TYPE_INT32, file);
    const versions = arrayOf<string>(tags, TAG_REQUIREVERSION, TYPE_STRING_ARRAY, file);
    const dirs = arrayOf<string>(tags, TAG_DIRNAMES, TYPE_STRING_ARRAY, file);
    const indexes = arrayOf<number>(tags, TAG_DIRINDEXES, TYPE_INT32, file);
    return {
      requires: names.map((name, i) => dependencyText(name, flags[i] ?? 0, versions[i] ?? '')),
      files: arrayOf<string>(tags, TAG_BASENAMES, TYPE_STRING_ARRAY, file).map((base, i) => `${dirs[indexes[i] ?? 0]}${base}`),
    };
  } finally {
    await handle.close();
  }
}
