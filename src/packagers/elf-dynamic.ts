/**
 * The dynamic-linking facts of an ELF file, read from its headers and the few
 * sections that hold them (never the whole file: a wheel's libraries can be
 * 100 MB): DT_NEEDED, DT_SONAME, DT_RPATH/DT_RUNPATH, whether it has an
 * interpreter, and its undefined dynamic symbols with the version each
 * requires (.dynsym, .dynstr, .gnu.version, .gnu.version_r/_d). ELF32 and
 * ELF64, either byte order.
 *
 * Facts are what `objdump -w -p -T` prints and dpkg-shlibdeps reads from it,
 * so that our result is its result: RUNPATH wins over RPATH, a symbol
 * without a version (or version index 0/1) is `name@Base`, and the ABI key
 * is dpkg's (`Dpkg::Shlibs::Objdump::get_format`).
 */
import { open, type FileHandle } from 'node:fs/promises';

/** What the reader cannot answer the way objdump would: the caller falls back to the real tools. */
export class UnsupportedElf extends Error {
  constructor(file: string, why: string) {
    super(`${file}: ${why}`);
    this.name = 'UnsupportedElf';
  }
}

export interface DynamicSymbol {
  name: string;
  /** The version the symbol requires (`GLIBC_2.14`), absent for none. */
  version?: string;
  weak: boolean;
}

export interface ElfDynamic {
  /** dpkg's ABI key: class, byte order, machine and the flags that change the ABI. */
  abi: string;
  type: number;
  machine: number;
  /** Has a PT_INTERP program header (an executable, PIE or not). */
  interp: boolean;
  needed: string[];
  soname?: string;
  /** DT_RUNPATH if there is one, else DT_RPATH, split at `:` as dpkg splits it. */
  rpath: string[];
  /** Only when asked for (`symbols: true`). */
  undefinedSymbols: DynamicSymbol[];
}

export const ET_EXEC = 2;
export const ET_DYN = 3;

const SHT_DYNAMIC = 6;
const SHT_DYNSYM = 11;
const SHT_REL = 9;
const SHT_RELA = 4;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const PT_INTERP = 3;
const DT_NEEDED = 1;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const STB_WEAK = 2;

/** Old and vendor machine numbers dpkg treats as the standard one. */
const MACHINE_ALIASES: Record<number, number> = { 0x9026: 41, 0x1057: 83, 0x9041: 88, 0xbaab: 189, 0xdead: 90, 0xbeef: 89, 0x8472: 92, 0xa390: 22, 18: 2, 11: 43, 0xabc7: 94 };
/** e_flags bits that change the ABI, per machine (IA-64, LoongArch, MIPS, PPC64); other machines' flags do not count. */
const ABI_FLAG_MASKS: Record<number, number> = { 50: 0x10, 258: 0x7, 8: 0xf000 | 0x20, 21: 0x3 };
/** R_*_COPY per machine: x86-64, i386, AArch64, ARM. */
const COPY_RELOCATION: Record<number, number> = { 62: 5, 3: 5, 183: 1024, 40: 20 };

interface Header {
  is64: boolean;
  le: boolean;
  type: number;
  machine: number;
  abi: string;
  phoff: number;
  phentsize: number;
  phnum: number;
  shoff: number;
  shentsize: number;
  shnum: number;
}

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

/** Reads fields of one byte order and class from a buffer. */
class Fields {
  constructor(
    private readonly buf: Buffer,
    private readonly le: boolean,
    private readonly is64: boolean,
  ) {}
  u8(at: number): number {
    return this.buf[at] as number;
  }
  u16(at: number): number {
    return this.le ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }
  u32(at: number): number {
    return this.le ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }
  u64(at: number): number {
    const value = this.le ? this.buf.readBigUInt64LE(at) : this.buf.readBigUInt64BE(at);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`ELF field at ${at} is beyond 2^53`);
    return Number(value);
  }
  /** An address-sized field (Elf32_Addr/Off or Elf64_Addr/Off/Xword). */
  word(at: number): number {
    return this.is64 ? this.u64(at) : this.u32(at);
  }
}

