import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { run } from '../../src/run.ts';
import { decodeRecordHash } from '../../src/wheels/metadata.ts';
import { extractWheel } from '../../src/wheels/extract.ts';
import { openWheel, type WheelSource } from '../../src/wheels/source.ts';
import { FAKE_ROOT } from '../../src/wheels/validate/members.ts';
import { formatZipInfo, ZIPINFO_FILE, type ZipInfo } from '../../src/wheels/zipinfo.ts';
import { buildWheel, findLocalHeader, makeWheel, recordHash, writeZip, type WheelSpec } from '../helpers/make-wheel.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus/wheels');

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'reqset-wheel-source-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let counter = 0;
/** A fresh directory under the test's temporary directory. */
const fresh = (label: string) => path.join(tmp, `${++counter}-${label}`);

const BASE: WheelSpec = {
  name: 'demo',
  version: '1.0',
  files: {
    'demo/__init__.py': 'print("hello")\n',
    'demo/data.bin': Buffer.from([0, 1, 2, 3, 255, 254]),
  },
};

/** Open a wheel that must be refused; its InputError must name the file and, in one problem, the member. */
async function assertRejected(file: string, member: string | undefined, pattern: RegExp): Promise<InputError> {
  let caught: unknown;
  try {
    const w = await openWheel(file);
    await w.close();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`);
  assert.ok(caught.message.includes(file), `the message must name the wheel file: ${caught.message}`);
  const quoted = member === undefined ? undefined : JSON.stringify(member);
  const hit = caught.problems.find((p) => pattern.test(p) && (quoted === undefined || p.includes(quoted)));
  assert.ok(hit, `no problem matches ${pattern}${quoted ? ` naming ${quoted}` : ''}:\n${caught.message}`);
  return caught;
}

async function withWheel<T>(file: string, fn: (w: WheelSource) => Promise<T>): Promise<T> {
  const w = await openWheel(file);
  try {
    return await fn(w);
  } finally {
    await w.close();
  }
}

async function walk(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${entry.name}` : entry.name;
    out.push(entry.isDirectory() ? `${p}/` : p);
    if (entry.isDirectory()) out.push(...(await walk(root, p)));
  }
  return out.sort();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('openWheel: valid wheels', () => {
  it('opens a crafted wheel and parses its metadata', async () => {
    const file = await makeWheel(fresh('valid'), {
      ...BASE,
      metadata: { Summary: 'A demo', 'Requires-Python': '>=3.8', 'Requires-Dist': ['idna>=2', 'pysocks; extra == "socks"'], 'Provides-Extra': 'socks' },
      entryPoints: '[console_scripts]\ndemo = demo:main\n',
    });
    await withWheel(file, async (w) => {
      assert.equal(w.filename, 'demo-1.0-py3-none-any.whl');
      assert.equal(w.distInfo, 'demo-1.0.dist-info');
      assert.equal(w.metadata.name, 'demo');
      assert.equal(w.metadata.version, '1.0');
      assert.equal(w.metadata.summary, 'A demo');
      assert.equal(w.metadata.requiresPython, '>=3.8');
      assert.deepEqual(w.metadata.requiresDist, ['idna>=2', 'pysocks; extra == "socks"']);
      assert.deepEqual(w.metadata.providesExtra, ['socks']);
      assert.equal(w.wheel.rootIsPurelib, true);
      assert.deepEqual(w.wheel.tags, ['py3-none-any']);
      assert.deepEqual(w.entryPoints.console_scripts, { demo: 'demo:main' });
      assert.deepEqual(
        w.members.map((m) => m.name),
        [
          'demo/__init__.py',
          'demo/data.bin',
          'demo-1.0.dist-info/METADATA',
          'demo-1.0.dist-info/WHEEL',
          'demo-1.0.dist-info/entry_points.txt',
          'demo-1.0.dist-info/RECORD',
        ],
      );
      const bytes = await readFile(file);
      assert.equal(w.sha256, sha256(bytes));
      assert.equal(w.size, bytes.length);
      assert.deepEqual(await w.read('demo/data.bin'), Buffer.from([0, 1, 2, 3, 255, 254]));
      assert.equal(w.members[0]?.sha256, sha256(Buffer.from('print("hello")\n')));
      assert.equal(w.members[0]?.recordHash, recordHash(Buffer.from('print("hello")\n')));
      await assert.rejects(w.read('nope.py'), /no file member/);
    });
  });

  it('opens wheels with a build tag, data descriptors, stored members and non-ASCII names', async () => {
    const file = await makeWheel(fresh('variants'), {
      name: 'Odd.Name',
      version: '2.0.post1',
      build: '3',
      tags: ['py2-none-any', 'py3-none-any'],
      files: { 'odd/ünï.py': 'x = 1\n', 'odd/stored.txt': 'stored', 'odd/dd.txt': 'with a data descriptor' },
      memberOptions: { 'odd/stored.txt': { method: 0 }, 'odd/dd.txt': { dataDescriptor: true } },
      extraMembers: [{ name: 'odd/' }, { name: 'Odd_Name-2.0.post1.data/scripts/tool', data: '#!python\n', mode: 0o100755 }],
    });
    await withWheel(file, async (w) => {
      assert.equal(w.metadata.name, 'Odd.Name');
      assert.equal(w.parsedFilename.build, '3');
      assert.equal(w.filename, 'Odd_Name-2.0.post1-3-py2.py3-none-any.whl');
      assert.deepEqual(w.wheel.tags, ['py2-none-any', 'py3-none-any']);
      assert.equal(await w.read('odd/dd.txt').then(String), 'with a data descriptor');
      assert.equal(w.members.find((m) => m.name === 'odd/ünï.py')?.flags, 0x800);
      assert.equal(w.members.find((m) => m.name === 'odd/')?.isDirectory, true);
    });
  });

  it('accepts sha384 and sha512 RECORD hashes', async () => {
    const file = await makeWheel(fresh('sha512'), {
      ...BASE,
      record: (rows) =>
        rows.map(([p, h, s]) =>
          p === 'demo/__init__.py' ? [p, recordHash(Buffer.from('print("hello")\n'), 'sha512'), s] : p === 'demo/data.bin' ? [p, recordHash(Buffer.from([0, 1, 2, 3, 255, 254]), 'sha384'), s] : [p, h, s],
        ),
    });
    await withWheel(file, async (w) => assert.match(w.members[0]?.recordHash ?? '', /^sha512=/));
  });
});

describe('extractTo', () => {
  it('writes the exact bytes, normalized modes, fixed mtimes and the zipinfo file', async () => {
    const exe = '#!/bin/sh\necho hi\n';
    const file = await makeWheel(fresh('extract'), {
      ...BASE,
      files: { ...BASE.files, 'demo/run.sh': exe, 'demo/sub/deep/file.txt': 'deep' },
      extraMembers: [{ name: 'demo/empty/' }],
      memberOptions: {
        'demo/run.sh': { mode: 0o100700, time: [2021, 5, 6, 7, 8, 10], comment: Buffer.from('hi') },
        'demo/__init__.py': { mode: 0o100600, extra: Buffer.from('feca0200abcd', 'hex'), localExtra: Buffer.from('feca0000', 'hex') },
        'demo/data.bin': { madeBy: 0x0014, attr: 0x20 }, // made by MS-DOS: no Unix mode
      },
      zipOptions: { comment: Buffer.from('archive comment') },
    });
    const dest = path.join(fresh('out'), 'demo-1.0-py3-none-any');
    const mtime = new Date('2011-02-03T04:05:06Z');
    await withWheel(file, async (w) => {
      await extractWheel(w, dest, { mtime });
      assert.deepEqual(await walk(dest), [
        ZIPINFO_FILE,
        'demo-1.0.dist-info/',
        'demo-1.0.dist-info/METADATA',
        'demo-1.0.dist-info/RECORD',
        'demo-1.0.dist-info/WHEEL',
        'demo/',
        'demo/__init__.py',
        'demo/data.bin',
        'demo/empty/',
        'demo/run.sh',
        'demo/sub/',
        'demo/sub/deep/',
        'demo/sub/deep/file.txt',
      ]);
      for (const m of w.members) {
        const st = await lstat(path.join(dest, m.name));
        assert.equal(st.mtime.getTime(), mtime.getTime(), m.name);
        if (m.isDirectory) continue;
        assert.ok(st.isFile());
        assert.deepEqual(await readFile(path.join(dest, m.name)), await w.read(m.name), m.name);
      }
      const mode = async (p: string) => (await stat(path.join(dest, p))).mode & 0o7777;
      assert.equal(await mode('demo/run.sh'), 0o755);
      assert.equal(await mode('demo/__init__.py'), 0o644);
      assert.equal(await mode('demo/data.bin'), 0o644);
      assert.equal(await mode('demo/sub/deep'), 0o755);
      assert.equal(await mode('.'), 0o755);
      assert.equal(await mode(ZIPINFO_FILE), 0o644);
      assert.equal((await stat(dest)).mtime.getTime(), mtime.getTime());

      const text = await readFile(path.join(dest, ZIPINFO_FILE), 'utf8');
      assert.equal(text, formatZipInfo(w.zipInfo));
      const info = JSON.parse(text) as ZipInfo;
      assert.equal(info.format, 1);
      assert.equal(info.filename, 'demo-1.0-py3-none-any.whl');
      assert.equal(info.sha256, sha256(await readFile(file)));
      assert.equal(info.size, (await stat(file)).size);
      assert.equal(info.comment, Buffer.from('archive comment').toString('hex'));
      assert.deepEqual(
        info.members.map((m) => m.name),
        w.members.map((m) => m.name),
      );
      const run = info.members.find((m) => m.name === 'demo/run.sh');
      assert.deepEqual(run, {
        name: 'demo/run.sh',
        method: 8,
        time: [2021, 5, 6, 7, 8, 10],
        madeBy: 788,
        needed: 20,
        flags: 0,
        attr: (0o100700 << 16) >>> 0,
        internalAttr: 0,
        extra: '',
        localExtra: '',
        comment: Buffer.from('hi').toString('hex'),
      });
      const init = info.members.find((m) => m.name === 'demo/__init__.py');
      assert.equal(init?.extra, 'feca0200abcd');
      assert.equal(init?.localExtra, 'feca0000');
      assert.equal(info.members.find((m) => m.name === 'demo/empty/')?.method, 0);
    });
  });

  it('uses SOURCE_DATE_EPOCH, else 1980-01-01, and is deterministic', async () => {
    const file = await makeWheel(fresh('sde'), BASE);
    const saved = process.env.SOURCE_DATE_EPOCH;
    try {
      await withWheel(file, async (w) => {
        delete process.env.SOURCE_DATE_EPOCH;
        const a = fresh('a');
        await extractWheel(w, a);
        assert.equal((await stat(path.join(a, 'demo/__init__.py'))).mtime.toISOString(), '1980-01-01T00:00:00.000Z');
        process.env.SOURCE_DATE_EPOCH = '1600000000';
        const b = fresh('b');
        await extractWheel(w, b);
        assert.equal((await stat(path.join(b, 'demo/__init__.py'))).mtime.getTime(), 1600000000 * 1000);
        assert.equal((await stat(path.join(b, 'demo'))).mtime.getTime(), 1600000000 * 1000);
        for (const p of await walk(a)) {
          if (p.endsWith('/')) continue;
          assert.deepEqual(await readFile(path.join(a, p)), await readFile(path.join(b, p)));
        }
      });
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = saved;
    }
  });

  it('extracts into an existing empty directory but refuses a non-empty one', async () => {
    const file = await makeWheel(fresh('dirs'), BASE);
    await withWheel(file, async (w) => {
      const empty = fresh('empty');
      await mkdir(empty);
      await extractWheel(w, empty);
      assert.ok(existsSync(path.join(empty, 'demo/__init__.py')));
      const full = fresh('full');
      await mkdir(full);
      await writeFile(path.join(full, 'keep.txt'), 'mine');
      await assert.rejects(extractWheel(w, full), (e: unknown) => e instanceof InputError && /not empty/.test(e.message));
      assert.deepEqual(await readdir(full), ['keep.txt']);
    });
  });

  it('refuses to work after close', async () => {
    const file = await makeWheel(fresh('closed'), BASE);
    const w = await openWheel(file);
    await w.close();
    await w.close();
    await assert.rejects(w.read('demo/__init__.py'), /closed/);
    await assert.rejects(extractWheel(w, fresh('never')), /closed/);
  });

  it('notices a wheel modified on disk after it was opened and leaves nothing behind', async () => {
    const dir = fresh('modified');
    const { filename, buffer } = buildWheel({ ...BASE, files: { 'demo/a.txt': 'A'.repeat(100) }, memberOptions: { 'demo/a.txt': { method: 0 } } });
    const file = path.join(dir, filename);
    await mkdir(dir);
    await writeFile(file, buffer);
    await withWheel(file, async (w) => {
      const patched = Buffer.from(buffer);
      const at = patched.indexOf('A'.repeat(100));
      patched[at] = 'B'.charCodeAt(0);
      await writeFile(file, patched); // same inode, same size: the open descriptor sees the change
      const dest = fresh('dest');
      await assert.rejects(extractWheel(w, dest), (e: unknown) => e instanceof InputError && /changed since it was opened/.test(e.message) && /demo\/a\.txt/.test(e.message));
      assert.equal(existsSync(dest), false);
    });
  });
});

describe('openWheel: rejected wheels name the member', () => {
  const rejectError = async (label: string, spec: WheelSpec, member: string | undefined, pattern: RegExp) =>
    assertRejected(await makeWheel(fresh(label), spec), member, pattern);
  const reject = async (label: string, spec: WheelSpec, member: string | undefined, pattern: RegExp): Promise<void> => {
    await rejectError(label, spec, member, pattern);
  };
  const extra = (name: string, data = 'x', more: Record<string, unknown> = {}): WheelSpec => ({ ...BASE, extraMembers: [{ name, data, ...more }] });

  it('../evil', () => reject('dotdot', extra('../evil'), '../evil', /"\.\." segment/));
  it('/etc/passwd', () => reject('absolute', extra('/etc/passwd'), '/etc/passwd', /absolute path/));
  it('pkg/../../x', () => reject('nested-dotdot', extra('pkg/../../x'), 'pkg/../../x', /"\.\." segment/));
  it('a sibling-prefix escape', async () => {
    const name = `../${path.posix.basename(FAKE_ROOT)}-evil/pwned`;
    await reject('sibling', extra(name), name, /resolves outside/);
  });
  it('a Windows drive path and backslashes', async () => {
    await reject('drive', extra('C:/Windows/evil.dll'), 'C:/Windows/evil.dll', /drive letter/);
    await reject('backslash', extra('demo\\..\\..\\evil'), 'demo\\..\\..\\evil', /backslash/);
  });
  it('a NUL byte in a name', () => reject('nul', extra('demo/a\0.py'), 'demo/a\0.py', /NUL/));
  it('a symlink member', () => reject('symlink', extra('demo/link', '/etc/passwd', { mode: 0o120777 }), 'demo/link', /symbolic link/));
  it('a device file', () => reject('device', extra('demo/dev', '', { mode: 0o020644 }), 'demo/dev', /character device/));
  it('an unknown .data directory key', async () => {
    const spec: WheelSpec = {
      name: 'x',
      version: '1.0',
      files: { 'x/__init__.py': '' },
      extraMembers: [{ name: 'x-1.0.data/evil/' }, { name: 'x-1.0.data/evil/payload', data: 'p' }],
    };
    await reject('data-key', spec, 'x-1.0.data/evil/', /unknown \.data directory/);
  });
  it('a .data directory of another distribution', () =>
    reject('data-other', extra('other-2.0.data/purelib/o.py'), 'other-2.0.data/purelib/o.py', /does not belong/));
  it('a file missing from RECORD', () =>
    reject('unrecorded', { ...BASE, extraMembers: [{ name: 'demo/sneaky.py', data: 'import os', unrecorded: true }] }, 'demo/sneaky.py', /not listed in RECORD/));
  it('a RECORD row for a file that is not in the wheel', () =>
    reject('ghost', { ...BASE, record: (rows) => [['demo/ghost.py', recordHash(Buffer.from('')), '0'], ...rows] }, undefined, /RECORD lists "demo\/ghost\.py", which is not in the wheel/));
  it('a RECORD hash mismatch', () =>
    reject('hash', { ...BASE, record: (rows) => rows.map(([p, h, s]) => (p === 'demo/__init__.py' ? [p, recordHash(Buffer.from('other')), s] : [p, h, s])) }, 'demo/__init__.py', /RECORD hash mismatch/));
  for (const algorithm of ['md5', 'sha1']) {
    it(`a ${algorithm} hash in RECORD`, () =>
      reject(algorithm, { ...BASE, record: (rows) => rows.map(([p, h, s]) => (p === 'demo/data.bin' ? [p, recordHash(Buffer.from([0, 1, 2, 3, 255, 254]), algorithm), s] : [p, h, s])) }, 'demo/data.bin', /too weak/));
  }
  it('a file without a hash in RECORD', () =>
    reject('nohash', { ...BASE, record: (rows) => rows.map(([p, h, s]) => (p === 'demo/data.bin' ? [p, '', s] : [p, h, s])) }, 'demo/data.bin', /no hash in RECORD/));
  it('a RECORD size mismatch', () =>
    reject('size', { ...BASE, record: (rows) => rows.map(([p, h, s]) => (p === 'demo/data.bin' ? [p, h, '7'] : [p, h, s])) }, 'demo/data.bin', /RECORD size 7 does not match the member's size 6/));
  it('a file listed twice in RECORD', () =>
    reject('record-dup', { ...BASE, record: (rows) => [...rows, rows[0] as [string, string, string]] }, 'demo/__init__.py', /listed more than once in RECORD/));
  it('a malformed RECORD', () =>
    reject('record-bad', { ...BASE, record: (rows) => [...rows, ['only-two', 'fields', 'x']] }, 'demo-1.0.dist-info/RECORD', /not a non-negative integer/));
  it('duplicate member names', async () => {
    const spec: WheelSpec = {
      ...BASE,
      tamper: (members) => [...members, { name: 'demo/__init__.py', data: 'import os; os.system("evil")\n' }],
    };
    await reject('duplicate', spec, 'demo/__init__.py', /duplicate name/);
  });
  it('a file that is also used as a directory', () =>
    reject('file-dir', extra('demo/__init__.py/x.py'), 'demo/__init__.py', /is a file, but member "demo\/__init__\.py\/x\.py" needs it to be a directory/));
  it('a local header whose name differs from the central directory (patched bytes)', async () => {
    const { filename, buffer } = buildWheel(BASE);
    const at = findLocalHeader(buffer, 'demo/__init__.py');
    buffer.write('x', at + 30 + 'demo/'.length, 'latin1'); // demo/__init__.py -> demo/x_init__.py, local header only
    const dir = fresh('local-name');
    await mkdir(dir);
    await writeFile(path.join(dir, filename), buffer);
    await assertRejected(path.join(dir, filename), 'demo/__init__.py', /local header names it "demo\/x_init__\.py"/);
  });
  it('a local header whose compression method differs (patched bytes)', async () => {
    const { filename, buffer } = buildWheel(BASE);
    const at = findLocalHeader(buffer, 'demo/data.bin');
    assert.equal(buffer.readUInt16LE(at + 8), 8);
    buffer.writeUInt16LE(0, at + 8);
    const dir = fresh('local-method');
    await mkdir(dir);
    await writeFile(path.join(dir, filename), buffer);
    await assertRejected(path.join(dir, filename), 'demo/data.bin', /local header says compression method 0, the central directory 8/);
  });
  it('a local header whose CRC and sizes differ', () =>
    reject('local-crc', { ...BASE, memberOptions: { 'demo/data.bin': { local: { crc: 1234, compressedSize: 3 } } } }, 'demo/data.bin', /CRC-32 0x000004d2.*compressed size 3/));
  it('corrupt data (CRC mismatch)', () =>
    reject('crc', { ...BASE, memberOptions: { 'demo/data.bin': { crc: 42 } } }, 'demo/data.bin', /CRC-32 mismatch/));
  it('an encrypted member', () => reject('encrypted', { ...BASE, memberOptions: { 'demo/data.bin': { flags: 1 } } }, 'demo/data.bin', /encrypted/));
  it('an unsupported compression method', () =>
    reject('bzip2', { ...BASE, memberOptions: { 'demo/data.bin': { method: 12 } } }, 'demo/data.bin', /compression method 12/));
  it('a non-ASCII name without the UTF-8 flag', () =>
    reject('cp437', { ...BASE, extraMembers: [{ name: Buffer.from('demo/caf\x82.py', 'latin1'), data: '', rawFlags: true }] }, 'demo/caf\x82.py', /UTF-8 flag/));
  it('a member that decompresses to more than it declares (zip bomb)', async () => {
    const { filename, buffer } = buildWheel({ ...BASE, files: { 'demo/bomb.txt': 'z'.repeat(100000) } });
    // shrink the declared size (central directory and local header) to 10 bytes
    const at = findLocalHeader(buffer, 'demo/bomb.txt');
    buffer.writeUInt32LE(10, at + 22);
    const cd = buffer.indexOf(Buffer.concat([Buffer.from('504b0102', 'hex')]), at);
    let p = cd;
    while (buffer.readUInt32LE(p) === 0x02014b50) {
      const n = buffer.readUInt16LE(p + 28);
      if (buffer.subarray(p + 46, p + 46 + n).toString() === 'demo/bomb.txt') buffer.writeUInt32LE(10, p + 24);
      p += 46 + n + buffer.readUInt16LE(p + 30) + buffer.readUInt16LE(p + 32);
    }
    const dir = fresh('bomb');
    await mkdir(dir);
    await writeFile(path.join(dir, filename), buffer);
    await assertRejected(path.join(dir, filename), 'demo/bomb.txt', /more than the 10 bytes/);
  });
  it('overlapping entries', async () => {
    // two central directory records that point at the same local header
    const members = buildWheel(BASE).members;
    const good = writeZip(members);
    // rebuild with a central directory entry duplicated under another name: patch its offset to the first one
    const first = members[0];
    assert.ok(first);
    const dup = writeZip([...members, { ...first, name: 'demo/__init__.py' }]);
    assert.ok(dup.length > good.length);
    const p = dup.length - 22 - 46 - 'demo/__init__.py'.length;
    assert.equal(dup.readUInt32LE(p), 0x02014b50);
    dup.writeUInt32LE(0, p + 42); // same local header as member 0
    const dir = fresh('overlap');
    await mkdir(dir);
    await writeFile(path.join(dir, 'demo-1.0-py3-none-any.whl'), dup);
    const error = await assertRejected(path.join(dir, 'demo-1.0-py3-none-any.whl'), 'demo/__init__.py', /duplicate name/);
    assert.ok(error.problems.some((x) => /overlaps the data of member "demo\/__init__\.py"/.test(x)), error.message);
  });
  it('not a zip file', async () => {
    const dir = fresh('notzip');
    await mkdir(dir);
    const file = path.join(dir, 'demo-1.0-py3-none-any.whl');
    await writeFile(file, 'this is not a zip archive\n');
    await assertRejected(file, undefined, /not a zip archive/);
  });
  it('an empty file and a missing file', async () => {
    const dir = fresh('empty-file');
    await mkdir(dir);
    const file = path.join(dir, 'demo-1.0-py3-none-any.whl');
    await writeFile(file, '');
    await assertRejected(file, undefined, /not a zip archive/);
    await assert.rejects(openWheel(path.join(dir, 'absent-1.0-py3-none-any.whl')), (e: unknown) => e instanceof InputError && /no such file/.test(e.message));
  });
  it('a missing METADATA', () => reject('no-metadata', { ...BASE, omit: ['METADATA'] }, undefined, /has no demo-1\.0\.dist-info\/METADATA/));
  it('a missing WHEEL and RECORD', async () => {
    const error = await rejectError('no-wheel', { ...BASE, omit: ['WHEEL', 'RECORD'] }, undefined, /has no demo-1\.0\.dist-info\/WHEEL/);
    assert.ok(error.problems.some((p) => /has no demo-1\.0\.dist-info\/RECORD/.test(p)));
  });
  it('no .dist-info directory, or two', async () => {
    await reject('no-dist-info', { ...BASE, distInfo: 'demo-1.0.info' }, undefined, /no top-level \*\.dist-info/);
    await reject('two-dist-info', extra('other-1.0.dist-info/METADATA', 'Name: other\n'), undefined, /2 \.dist-info directories/);
  });
  it('a .dist-info directory that does not match the file name', () =>
    reject('mismatch', { ...BASE, distInfo: 'other-1.0.dist-info' }, undefined, /"other-1\.0\.dist-info" does not match the file name/));
  it('METADATA that does not match the file name', () =>
    reject('meta-mismatch', { ...BASE, metadataText: 'Metadata-Version: 2.1\nName: demo\nVersion: 9.9\n' }, 'demo-1.0.dist-info/METADATA', /Version "9\.9" does not match/));
  it('a bad file name', () => reject('filename', { ...BASE, filename: 'demo-1.0.whl' }, undefined, /not a valid wheel file name|dash-separated/));
  it('an unsafe console script name', () =>
    reject('script', { ...BASE, entryPoints: '[console_scripts]\n../../usr/bin/evil = demo:main\n' }, 'demo-1.0.dist-info/entry_points.txt', /not a safe command name/));
  it('a member that collides with the zipinfo file', () => reject('reserved', extra(ZIPINFO_FILE, '{}'), ZIPINFO_FILE, /collides/));
  it('reports every problem of a wheel at once', async () => {
    const spec: WheelSpec = {
      ...BASE,
      extraMembers: [
        { name: '../evil', data: 'x' },
        { name: 'demo/link', data: '/etc/passwd', mode: 0o120777 },
        { name: 'demo/sneaky.py', data: 'x', unrecorded: true },
      ],
      record: (rows) => rows.map(([p, h, s]) => (p === 'demo/data.bin' ? [p, h, '99'] : [p, h, s])),
    };
    const error = await rejectError('many', spec, '../evil', /"\.\." segment/);
    for (const pattern of [/"demo\/link": is a symbolic link/, /"demo\/sneaky\.py": is not listed in RECORD/, /"demo\/data\.bin": RECORD size 99/]) {
      assert.ok(error.problems.some((p) => pattern.test(p)), `${pattern} missing from:\n${error.message}`);
    }
  });
});

describe('cross-check with Python zipfile', () => {
  const PY = String.raw`
import base64, hashlib, json, sys, zipfile
out = sys.argv[1]
def rec(data):
    return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
files = []
def add(zi, data):
    files.append((zi, data))
zi = zipfile.ZipInfo('pyz/', date_time=(2001, 2, 3, 4, 5, 6)); zi.external_attr = (0o40755 << 16) | 0x10
add(zi, b'')
zi = zipfile.ZipInfo('pyz/__init__.py', date_time=(2022, 12, 31, 23, 59, 58)); zi.compress_type = zipfile.ZIP_DEFLATED
zi.external_attr = 0o100644 << 16; zi.comment = b'a comment'; zi.extra = bytes.fromhex('feca0400deadbeef')
add(zi, b'VALUE = 1\n' * 50)
zi = zipfile.ZipInfo('pyz/tool.sh', date_time=(1999, 1, 1, 0, 0, 0)); zi.compress_type = zipfile.ZIP_STORED
zi.external_attr = 0o100755 << 16
add(zi, b'#!/bin/sh\n')
zi = zipfile.ZipInfo('pyz/d\u00e9j\u00e0.txt', date_time=(2010, 6, 7, 8, 9, 10)); zi.compress_type = zipfile.ZIP_DEFLATED
add(zi, 'd\u00e9j\u00e0 vu\n'.encode())
meta = b'Metadata-Version: 2.1\nName: pyz\nVersion: 0.1\n'
wheel = b'Wheel-Version: 1.0\nGenerator: python\nRoot-Is-Purelib: true\nTag: py3-none-any\n'
for name, data in (('pyz-0.1.dist-info/METADATA', meta), ('pyz-0.1.dist-info/WHEEL', wheel)):
    zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)); zi.compress_type = zipfile.ZIP_DEFLATED; zi.external_attr = 0o644 << 16
    add(zi, data)
record = ''.join('%s,%s,%d\n' % (zi.filename, rec(d), len(d)) for zi, d in files if not zi.filename.endswith('/'))
record += 'pyz-0.1.dist-info/RECORD,,\n'
zi = zipfile.ZipInfo('pyz-0.1.dist-info/RECORD', date_time=(1980, 1, 1, 0, 0, 0)); zi.compress_type = zipfile.ZIP_DEFLATED; zi.external_attr = 0o644 << 16
add(zi, record.encode())
with zipfile.ZipFile(out, 'w') as z:
    z.comment = b'made by python'
    for zi, data in files:
        z.writestr(zi, data)
`;
  const DUMP = String.raw`
import json, sys, zipfile, hashlib
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps({
        'comment': z.comment.hex(),
        'members': [{
            'name': i.filename, 'method': i.compress_type, 'time': list(i.date_time),
            'madeBy': (i.create_system << 8) | i.create_version, 'needed': i.extract_version,
            'flags': i.flag_bits, 'attr': i.external_attr, 'internalAttr': i.internal_attr, 'extra': i.extra.hex(), 'comment': i.comment.hex(),
            'sha256': '' if i.is_dir() else hashlib.sha256(z.read(i)).hexdigest(),
        } for i in z.infolist()],
    }))
`;
  type PyMember = ZipInfo['members'][number] & { sha256: string };
  async function pythonView(file: string): Promise<{ comment: string; members: PyMember[] }> {
    return JSON.parse((await run(['python3', '-c', DUMP, file])).stdout) as { comment: string; members: PyMember[] };
  }
  function compare(w: WheelSource, py: { comment: string; members: PyMember[] }) {
    assert.equal(w.zipInfo.comment, py.comment);
    assert.equal(w.zipInfo.members.length, py.members.length);
    w.zipInfo.members.forEach((m, i) => {
      const p = py.members[i] as PyMember;
      const { localExtra: _l, ...central } = m;
      const { sha256: digest, ...pyCentral } = p;
      assert.deepEqual(central, pyCentral, `member ${i} ${m.name}`);
      assert.equal(w.members[i]?.sha256, digest, m.name);
    });
  }

  it('reads a wheel written by Python exactly as Python does', async () => {
    const dir = fresh('python');
    await mkdir(dir);
    const file = path.join(dir, 'pyz-0.1-py3-none-any.whl');
    await run(['python3', '-c', PY, file]);
    const py = await pythonView(file);
    await withWheel(file, async (w) => {
      compare(w, py);
      assert.equal(w.zipInfo.members.find((m) => m.name === 'pyz/__init__.py')?.localExtra, 'feca0400deadbeef');
      const dest = fresh('python-out');
      await extractWheel(w, dest);
      for (const m of py.members) {
        if (m.name.endsWith('/')) continue;
        assert.equal(sha256(await readFile(path.join(dest, m.name))), m.sha256, m.name);
      }
      assert.equal((await stat(path.join(dest, 'pyz/tool.sh'))).mode & 0o777, 0o755);
    });
  });

  it('accepts what Python reads from our own crafted wheels', async () => {
    const file = await makeWheel(fresh('ours'), { ...BASE, memberOptions: { 'demo/data.bin': { time: [2030, 12, 31, 23, 59, 58], comment: Buffer.from('c') } } });
    const py = await pythonView(file);
    await withWheel(file, async (w) => compare(w, py));
  });
});

describe('the wheel corpus', () => {
  const present = existsSync(CORPUS);
  const skip = present ? false : `wheel corpus not found at ${CORPUS}`;

  it('opens and validates every corpus wheel', { skip }, async () => {
    const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.whl')).sort();
    assert.ok(files.length > 0);
    const timings: string[] = [];
    for (const f of files) {
      const t0 = performance.now();
      await withWheel(path.join(CORPUS, f), async (w) => {
        assert.ok(w.members.length > 0, f);
        assert.equal(w.filename, f);
        for (const row of w.record) {
          if (row.hash) assert.ok(typeof decodeRecordHash(row.hash) !== 'string', `${f}: ${row.path}`);
        }
      });
      timings.push(`${f}: ${(performance.now() - t0).toFixed(0)} ms`);
    }
    console.log(`opened ${files.length} corpus wheels\n  ${timings.join("\n  ")}`);
  });

  it('opens and extracts numpy (17 MB, 1000+ members) in reasonable time, as Python sees it', { skip }, async () => {
    const numpy = (await readdir(CORPUS)).find((f) => /^numpy-.*\.whl$/.test(f));
    assert.ok(numpy, 'no numpy wheel in the corpus');
    const file = path.join(CORPUS, numpy);
    const t0 = performance.now();
    const w = await openWheel(file);
    const t1 = performance.now();
    const dest = fresh('numpy');
    try {
      assert.ok(w.members.length > 1000, `${w.members.length} members`);
      await extractWheel(w, dest);
      const t2 = performance.now();
      console.log(`numpy: ${w.members.length} members, ${(w.size / 1e6).toFixed(1)} MB: open+validate ${(t1 - t0).toFixed(0)} ms, extract ${(t2 - t1).toFixed(0)} ms`);
      assert.ok(t1 - t0 < 20000 && t2 - t1 < 20000, 'numpy took more than 20 s to open or extract');
      // the same members, in the same order, with the same attributes as Python's zipfile sees them
      const DUMP = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps([[i.filename,list(i.date_time),i.external_attr,i.compress_type,i.flag_bits,i.extra.hex()] for i in z.infolist()]))';
      const py = JSON.parse((await run(['python3', '-c', DUMP, file])).stdout) as unknown;
      assert.deepEqual(
        w.zipInfo.members.map((m) => [m.name, m.time, m.attr, m.method, m.flags, m.extra]),
        py,
      );
      // every extracted file matches its RECORD hash
      const byName = new Map(w.record.map((r) => [r.path, r]));
      let checked = 0;
      for (const m of w.members) {
        if (m.isDirectory) continue;
        const row = byName.get(m.name);
        assert.ok(row, m.name);
        const data = await readFile(path.join(dest, m.name));
        assert.equal(data.length, m.uncompressedSize, m.name);
        if (row.hash) {
          const decoded = decodeRecordHash(row.hash);
          assert.ok(typeof decoded !== 'string');
          assert.ok(createHash(decoded.nodeAlgorithm).update(data).digest().equals(decoded.digest), m.name);
          checked++;
        }
      }
      assert.ok(checked > 1000);
      assert.equal(JSON.parse(await readFile(path.join(dest, ZIPINFO_FILE), 'utf8')).sha256, sha256(await readFile(file)));
    } finally {
      await w.close();
    }
  });
});
