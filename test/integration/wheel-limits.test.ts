/**
 * Wheel size limits (zip bombs with an honest RECORD): the total unpacked
 * size, the member count and the compression ratio are checked from the
 * central directory before any member is read, and each can be raised.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { InputError } from '../../src/errors.ts';
import { extractWheel } from '../../src/wheels/extract.ts';
import { openWheel, type OpenWheelOptions } from '../../src/wheels/source.ts';
import { DEFAULT_WHEEL_LIMITS, parseByteSize } from '../../src/wheels/limits.ts';
import { makeWheel, type WheelSpec } from '../helpers/make-wheel.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus/wheels');

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'reqset-wheel-limits-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});
let counter = 0;
const fresh = (label: string) => path.join(tmp, `${++counter}-${label}`);

/** 32 MiB of zeros: deflates about 1000:1, to some 32 KB. */
const ZEROS = Buffer.alloc(32 * 1024 * 1024);

const bomb = (extra: Partial<WheelSpec> = {}): WheelSpec => ({
  name: 'bomb',
  version: '1.0',
  files: { 'bomb/__init__.py': 'x = 1\n', 'bomb/zeros.bin': ZEROS },
  ...extra,
});

const plain: WheelSpec = {
  name: 'plain',
  version: '1.0',
  files: {
    'plain/__init__.py': 'x = 1\n',
    'plain/a.py': 'a = 1\n'.repeat(20000),
    'plain/b.py': 'b = 2\n'.repeat(1000),
  },
};

