/**
 * The runtime helper as the targets get it: one zipapp (`python3
 * reqset_runtime.pyz COMMAND ...`) of `__main__.py` and the `reqset_runtime`
 * package beside this file. Stored members in a fixed order with a fixed time
 * and mode, so the same sources give the same bytes on every build and
 * whatever zlib is at hand, written by the one stored-zip writer.
 */
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoredZipWriter } from '../wheels/stored-zip.ts';
import type { DosTime } from '../wheels/zip.ts';

/**
 * The zipapp's root: `__main__.py` and `reqset_runtime/`; `python3
 * RUNTIME_SOURCE_DIR` runs the helper from source. Always src/runtime, also
 * when this module runs compiled from build/runtime (tsc copies no .py).
 */
export const RUNTIME_SOURCE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'runtime');
export const RUNTIME_PACKAGE = 'reqset_runtime';
export const RUNTIME_ZIPAPP_NAME = 'reqset_runtime.pyz';

const MEMBER_TIME: DosTime = [1980, 1, 1, 0, 0, 0];
const MEMBER_ATTR = (0o100644 << 16) >>> 0;
/** Unix, zip 2.0; 1.0 is enough to extract a stored member. */
const MADE_BY = 0x0314;
const NEEDED = 10;

/** The zipapp's members, in their order: `__main__.py`, then the package's modules by name. */
async function zipappMembers(): Promise<{ name: string; data: Buffer }[]> {
  const modules = (await readdir(path.join(RUNTIME_SOURCE_DIR, RUNTIME_PACKAGE))).filter((f) => f.endsWith('.py')).sort();
  const names = ['__main__.py', ...modules.map((m) => `${RUNTIME_PACKAGE}/${m}`)];
  return Promise.all(names.map(async (name) => ({ name, data: await readFile(path.join(RUNTIME_SOURCE_DIR, ...name.split('/'))) })));
}

/** The zipapp's bytes. */
export async function runtimeZipapp(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const writer = new StoredZipWriter((data) => void chunks.push(data));
  for (const { name, data } of await zipappMembers()) {
    await writer.add({ name, data, time: MEMBER_TIME, madeBy: MADE_BY, needed: NEEDED, flags: 0, externalAttr: MEMBER_ATTR });
  }
  await writer.finish();
  return Buffer.concat(chunks);
}

let built: Promise<Buffer> | undefined;

/** The zipapp's bytes, made once per process: its sources do not change while reqset runs, and every wheel package's check writes it. */
export function runtimeZipappOnce(): Promise<Buffer> {
  built ??= runtimeZipapp();
  return built;
}

/** Writes the zipapp to `file` (mode 0644: scriptlets run it with their python) and returns `file`. */
export async function writeRuntimeZipapp(file: string): Promise<string> {
  await writeFile(file, await runtimeZipappOnce());
  // Whatever the umask: the mode is part of the package's bytes.
  await chmod(file, 0o644);
  return file;
}