async function readAt(handle: FileHandle, offset: number, length: number, file: string): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, offset);
  if (bytesRead !== length) throw new UnsupportedElf(file, `truncated: ${length} bytes at ${offset} go past the end`);
  return buf;
}

/**
 * dpkg's ABI key of the first 64 bytes of a file, or undefined when it is
 * not an ELF file dpkg knows (dpkg reads exactly 64 bytes, so a shorter file
 * has none either).
 */
export function elfAbi(ident: Buffer): string | undefined {
  if (ident.length < 64 || ident.readUInt32BE(0) !== 0x7f454c46 || ident[6] !== 1) return undefined;
  const bits = ident[4] as number;
  const order = ident[5] as number;
  if ((bits !== 1 && bits !== 2) || (order !== 1 && order !== 2)) return undefined;
  const f = new Fields(ident, order === 1, bits === 2);
  const raw = f.u16(18);
  const machine = MACHINE_ALIASES[raw] ?? raw;
  const flags = (f.u32(bits === 2 ? 48 : 36) & (ABI_FLAG_MASKS[machine] ?? 0)) >>> 0;
  return `${bits}/${order}/${machine}/${flags.toString(16)}`;
}

function parseHeader(buf: Buffer, file: string): Header {
  const abi = elfAbi(buf);
  if (!abi) throw new UnsupportedElf(file, 'not an ELF file of a known class, byte order and version');
  const is64 = buf[4] === 2;
  const f = new Fields(buf, buf[5] === 1, is64);
  const raw = f.u16(18);
  return {
    is64,
    le: buf[5] === 1,
    type: f.u16(16),
    machine: MACHINE_ALIASES[raw] ?? raw,
    abi,
    phoff: f.word(is64 ? 32 : 28),
    phentsize: f.u16(is64 ? 54 : 42),
    phnum: f.u16(is64 ? 56 : 44),
    shoff: f.word(is64 ? 40 : 32),
    shentsize: f.u16(is64 ? 58 : 46),
    shnum: f.u16(is64 ? 60 : 48),
  };
}

async function readSections(handle: FileHandle, h: Header, file: string): Promise<Section[]> {
  if (h.shoff === 0) throw new UnsupportedElf(file, 'no section headers');
  let count = h.shnum;
  const parse = (buf: Buffer, at: number): Section => {
    const f = new Fields(buf, h.le, h.is64);
    return h.is64
      ? { type: f.u32(at + 4), offset: f.u64(at + 24), size: f.u64(at + 32), link: f.u32(at + 40), info: f.u32(at + 44), entsize: f.u64(at + 56) }
      : { type: f.u32(at + 4), offset: f.u32(at + 16), size: f.u32(at + 20), link: f.u32(at + 24), info: f.u32(at + 28), entsize: f.u32(at + 36) };
  };
  // More than 0xff00 sections: the count is in section 0's sh_size.
  if (count === 0) count = parse(await readAt(handle, h.shoff, h.shentsize, file), 0).size;
  const table = await readAt(handle, h.shoff, count * h.shentsize, file);
  return Array.from({ length: count }, (_, i) => parse(table, i * h.shentsize));
}

async function hasInterp(handle: FileHandle, h: Header, file: string): Promise<boolean> {
  if (h.phoff === 0 || h.phnum === 0) return false;
  const table = await readAt(handle, h.phoff, h.phnum * h.phentsize, file);
  const f = new Fields(table, h.le, h.is64);
  return Array.from({ length: h.phnum }, (_, i) => f.u32(i * h.phentsize)).includes(PT_INTERP);
}

/** NUL-terminated string at `at` in a string table. */
function stringAt(table: Buffer, at: number, file: string): string {
  const end = table.indexOf(0, at);
  if (at >= table.length || end < 0) throw new UnsupportedElf(file, `string offset ${at} outside its table`);
  return table.toString('utf8', at, end);
}