async function refused(file: string, options: OpenWheelOptions | undefined, pattern: RegExp): Promise<InputError> {
  let caught: unknown;
  try {
    const w = await openWheel(file, options);
    await w.close();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`);
  assert.ok(caught.message.includes(file), `the message must name the wheel: ${caught.message}`);
  assert.equal(caught.exitCode, 2);
  assert.ok(caught.problems.some((p) => pattern.test(p)), `no problem matches ${pattern}:\n${caught.message}`);
  return caught;
}

async function opens(file: string, options?: OpenWheelOptions): Promise<string[]> {
  const w = await openWheel(file, options);
  try {
    return w.members.map((m) => m.name);
  } finally {
    await w.close();
  }
}

describe('wheel limits', () => {
  it('the defaults admit torch-sized wheels and refuse zip bombs', () => {
    assert.ok(DEFAULT_WHEEL_LIMITS.maxSize >= 4 * 1024 ** 3);
    assert.ok(DEFAULT_WHEEL_LIMITS.maxMembers >= 50_000);
    assert.ok(DEFAULT_WHEEL_LIMITS.maxCompressionRatio >= 50 && DEFAULT_WHEEL_LIMITS.maxCompressionRatio < 1000);
  });

  it('a member compressed ~1000:1 is refused with the defaults, naming the member, the limit and the option', async () => {
    const file = await makeWheel(fresh('bomb'), bomb());
    const error = await refused(file, undefined, /member "bomb\/zeros\.bin": unpacks to 33554432 bytes \(32\.0 MiB\) from \d+ \(\d+:1\), over the compression ratio limit of 200:1/);
    assert.match(error.message, /--max-compression-ratio/);
    assert.equal(error.problems.length, 1, error.message);
  });

  it('a shared library padded to 2 MiB, past 200:1 like pillow 13 bundles, is admitted with the defaults', async () => {
    // pillow 13's pillow.libs/libXau-*.so: 2,100,545 bytes from 9,389 (224:1).
    const padded = Buffer.alloc(2 * 1024 * 1024);
    padded.write('\x7fELF', 0, 'latin1');
    const file = await makeWheel(fresh('padded'), { name: 'padded', version: '1.0', files: { 'padded/__init__.py': 'x = 1\n', 'padded.libs/libpad.so.0': padded } });
    const w = await openWheel(file);
    await w.close();
  });

  it('the limits are checked before any member is read: a corrupt member is not reported', async () => {
    // The small member's CRC is wrong: reading it would report a CRC mismatch.
    const file = await makeWheel(fresh('bomb-crc'), bomb({ memberOptions: { 'bomb/__init__.py': { crc: 0x12345678 } } }));
    const error = await refused(file, undefined, /compression ratio limit/);
    assert.ok(!/CRC|RECORD/.test(error.message), error.message);
    // With the limit raised the same wheel is read, and the corruption found.
    await refused(file, { limits: { maxCompressionRatio: 2000 } }, /CRC-32 mismatch/);
  });

  it('the same bomb opens and extracts with --max-compression-ratio raised', async () => {
    const file = await makeWheel(fresh('bomb-ok'), bomb());
    const w = await openWheel(file, { limits: { maxCompressionRatio: 2000 } });
    try {
      const out = fresh('out');
      await extractWheel(w, out);
      assert.deepEqual((await readdir(path.join(out, 'bomb'))).sort(), ['__init__.py', 'zeros.bin']);
    } finally {
      await w.close();
    }
  });

  it('the total unpacked size: refused over --max-wheel-size, naming the largest member, admitted under it', async () => {
    const file = await makeWheel(fresh('size'), plain);
    const error = await refused(file, { limits: { maxSize: 100 * 1024 } }, /the members unpack to \d+ bytes \(\d+\.\d KiB\) in all; the largest is member "plain\/a\.py", 120000 bytes/);
    assert.match(error.message, /over the limit of 102400 bytes \(100\.0 KiB\) \(raise it with --max-wheel-size\)/);
    assert.ok((await opens(file, { limits: { maxSize: 200 * 1024 } })).includes('plain/a.py'));
    assert.ok((await opens(file)).includes('plain/a.py'), 'the default admits it');
  });

  it('the member count: refused over --max-wheel-members, admitted at it', async () => {
    const file = await makeWheel(fresh('count'), plain);
    const count = (await opens(file)).length;
    const error = await refused(file, { limits: { maxMembers: count - 1 } }, new RegExp(`the wheel has ${count} members, over the limit of ${count - 1}`));
    assert.match(error.message, /--max-wheel-members/);
    assert.equal((await opens(file, { limits: { maxMembers: count } })).length, count);
  });

  it('the real corpus wheels open with the defaults', async () => {
    const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.whl')).sort();
    assert.ok(files.some((f) => f.startsWith('numpy-')));
    for (const f of files) await opens(path.join(CORPUS, f), { limits: {} });
  });

  it('parseByteSize: bytes, K, M, G, T (binary), decimals; anything else is an InputError', () => {
    assert.equal(parseByteSize('123'), 123);
    assert.equal(parseByteSize('64K'), 64 * 1024);
    assert.equal(parseByteSize('300M'), 300 * 1024 ** 2);
    assert.equal(parseByteSize('8G'), 8 * 1024 ** 3);
    assert.equal(parseByteSize('8GiB'), 8 * 1024 ** 3);
    assert.equal(parseByteSize('1.5g'), 1.5 * 1024 ** 3);
    assert.equal(parseByteSize('1T'), 1024 ** 4);
    for (const bad of ['', 'G', '8X', '-1', '0', '1e3']) assert.throws(() => parseByteSize(bad), InputError, bad);
  });
});

describe('wheel limits on the command line', () => {
  /** `reqset <command> bombs` on a workspace whose pin list collects one bomb wheel from a local --find-links. */
  async function cli(command: string, version: string, flags: string[], workspace?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const ws = workspace ?? fresh(`ws-${command}`);
    await makeWheel(path.join(ws, 'wheels'), bomb({ version }));
    await mkdir(path.join(ws, 'reqsets'), { recursive: true });
    await writeFile(path.join(ws, 'reqsets', 'bombs.txt'), `--no-index\n--find-links ../wheels\nbomb==${version}\n`);
    const captured = { stdout: '', stderr: '' };
    const stream = (name: 'stdout' | 'stderr') =>
      ({ isTTY: false, write: (text: string) => ((captured[name] += text), true) }) as unknown as NodeJS.WriteStream;
    const argv = [command, 'bombs', '--target', 'debian12', '--workspace', ws, '--out', path.join(ws, 'out'), '--wheel-cache', path.join(ws, 'cache'), '--quiet', ...flags];
    const code = await main(argv, { stdout: stream('stdout'), stderr: stream('stderr') });
    return { code, ...captured };
  }

  it('check: exit 2 naming the wheel, the member, the limit and the option; passes with --max-compression-ratio raised', async () => {
    const refusedRun = await cli('check', '2.0', []);
    assert.equal(refusedRun.code, 2, refusedRun.stderr);
    assert.match(refusedRun.stderr, /wheel \S*bomb-2\.0-py3-none-any\.whl is refused before unpacking/);
    assert.match(refusedRun.stderr, /member "bomb\/zeros\.bin".*compression ratio limit of 200:1.*--max-compression-ratio/);
    const raised = await cli('check', '2.1', ['--max-compression-ratio', '2000']);
    assert.equal(raised.code, 0, raised.stderr);
  });

  it('wheels: --max-wheel-size and --max-wheel-members are applied (and parsed: 1M, a count)', async () => {
    const size = await cli('wheels', '3.0', ['--max-compression-ratio', '2000', '--max-wheel-size', '1M']);
    assert.equal(size.code, 2, size.stderr);
    assert.match(size.stderr, /over the limit of 1048576 bytes \(1\.0 MiB\) \(raise it with --max-wheel-size\)/);
    const members = await cli('wheels', '3.1', ['--max-compression-ratio', '2000', '--max-wheel-members', '2']);
    assert.equal(members.code, 2, members.stderr);
    assert.match(members.stderr, /the wheel has 5 members, over the limit of 2 \(raise it with --max-wheel-members\)/);
    const bad = await cli('wheels', '3.2', ['--max-wheel-size', 'lots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"lots" is not a size/);
  });

  it('a wheel admitted under raised limits is checked again under the defaults (the cached verdict is per limits)', async () => {
    const ws = fresh('ws-verdict');
    const raised = await cli('check', '5.0', ['--max-compression-ratio', '2000'], ws);
    assert.equal(raised.code, 0, raised.stderr);
    assert.ok((await readdir(path.join(ws, 'cache', 'verdicts'), { recursive: true })).some((f) => f.endsWith('.json')), 'the verdict was cached');
    const again = await cli('check', '5.0', [], ws);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /compression ratio limit of 200:1/);
  });

  it('build: the packages stage opens the wheels again under the same raised limits', async () => {
    const built = await cli('build', '4.0', ['--max-compression-ratio', '2000']);
    assert.equal(built.code, 0, built.stderr);
    const refusedRun = await cli('build', '4.1', []);
    assert.equal(refusedRun.code, 2, refusedRun.stderr);
  });
});
