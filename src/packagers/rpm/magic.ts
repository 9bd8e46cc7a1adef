/**
 * The libmagic database rpmbuild classifies files with. rpmbuild runs every
 * file of a package through libmagic (rpmfcClassify) and the system database
 * tries thousands of patterns on each: 13 of the 18 s rpmbuild took for a
 * wheel of 20,000 small modules. The only dependency generator reqset's specs
 * leave on is ELF's (`%__elf_magic` in elf.attr: `ELF (32|64)-bit`), and file
 * colors come from the same words, so a database that names ELF files is all
 * the dependencies need. libmagic reads the database named by `MAGIC` when
 * rpm loads its default. What changes is only the FILECLASS tag of other
 * files: libmagic's built-in text/data class instead of the full description.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** libmagic's source format: offset, type, test, message; `>` continues the line above (e_type per byte order). */
export const ELF_ONLY_MAGIC = [
  '0\tstring\t\\177ELF\tELF',
  '>4\tbyte\t1\t32-bit',
  '>4\tbyte\t2\t64-bit',
  '>5\tbyte\t1\tLSB',
  '>>16\tleshort\t1\trelocatable',
  '>>16\tleshort\t2\texecutable',
  '>>16\tleshort\t3\tshared object',
  '>5\tbyte\t2\tMSB',
  '>>16\tbeshort\t1\trelocatable',
  '>>16\tbeshort\t2\texecutable',
  '>>16\tbeshort\t3\tshared object',
  '',
].join('\n');

/** Writes the database into a package's scratch directory; returns rpmbuild's environment entry for it. */
export async function elfOnlyMagic(workDir: string): Promise<{ MAGIC: string }> {
  const file = path.join(workDir, 'reqset.magic');
  await writeFile(file, ELF_ONLY_MAGIC);
  return { MAGIC: file };
}
