/**
 * ELF files as packagers see them: which files of a tree are linked
 * executables or shared objects (what rpm's and dpkg's shared-library
 * dependency tools look at). Format-neutral; each format's tools read them
 * (for .deb, our own reader, elf-dynamic.ts).
 */
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ET_DYN, ET_EXEC } from './elf-dynamic.ts';

/** Whether a file is an ELF executable or shared object (not a relocatable object or core file). */
export async function isLinkedElf(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(18);
    const { bytesRead } = await handle.read(header, 0, 18, 0);
    if (bytesRead < 18 || header.readUInt32BE(0) !== 0x7f454c46) return false;
    const data = header[5];
    if (data !== 1 && data !== 2) return false;
    const type = data === 1 ? header.readUInt16LE(16) : header.readUInt16BE(16);
    return type === ET_EXEC || type === ET_DYN;
  } finally {
    await handle.close();
  }
}

/** The linked ELF files of a tree, relative to it, sorted (regular files only; links are not followed). */
export async function linkedElfFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (await isLinkedElf(file)) found.push(path.relative(dir, file));
  }
  return found.sort();
}
