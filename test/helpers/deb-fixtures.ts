/**
 * What the .deb tests (test/integration/deb-packager.test.ts and
 * shlibs-resolver.test.ts) set up the same way: the test file's scratch
 * directory, wheel names for plans, and the gcc-made extension of
 * test/integration/deb-fixtures.ts compiled and staged as the pipeline
 * stages a wheel.
 */
import { after, before } from 'node:test';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseWheelFilename, type WheelName } from '../../src/python/tags.ts';
import { compileExtension, compileLooseLibrary, stageTree, type StagedFile } from '../integration/deb-fixtures.ts';

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