interface Reader {
  handle: FileHandle;
  h: Header;
  sections: Section[];
  file: string;
  strings: Map<number, Buffer>;
  interp: boolean;
}

async function sectionData(r: Reader, s: Section): Promise<Buffer> {
  return readAt(r.handle, s.offset, s.size, r.file);
}

async function stringTable(r: Reader, index: number): Promise<Buffer> {
  const cached = r.strings.get(index);
  if (cached) return cached;
  const section = r.sections[index];
  if (!section) throw new UnsupportedElf(r.file, `string table section ${index} does not exist`);
  const data = await sectionData(r, section);
  r.strings.set(index, data);
  return data;
}

async function readDynamicEntries(r: Reader): Promise<Pick<ElfDynamic, 'needed' | 'soname' | 'rpath'>> {
  const dynamic = r.sections.find((s) => s.type === SHT_DYNAMIC);
  const result: Pick<ElfDynamic, 'needed' | 'soname' | 'rpath'> = { needed: [], rpath: [] };
  if (!dynamic) return result;
  const data = await sectionData(r, dynamic);
  const strings = await stringTable(r, dynamic.link);
  const f = new Fields(data, r.h.le, r.h.is64);
  const size = r.h.is64 ? 16 : 8;
  let rpath: string | undefined;
  let runpath: string | undefined;
  for (let at = 0; at + size <= data.length; at += size) {
    const tag = f.word(at);
    if (tag === 0) break;
    if (tag !== DT_NEEDED && tag !== DT_SONAME && tag !== DT_RPATH && tag !== DT_RUNPATH) continue;
    const value = stringAt(strings, f.word(at + size / 2), r.file);
    if (tag === DT_NEEDED) result.needed.push(value);
    else if (tag === DT_SONAME) result.soname = value;
    else if (tag === DT_RPATH) rpath ??= value;
    else runpath = value;
  }
  const paths = runpath ?? rpath;
  // As Perl's split: empty fields kept, trailing empty ones dropped.
  if (paths !== undefined) result.rpath = paths.split(':').reduceRight<string[]>((kept, p) => (kept.length || p ? [p, ...kept] : kept), []);
  return result;
}

/** Version index -> name, from .gnu.version_r (required versions) and .gnu.version_d (defined ones). */
async function versionNames(r: Reader): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  for (const s of r.sections) {
    if (s.type !== SHT_GNU_VERNEED && s.type !== SHT_GNU_VERDEF) continue;
    const data = await sectionData(r, s);
    const strings = await stringTable(r, s.link);
    const f = new Fields(data, r.h.le, r.h.is64);
    let at = 0;
    for (let n = 0; n < s.info && at + 16 <= data.length; n++) {
      if (s.type === SHT_GNU_VERNEED) {
        let aux = at + f.u32(at + 8);
        for (let k = 0; k < f.u16(at + 2); k++) {
          names.set(f.u16(aux + 6) & 0x7fff, stringAt(strings, f.u32(aux + 8), r.file));
          aux += f.u32(aux + 12);
        }
      } else if (f.u16(at + 6) > 0) {
        names.set(f.u16(at + 4) & 0x7fff, stringAt(strings, f.u32(at + f.u32(at + 12)), r.file));
      }
      const next = f.u32(at + (s.type === SHT_GNU_VERNEED ? 12 : 16));
      if (next === 0) break;
      at += next;
    }
  }
  return names;
}

/**
 * Symbol indexes with a copy relocation. objdump shows a versioned one as
 * `name@VER` in -R but dpkg-shlibdeps looks for `name@@VER`, so it keeps
 * those defined; an unversioned one it would count as undefined, which we
 * do not model.
 */
