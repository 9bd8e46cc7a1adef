/**
 * The runtime helper as the targets get it: one zipapp (`python3
 * reqset_runtime.pyz COMMAND ...`) of `__main__.py` and the `reqset_runtime`
 * package beside this file. Stored members in a fixed order with a fixed time
 * and mode, so the same sources give the same bytes on every build and
 * whatever zlib is at hand.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CENTRAL_HEADER_SIGNATURE,
  CENTRAL_HEADER_SIZE,
  END_SIGNATURE,
  END_SIZE,
  LOCAL_HEADER_SIGNATURE,
  LOCAL_HEADER_SIZE,
  METHOD_STORED,
  crc32,
  dosDate,
  dosTime,
  type DosTime,
} from '../wheels/zip.ts';

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

/** A local header and the central-directory entry of one stored member at `offset`. */
function memberHeaders(name: Buffer, data: Buffer, offset: number): { local: Buffer; central: Buffer } {
  const crc = crc32(data);
  const local = Buffer.alloc(LOCAL_HEADER_SIZE);
  local.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
  local.writeUInt16LE(NEEDED, 4);
  local.writeUInt16LE(METHOD_STORED, 8);
  local.writeUInt16LE(dosTime(MEMBER_TIME), 10);
  local.writeUInt16LE(dosDate(MEMBER_TIME), 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(CENTRAL_HEADER_SIZE);
  central.writeUInt32LE(CENTRAL_HEADER_SIGNATURE, 0);
  central.writeUInt16LE(MADE_BY, 4);
  central.writeUInt16LE(NEEDED, 6);
  central.writeUInt16LE(METHOD_STORED, 10);
  central.writeUInt16LE(dosTime(MEMBER_TIME), 12);
  central.writeUInt16LE(dosDate(MEMBER_TIME), 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(MEMBER_ATTR, 38);
  central.writeUInt32LE(offset, 42);
  return { local, central: Buffer.concat([central, name]) };
}

/** The zipapp's bytes. */
export async function runtimeZipapp(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const members = await zipappMembers();
  for (const { name, data } of members) {
    const nameBytes = Buffer.from(name, 'ascii');
    const headers = memberHeaders(nameBytes, data, offset);
    chunks.push(headers.local, nameBytes, data);
    central.push(headers.central);
    offset += headers.local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(END_SIZE);
  end.writeUInt32LE(END_SIGNATURE, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, directory, end]);
}

/** Writes the zipapp to `file` (mode 0644: scriptlets run it with their python) and returns `file`. */
export async function writeRuntimeZipapp(file: string): Promise<string> {
  await writeFile(file, await runtimeZipapp(), { mode: 0o644 });
  return file;
}
