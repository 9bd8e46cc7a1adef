/**
 * The ELF reader against binutils' readelf (`--dyn-syms -V -d -W`) on real
 * files: host libraries and an executable, and the compiled extensions and
 * bundled libraries of the corpus's numpy and PyYAML wheels (RUNPATH
 * `$ORIGIN/...`, versioned Fortran/BLAS symbols). Same NEEDED (in order),
 * SONAME, RUNPATH/RPATH, and the same undefined dynamic symbols, each with
 * its required version and weakness.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { elfAbi, readElfDynamic, UnsupportedElf } from '../../src/packagers/elf-dynamic.ts';
import { run } from '../../src/run.ts';
import { extractWheel } from '../../src/wheels/extract.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { corpusWheel } from '../helpers/env.ts';

interface ReadelfFacts {
  needed: string[];
  soname?: string;
  rpath: string[];
  undefinedSymbols: string[];
}

/** What readelf says, in the reader's terms (symbols as `name@version[ weak]`, sorted). */
async function readelf(file: string): Promise<ReadelfFacts> {
  const { stdout } = await run(['readelf', '--dyn-syms', '-V', '-d', '-W', file], { env: { LC_ALL: 'C' } });
  const facts: ReadelfFacts = { needed: [], rpath: [], undefinedSymbols: [] };
  let rpath: string | undefined;
  let runpath: string | undefined;
  let inSymbols = false;
  for (const line of stdout.split('\n')) {
    const dynamic = /\((NEEDED|SONAME|RPATH|RUNPATH)\)\s+.*?\[(.*)\]\s*$/.exec(line);
    if (dynamic) {
      const value = dynamic[2] as string;
      if (dynamic[1] === 'NEEDED') facts.needed.push(value);
      else if (dynamic[1] === 'SONAME') facts.soname = value;
      else if (dynamic[1] === 'RPATH') rpath = value;
      else runpath = value;
      continue;
    }
    if (/^Symbol table '\.dynsym'/.test(line)) inSymbols = true;
    else if (/^\S/.test(line)) inSymbols = false;
    const symbol = inSymbols ? /^\s*\d+: [0-9a-f]+\s+\S+\s+\S+\s+(\S+)\s+\S+\s+UND\s+(\S.*?)\s*$/.exec(line) : null;
    if (!symbol) continue;
    const [name, version] = (symbol[2] as string).replace(/ \(\d+\)$/, '').split('@');
    facts.undefinedSymbols.push(`${name}@${version ?? ''}${symbol[1] === 'WEAK' ? ' weak' : ''}`);
  }
  const paths = runpath ?? rpath;
  if (paths !== undefined) facts.rpath = paths.split(':');
  facts.undefinedSymbols.sort();
  return facts;
}

async function ours(file: string): Promise<ReadelfFacts> {
  const elf = await readElfDynamic(file, { symbols: true });
  return {
    needed: elf.needed,
    ...(elf.soname !== undefined ? { soname: elf.soname } : {}),
    rpath: elf.rpath,
    undefinedSymbols: elf.undefinedSymbols.map((s) => `${s.name}@${s.version ?? ''}${s.weak ? ' weak' : ''}`).sort(),
  };
}

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'reqset-elf-reader-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The linked ELF files of a corpus wheel, unpacked. */
async function corpusElfFiles(prefix: string): Promise<string[]> {
  const dir = path.join(tmp, prefix);
  const source = await openWheel(corpusWheel(prefix));
  try {
    await extractWheel(source, dir);
  } finally {
    await source.close();
  }
  const files = (await readdir(dir, { recursive: true })).filter((f) => /\.so(\.|$)/.test(f)).map((f) => path.join(dir, f));
  assert.ok(files.length > 0, `${prefix} has shared objects`);
  return files.sort();
}

describe('ELF reader, against readelf', () => {
  for (const file of ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libz.so.1', '/usr/bin/ls', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6']) {
    it(`host file ${file}`, async () => {
      const expected = await readelf(file);
      assert.ok(expected.undefinedSymbols.length > 0, 'the file has undefined symbols to compare');
      assert.deepEqual(await ours(file), expected);
    });
  }

  for (const prefix of ['numpy-2.4.6-', 'PyYAML-6.0.3-']) {
    it(`every shared object of the corpus wheel ${prefix.slice(0, -1)}`, async () => {
      const files = await corpusElfFiles(prefix);
      let withRunpath = 0;
      for (const file of files) {
        const expected = await readelf(file);
        if (expected.rpath.length) withRunpath++;
        assert.deepEqual(await ours(file), expected, file);
      }
      if (prefix.startsWith('numpy')) assert.ok(withRunpath > 0, 'numpy has $ORIGIN RUNPATHs');
    });
  }

  it('weak undefined symbols are marked weak', async () => {
    const elf = await readElfDynamic('/lib/x86_64-linux-gnu/libz.so.1', { symbols: true });
    assert.ok(elf.undefinedSymbols.some((s) => s.name === '_ITM_deregisterTMCloneTable' && s.weak && s.version === undefined));
    assert.ok(elf.undefinedSymbols.some((s) => s.name === 'free' && !s.weak && s.version === 'GLIBC_2.2.5'));
  });

  it("gives dpkg's ABI key, the same for a library and the executable using it", async () => {
    const header = async (file: string) => (await readFile(file)).subarray(0, 64);
    const libc = elfAbi(await header('/lib/x86_64-linux-gnu/libc.so.6'));
    assert.equal(libc, '2/1/62/0', 'ELF64, little-endian, x86-64, no ABI flags');
    assert.equal(elfAbi(await header('/usr/bin/ls')), libc);
    assert.equal(elfAbi(Buffer.from('#!/bin/sh\n'.padEnd(64, ' '))), undefined);
  });

  it('refuses what it cannot read as objdump does, rather than guessing', async () => {
    const file = path.join(tmp, 'truncated.so');
    // The header promises section headers past the end of the file.
    await writeFile(file, (await readFile('/lib/x86_64-linux-gnu/libz.so.1')).subarray(0, 64));
    await assert.rejects(readElfDynamic(file), UnsupportedElf);
  });
});