async function copyRelocated(r: Reader, dynsymIndex: number): Promise<Set<number>> {
  const found = new Set<number>();
  const copy = COPY_RELOCATION[r.h.machine];
  for (const s of r.sections) {
    if ((s.type !== SHT_RELA && s.type !== SHT_REL) || s.link !== dynsymIndex) continue;
    if (copy === undefined) throw new UnsupportedElf(r.file, `dynamic relocations of machine ${r.h.machine}`);
    const data = await sectionData(r, s);
    const f = new Fields(data, r.h.le, r.h.is64);
    const size = s.entsize || (r.h.is64 ? (s.type === SHT_RELA ? 24 : 16) : s.type === SHT_RELA ? 12 : 8);
    for (let at = 0; at + size <= data.length; at += size) {
      const info = f.word(at + (r.h.is64 ? 8 : 4));
      const type = r.h.is64 ? info % 2 ** 32 : info & 0xff;
      const symbol = r.h.is64 ? Math.floor(info / 2 ** 32) : info >>> 8;
      if (type === copy) found.add(symbol);
    }
  }
  return found;
}

async function readUndefinedSymbols(r: Reader): Promise<DynamicSymbol[]> {
  const index = r.sections.findIndex((s) => s.type === SHT_DYNSYM);
  const dynsym = r.sections[index];
  if (!dynsym) return [];
  const data = await sectionData(r, dynsym);
  const strings = await stringTable(r, dynsym.link);
  const versym = r.sections.find((s) => s.type === SHT_GNU_VERSYM);
  const versions = versym ? await sectionData(r, versym) : undefined;
  const names = await versionNames(r);
  const copies = r.h.type === ET_EXEC || r.interp ? await copyRelocated(r, index) : new Set<number>();
  const f = new Fields(data, r.h.le, r.h.is64);
  const vf = versions ? new Fields(versions, r.h.le, r.h.is64) : undefined;
  const size = r.h.is64 ? 24 : 16;
  const out: DynamicSymbol[] = [];
  for (let i = 1; (i + 1) * size <= data.length; i++) {
    const at = i * size;
    const info = f.u8(at + (r.h.is64 ? 4 : 12));
    const shndx = f.u16(at + (r.h.is64 ? 6 : 14));
    const versionIndex = vf && (i + 1) * 2 <= versions!.length ? vf.u16(i * 2) & 0x7fff : 0;
    if (copies.has(i) && versionIndex < 2) throw new UnsupportedElf(r.file, 'a copy relocation of an unversioned symbol');
    if (shndx !== 0) continue;
    const name = stringAt(strings, f.u32(at), r.file);
    // objdump prints no name, and dpkg-shlibdeps skips the line.
    if (name === '') continue;
    let version: string | undefined;
    if (versionIndex >= 2) {
      version = names.get(versionIndex);
      if (version === undefined) throw new UnsupportedElf(r.file, `symbol ${name} has version index ${versionIndex}, which no version section names`);
    }
    out.push({ name, ...(version !== undefined ? { version } : {}), weak: info >> 4 === STB_WEAK });
  }
  return out;
}

/**
 * The dynamic facts of `file`; the undefined symbols only with `symbols`.
 * Throws UnsupportedElf for what it does not read as objdump would.
 */
export async function readElfDynamic(file: string, options: { symbols?: boolean } = {}): Promise<ElfDynamic> {
  const handle = await open(file, 'r');
  try {
    const ident = Buffer.alloc(64);
    const { bytesRead } = await handle.read(ident, 0, 64, 0);
    const h = parseHeader(ident.subarray(0, bytesRead), file);
    const r: Reader = { handle, h, file, sections: await readSections(handle, h, file), strings: new Map(), interp: await hasInterp(handle, h, file) };
    const dynamic = await readDynamicEntries(r);
    return {
      abi: h.abi,
      type: h.type,
      machine: h.machine,
      interp: r.interp,
      ...dynamic,
      undefinedSymbols: options.symbols ? await readUndefinedSymbols(r) : [],
    };
  } catch (error) {
    if (error instanceof RangeError) throw new UnsupportedElf(file, error.message);
    throw error;
  } finally {
    await handle.close();
  }
}

/** dpkg's ABI key of `file` (see elfAbi), or undefined. */
export async function fileAbi(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const ident = Buffer.alloc(64);
    const { bytesRead } = await handle.read(ident, 0, 64, 0);
    return elfAbi(ident.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
