/**
 * Fixtures for the .deb packager tests (deb-packager.test.ts,
 * shlibs-resolver.test.ts): staged trees laid out as the pipeline stages them
 * (`<root>/opt/<reqset>/wheels/<stem>/...`), a compiled one made with gcc (an
 * extension linked against a wheel-bundled library and libm), readers for
 * what dpkg-deb wrote (ar members, the data tarball), and the test file's
 * scratch directory.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { parseWheelFilename, type WheelName } from '../../src/python/tags.ts';
import { run } from '../../src/run.ts';
import { parseTarget, TOOL_ROOT, type Target } from '../../src/targets/target.ts';

export async function debian12(): Promise<Target> {
  const file = path.join(TOOL_ROOT, 'packaging', 'targets', 'debian12.yml');
  return parseTarget(await readFile(file, 'utf8'), file);
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export interface StagedFile {
  /** Path relative to the wheel tree. */
  name: string;
  data: string | Buffer;
  mode?: number;
}

/** The files of a small pure wheel, unpacked (RECORD content is not checked here). */
export function pureWheelFiles(name: string, version: string): StagedFile[] {
  const info = `${name}-${version}.dist-info`;
  return [
    { name: `${name}/__init__.py`, data: `__version__ = "${version}"\n` },
    { name: `${name}/core.py`, data: 'def double(x):\n    return 2 * x\n' },
    { name: `${name}-${version}.data/scripts/${name}-cli`, data: '#!python\nprint("hi")\n', mode: 0o755 },
    { name: `${info}/METADATA`, data: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n` },
    { name: `${info}/WHEEL`, data: 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n' },
    { name: `${info}/RECORD`, data: `${name}/__init__.py,,\n` },
    { name: '.reqset-wheel.json', data: '{"format": 1}\n' },
  ];
}

/**
 * Writes `files` under `<root>/opt/<reqset>/wheels/<stem>/` in the given order
 * (creation order and modes are what reproducibility tests vary).
 */
export async function stageTree(root: string, reqset: string, stem: string, files: StagedFile[], options: { dirMode?: number } = {}): Promise<string> {
  const tree = path.join(root, 'opt', reqset, 'wheels', stem);
  for (const file of files) {
    const full = path.join(tree, file.name);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, file.data);
    await chmod(full, file.mode ?? 0o644);
  }
  if (options.dirMode !== undefined) {
    for (const file of files) {
      let dir = path.dirname(path.join(tree, file.name));
      while (dir.startsWith(tree)) {
        await chmod(dir, options.dirMode);
        dir = path.dirname(dir);
      }
    }
  }
  return tree;
}

const LIBFOO_C = 'int foo_twice(int x) { return 2 * x; }\n';
const EXT_C = [
  '#include <math.h>',
  'int foo_twice(int);',
  'double ext_f(double x) { return cbrt(x) + foo_twice(3); }',
  '#ifdef USE_LOOSE',
  'int loose_value(void);',
  'int ext_loose(void) { return loose_value(); }',
  '#endif',
  '',
].join('\n');

export const LIBFOO = 'libfoo-1a2b3c4d.so';
export const EXT = 'fastmath/_ext.cpython-311-x86_64-linux-gnu.so';

/**
 * Compiles, into `dir`, `fastmath.libs/libfoo-1a2b3c4d.so` (SONAME set, as
 * auditwheel names bundled libraries) and `fastmath/_ext...so` linked against
 * it and libm (cbrt), with RPATH `$ORIGIN/../fastmath.libs`. Returns the
 * files, relative to `dir`, with their bytes.
 */
export async function compileExtension(dir: string, options: { rpath?: boolean; extraLib?: { dir: string; name: string } } = {}): Promise<StagedFile[]> {
  const src = path.join(dir, '.src');
  await mkdir(src, { recursive: true });
  await mkdir(path.join(dir, 'fastmath.libs'), { recursive: true });
  await mkdir(path.join(dir, 'fastmath'), { recursive: true });
  await writeFile(path.join(src, 'foo.c'), LIBFOO_C);
  await writeFile(path.join(src, 'ext.c'), EXT_C);
  const lib = path.join(dir, 'fastmath.libs', LIBFOO);
  await run(['gcc', '-shared', '-fPIC', '-O1', '-o', lib, `-Wl,-soname,${LIBFOO}`, path.join(src, 'foo.c')]);
  const ext = path.join(dir, EXT);
  const rpath = options.rpath === false ? [] : ['-Wl,--disable-new-dtags', '-Wl,-rpath,$ORIGIN/../fastmath.libs'];
  const extra = options.extraLib ? ['-DUSE_LOOSE', `-L${options.extraLib.dir}`, `-l:${options.extraLib.name}`, `-Wl,-rpath,${options.extraLib.dir}`] : [];
  await run(['gcc', '-shared', '-fPIC', '-O1', '-o', ext, path.join(src, 'ext.c'), `-L${path.dirname(lib)}`, `-l:${LIBFOO}`, ...extra, '-lm', ...rpath]);
  return [
    { name: `fastmath.libs/${LIBFOO}`, data: await readFile(lib), mode: 0o755 },
    { name: EXT, data: await readFile(ext), mode: 0o755 },
    { name: 'fastmath/__init__.py', data: 'from ._ext import *\n' },
    { name: 'fastmath-2.0.1.dist-info/METADATA', data: 'Metadata-Version: 2.1\nName: fastmath\nVersion: 2.0.1\n' },
    { name: 'fastmath-2.0.1.dist-info/WHEEL', data: 'Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n' },
    { name: 'fastmath-2.0.1.dist-info/RECORD', data: '' },
  ];
}

/** A shared library `name` (its own SONAME) in `dir`, outside any package, for the error cases. */
export async function compileLooseLibrary(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'loose.c'), 'int loose_value(void) { return 7; }\n');
  await run(['gcc', '-shared', '-fPIC', '-o', path.join(dir, name), `-Wl,-soname,${name}`, path.join(dir, 'loose.c')]);
}

export interface ArMember {
  name: string;
  mtime: number;
  uid: number;
  gid: number;
  mode: number;
  data: Buffer;
}

/** The members of an ar archive (a .deb), read from the bytes. */
export function readAr(data: Buffer): ArMember[] {
  if (data.subarray(0, 8).toString('latin1') !== '!<arch>\n') throw new Error('not an ar archive');
  const members: ArMember[] = [];
  let offset = 8;
  while (offset + 60 <= data.length) {
    const header = data.subarray(offset, offset + 60).toString('latin1');
    const field = (start: number, length: number) => header.slice(start, start + length).trim();
    const size = Number(field(48, 10));
    members.push({
      name: field(0, 16).replace(/\/$/, ''),
      mtime: Number(field(16, 12)),
      uid: Number(field(28, 6)),
      gid: Number(field(34, 6)),
      mode: parseInt(field(40, 8), 8),
      data: data.subarray(offset + 60, offset + 60 + size),
    });
    offset += 60 + size + (size % 2);
  }
  return members;
}

export interface TarItem {
  path: string;
  /** `File`, `Directory`, `SymbolicLink`, `Link` or the raw type flag. */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  size: number;
  sha256?: string;
  linkpath?: string;
}

const TAR_TYPES: Record<string, string> = { '0': 'File', '\0': 'File', '5': 'Directory', '2': 'SymbolicLink', '1': 'Link' };

/**
 * Every entry of a tar stream (GNU or ustar, as dpkg-deb writes them: GNU
 * `././@LongLink` entries for long names), in archive order. Parsed here
 * from the 512-byte headers so that every field dpkg-deb wrote is seen.
 */
export function readTar(data: Buffer): TarItem[] {
  const items: TarItem[] = [];
  const text = (block: Buffer, start: number, length: number) => {
    const raw = block.subarray(start, start + length);
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
  };
  const octal = (block: Buffer, start: number, length: number) => parseInt(text(block, start, length).trim() || '0', 8);
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  while (offset + 512 <= data.length) {
    const block = data.subarray(offset, offset + 512);
    if (block.every((b) => b === 0)) break;
    const size = octal(block, 124, 12);
    const flag = String.fromCharCode(block[156] ?? 0);
    const body = data.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (flag === 'L' || flag === 'K') {
      const value = body.toString('utf8').replace(/\0+$/, '');
      if (flag === 'L') longName = value;
      else longLink = value;
      continue;
    }
    const magic = block.subarray(257, 263).toString('latin1');
    const prefix = magic.startsWith('ustar') && magic !== 'ustar ' ? text(block, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100));
    const type = TAR_TYPES[flag] ?? flag;
    const link = longLink ?? text(block, 157, 100);
    items.push({
      path: name,
      type,
      mode: octal(block, 100, 8) & 0o7777,
      uid: octal(block, 108, 8),
      gid: octal(block, 116, 8),
      uname: text(block, 265, 32),
      gname: text(block, 297, 32),
      mtime: octal(block, 136, 12),
      size,
      ...(type === 'File' ? { sha256: sha256(body) } : {}),
      ...(link ? { linkpath: link } : {}),
    });
    longName = undefined;
    longLink = undefined;
  }
  return items;
}

/**
 * The data tarball of a .deb, through dpkg-deb itself (`sh` only redirects its
 * binary output to a file: the paths are positional arguments, not code).
 */
export async function fsysTarfile(deb: string, scratch: string): Promise<Buffer> {
  const out = path.join(scratch, `${path.basename(deb)}.tar`);
  await run(['sh', '-c', 'dpkg-deb --fsys-tarfile "$1" > "$2"', 'sh', deb, out]);
  return readFile(out);
}

/** `dpkg-deb -f` of one field. */
export async function debField(deb: string, field: string): Promise<string> {
  const { stdout } = await run(['dpkg-deb', '-f', deb, field]);
  return stdout.replace(/\n$/, '');
}

/**
 * A scratch directory for the calling test file (made before its tests,
 * removed after them) and a function giving a new directory in it for each
 * call.
 */
export function scratchDirs(prefix: string): (name: string) => Promise<string> {
  let tmp: string | undefined;
  let counter = 0;
  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), prefix));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });
  return async (name) => {
    if (tmp === undefined) throw new Error('a scratch directory is asked for before the test file started');
    const dir = path.join(tmp, `${name}-${++counter}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };
}

/** A wheel's file name with its parsed name, as a plan takes it. */
export function wheelRef(filename: string): { filename: string; name: WheelName } {
  const name = parseWheelFilename(filename);
  if (!name) throw new Error(`bad wheel name ${filename}`);
  return { filename, name };
}

/** The name of the library `stageCompiledWheel` links against outside any package. */
export const LOOSE_LIBRARY = 'libreqsetloose.so.1';

/**
 * The fastmath extension (compileExtension) built in `<dir>/build` and staged
 * as wheel `stem` of reqset `rs` under `<dir>/root`; with `loose`, also
 * linked against LOOSE_LIBRARY, made in `<dir>/loose`, which no package owns.
 */
export async function stageCompiledWheel(dir: string, stem: string, options: { rpath?: boolean; loose?: boolean } = {}): Promise<{ root: string; files: StagedFile[]; loose: string }> {
  const loose = path.join(dir, 'loose');
  if (options.loose) await compileLooseLibrary(loose, LOOSE_LIBRARY);
  const files = await compileExtension(path.join(dir, 'build'), {
    ...(options.rpath !== undefined ? { rpath: options.rpath } : {}),
    ...(options.loose ? { extraLib: { dir: loose, name: LOOSE_LIBRARY } } : {}),
  });
  const root = path.join(dir, 'root');
  await stageTree(root, 'rs', stem, files);
  return { root, files, loose };
}
