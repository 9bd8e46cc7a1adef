/**
 * A compiled wheel's files as auditwheel leaves them, made with gcc: a bundled
 * private library `<pkg>.libs/libfoo-1a2b3c4d.so` (soname = file name, as
 * auditwheel renames and re-sonames what it bundles) and an extension module
 * `<pkg>/_ext.cpython-311-x86_64-linux-gnu.so` that needs it and libm, with an
 * RPATH `$ORIGIN/../<pkg>.libs` (auditwheel's patchelf sets DT_RUNPATH).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../src/run.ts';

export const PRIVATE_LIBRARY = 'libfoo-1a2b3c4d.so';

const LIBRARY_SOURCE = `int foo_scale(int x) { return 3 * x + 1; }\n`;

const EXTENSION_SOURCE = `#include <math.h>
int foo_scale(int x);
/* cos() makes libm.so.6 NEEDED; foo_scale() the bundled library. */
double reqset_fixture(double x) { return cos(x) + foo_scale((int)x); }
`;

export interface ElfFixture {
  /** Paths relative to the wheel tree. */
  library: string;
  extension: string;
}

/** Whether gcc is there to make the fixture. */
export async function haveGcc(): Promise<boolean> {
  const result = await run(['gcc', '--version'], { allowFailure: true }).catch(() => undefined);
  return result?.exitCode === 0;
}

/** Compiles the library and the extension into `tree` (an unpacked wheel's root). */
export async function makeCompiledTree(tree: string, pkg = 'pkg'): Promise<ElfFixture> {
  const src = await mkdtemp(path.join(tmpdir(), 'reqset-elf-'));
  try {
    const libDir = path.join(tree, `${pkg}.libs`);
    const pkgDir = path.join(tree, pkg);
    await mkdir(libDir, { recursive: true });
    await mkdir(pkgDir, { recursive: true });
    await writeFile(path.join(src, 'foo.c'), LIBRARY_SOURCE);
    await writeFile(path.join(src, 'ext.c'), EXTENSION_SOURCE);
    const library = path.join(libDir, PRIVATE_LIBRARY);
    const extension = path.join(pkgDir, '_ext.cpython-311-x86_64-linux-gnu.so');
    await run(['gcc', '-shared', '-fPIC', '-O2', `-Wl,-soname,${PRIVATE_LIBRARY}`, '-o', library, path.join(src, 'foo.c')]);
    await run([
      'gcc',
      '-shared',
      '-fPIC',
      '-O2',
      '-o',
      extension,
      path.join(src, 'ext.c'),
      `-L${libDir}`,
      `-l:${PRIVATE_LIBRARY}`,
      '-lm',
      `-Wl,-rpath,$ORIGIN/../${pkg}.libs`,
    ]);
    return { library: path.relative(tree, library), extension: path.relative(tree, extension) };
  } finally {
    await rm(src, { recursive: true, force: true });
  }
}

/** The DT_NEEDED entries of an ELF file (readelf from binutils). */
export async function neededLibraries(file: string): Promise<string[]> {
  const { stdout } = await run(['readelf', '-d', file]);
  return [...stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1] as string);
}
