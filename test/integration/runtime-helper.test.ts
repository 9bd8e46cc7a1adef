/**
 * The runtime helper that wheel packages' scriptlets call: it checks an
 * installed (unpacked) wheel tree against RECORD and rebuilds the original
 * .whl from it, on every target Python from 3.6 to 3.13.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { run, type RunResult } from '../../src/run.ts';
import { extractWheel } from '../../src/wheels/extract.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { corpusWheel, corpusWheelsDir } from '../helpers/env.ts';
import {
  RUNTIME_HELPER,
  TARGET_PYTHONS,
  buildTinyWheel,
  HAND_WHEEL_PY,
  makeExoticWheel,
  makeInfoZipWheel,
  makeTempDir,
  parseJsonLine,
  sha256File,
  unpackWheelTree,
} from '../helpers/runtime-fixtures.ts';

interface Rebuilt {
  path: string;
  sha256: string;
  size: number;
  identical: boolean;
}

function helper(args: string[], options: { python?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return run([options.python ?? 'python3', RUNTIME_HELPER, ...args], { allowFailure: true, env: options.env, timeoutMs: 300_000 });
}

async function rebuild(tree: string, outdir: string, python?: string): Promise<Rebuilt> {
  const result = await helper(['rebuild-wheel', tree, outdir], { python });
  assert.equal(result.exitCode, 0, `rebuild-wheel failed: ${result.stderr}`);
  assert.equal(result.stderr, '');
  return parseJsonLine<Rebuilt>(result.stdout);
}

/** A failure: non-zero, nothing on stdout, exactly one "reqset-runtime: error:" line on stderr. */
function assertOneLineError(result: RunResult, exitCode: number, ...mentions: (string | RegExp)[]): void {
  assert.equal(result.exitCode, exitCode, `exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] as string, /^reqset-runtime: error: /);
  for (const m of mentions) {
    if (typeof m === 'string') assert.ok((lines[0] as string).includes(m), `stderr should mention ${m}: ${lines[0]}`);
    else assert.match(lines[0] as string, m);
  }
}

let work: string;
let tinyWheel: string;
let tinyTree: string;
let exoticWheel: string;
let exoticTree: string;
let copies = 0;

/** A fresh copy of a tree that a test may damage. */
async function copyTree(tree: string): Promise<string> {
  const copy = path.join(work, `copy-${++copies}`, path.basename(tree));
  await cp(tree, copy, { recursive: true, verbatimSymlinks: true });
  return copy;
}

async function freshDir(name: string): Promise<string> {
  const dir = path.join(work, `${name}-${++copies}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

before(async () => {
  work = await makeTempDir();
  tinyWheel = await buildTinyWheel(work);
  tinyTree = path.join(work, 'trees', 'tinypkg-1.0-py3-none-any');
  await unpackWheelTree(tinyWheel, tinyTree);
  exoticWheel = await makeExoticWheel(path.join(work, 'exotic'));
  exoticTree = path.join(work, 'trees', 'exotic-1.0-py3-none-any');
  await unpackWheelTree(exoticWheel, exoticTree);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('rebuild-wheel', () => {
  it('rebuilds a pip-built wheel byte for byte', async () => {
    const outdir = await freshDir('out');
    const result = await rebuild(tinyTree, outdir);
    const target = path.join(outdir, 'tinypkg-1.0-py3-none-any.whl');
    assert.deepEqual(result, { path: target, sha256: await sha256File(tinyWheel), size: (await readFile(tinyWheel)).length, identical: true });
    assert.deepEqual(await readFile(target), await readFile(tinyWheel));
  });

  it('gives the same file when re-run, replacing it atomically and leaving no temporary files', async () => {
    const outdir = await freshDir('out');
    const first = await rebuild(tinyTree, outdir);
    const second = await rebuild(tinyTree, outdir);
    assert.deepEqual(second, first);
    assert.deepEqual(await readdir(outdir), ['tinypkg-1.0-py3-none-any.whl']);
  });

  it('creates OUTDIR when missing', async () => {
    const outdir = path.join(await freshDir('out'), 'a', 'b');
    const result = await rebuild(tinyTree, outdir);
    assert.equal(result.identical, true);
  });

  it('reproduces data descriptors, zip64 headers, central-only extra fields, comments and stored members', async () => {
    const outdir = await freshDir('out');
    const result = await rebuild(exoticTree, outdir);
    assert.equal(result.identical, true);
    assert.deepEqual(await readFile(result.path), await readFile(exoticWheel));
  });

  it('reproduces an Info-ZIP archive when internal attributes are recorded (as reqset\'s own extraction does), and stays a valid wheel without them', async () => {
    const dir = await freshDir('infozip');
    const wheel = await makeInfoZipWheel(tinyWheel, dir);
    const ours = path.join(dir, 'tree-reqset');
    const source = await openWheel(wheel);
    try {
      await extractWheel(source, ours);
    } finally {
      await source.close();
    }
    const fromOurs = await rebuild(ours, path.join(dir, 'out-reqset'));
    assert.equal(fromOurs.identical, true, 'the tree reqset unpacked rebuilds the Info-ZIP wheel byte for byte');
    assert.deepEqual(await readFile(fromOurs.path), await readFile(wheel));
    const withAttr = path.join(dir, 'tree-with');
    const without = path.join(dir, 'tree-without');
    await unpackWheelTree(wheel, withAttr, { internalAttr: true });
    await unpackWheelTree(wheel, without);
    const exact = await rebuild(withAttr, path.join(dir, 'out-with'));
    assert.equal(exact.identical, true);
    const approx = await rebuild(without, path.join(dir, 'out-without'));
    // Only the "text" bits of the internal attributes differ: same size, valid zip.
    assert.equal(approx.identical, false);
    assert.equal(approx.size, exact.size);
    await assertValidWheels([approx.path]);
  });

  it('refuses a tree whose .reqset-wheel.json is missing or malformed', async () => {
    const outdir = await freshDir('out');
    const bare = await freshDir('bare');
    assertOneLineError(await helper(['rebuild-wheel', bare, outdir]), 1, '.reqset-wheel.json: not found');

    const tree = await copyTree(tinyTree);
    const infoFile = path.join(tree, '.reqset-wheel.json');
    const doc = JSON.parse(await readFile(infoFile, 'utf8')) as { members: { method: number }[] };
    (doc.members[0] as { method: number }).method = 12;
    await writeFile(infoFile, JSON.stringify(doc));
    assertOneLineError(await helper(['rebuild-wheel', tree, outdir]), 1, 'unsupported compression method 12');

    await writeFile(infoFile, '{"format": 1, ');
    assertOneLineError(await helper(['rebuild-wheel', tree, outdir]), 1, 'not valid JSON');
    assert.deepEqual(await readdir(outdir), []);
  });
});

describe('verification of the unpacked tree', () => {
  const initPy = 'tinypkg/__init__.py';

  async function damaged(damage: (tree: string) => Promise<void>): Promise<{ tree: string; outdir: string }> {
    const tree = await copyTree(tinyTree);
    await damage(tree);
    return { tree, outdir: await freshDir('out') };
  }

  it('accepts an intact tree (verify)', async () => {
    const result = await helper(['verify', tinyTree]);
    assert.equal(result.exitCode, 0, result.stderr);
    const report = parseJsonLine<{ checked: number; filename: string }>(result.stdout);
    assert.equal(report.filename, 'tinypkg-1.0-py3-none-any.whl');
    assert.equal(report.checked, 6); // every RECORD row but RECORD itself
  });

  it('fails on one modified byte, naming the file, and writes nothing', async () => {
    const { tree, outdir } = await damaged(async (t) => {
      const file = path.join(t, initPy);
      const bytes = await readFile(file);
      bytes[3] = (bytes[3] as number) ^ 0x20;
      await writeFile(file, bytes);
    });
    assertOneLineError(await helper(['rebuild-wheel', tree, outdir]), 1, `${initPy}: sha256 does not match RECORD`);
    assert.deepEqual(await readdir(outdir), []);
    assertOneLineError(await helper(['verify', tree]), 1, initPy);
  });

  it('fails on a file whose size changed', async () => {
    const { tree, outdir } = await damaged((t) => appendFile(path.join(t, 'tinypkg/data.txt'), 'x'));
    assertOneLineError(await helper(['rebuild-wheel', tree, outdir]), 1, /tinypkg\/data\.txt: size 11, RECORD says 10/);
  });

  it('fails on an extra file, also in a new directory', async () => {
    const { tree, outdir } = await damaged(async (t) => {
      await writeFile(path.join(t, 'tinypkg', 'evil.py'), 'import os\n');
      await mkdir(path.join(t, 'tinypkg', 'sub'));
      await writeFile(path.join(t, 'tinypkg', 'sub', 'more.py'), '\n');
    });
    assertOneLineError(
      await helper(['rebuild-wheel', tree, outdir]),
      1,
      '(2 problems)',
      'tinypkg/evil.py: not part of the wheel',
      'tinypkg/sub/more.py: not part of the wheel',
    );
  });

  it('fails on a missing file', async () => {
    const { tree, outdir } = await damaged((t) => unlink(path.join(t, 'tinypkg/data.txt')));
    assertOneLineError(await helper(['rebuild-wheel', tree, outdir]), 1, 'tinypkg/data.txt: missing');
  });

  it('fails on a symbolic link in place of a file', async () => {
    const { tree, outdir } = await damaged(async (t) => {
      await unlink(path.join(t, 'tinypkg/data.txt'));
      await symlink('/etc/hostname', path.join(t, 'tinypkg/data.txt'));
    });
    assertOneLineError(await helper(['rebuild-wheel', tree, outdir]), 1, 'tinypkg/data.txt: is a symbolic link', 'tinypkg/data.txt: missing');
  });

  it('refuses a symbolic link that takes a file\'s place after the structure check, rather than following it', async () => {
    const script = [
      'import os, sys',
      'sys.path.insert(0, sys.argv[1])',
      'from reqset_runtime import cli',
      'real = cli.check_tree_members',
      'def then_swap(tree, info):',
      '    checked = real(tree, info)',
      '    victim = os.path.join(tree, b"tinypkg/data.txt")',
      '    os.unlink(victim)',
      '    os.symlink(b"/etc/hostname", victim)',
      '    return checked',
      'cli.check_tree_members = then_swap',
      'sys.exit(cli.main(sys.argv[2:]))',
    ].join('\n');
    const { tree, outdir } = await damaged(async () => {});
    const result = await run(['python3', '-c', script, RUNTIME_HELPER, 'rebuild-wheel', tree, outdir], { allowFailure: true });
    assertOneLineError(result, 1, 'tinypkg/data.txt: is a symbolic link (it took the file\'s place while being read)');
    assert.deepEqual(await readdir(outdir), []);
  });

  it('fails when RECORD itself was altered', async () => {
    const { tree, outdir } = await damaged(async (t) => {
      const record = path.join(t, 'tinypkg-1.0.dist-info', 'RECORD');
      const text = await readFile(record, 'utf8');
      const altered = text.replace(/^(tinypkg\/__init__\.py,sha256=)(.)/m, (_m, p: string, c: string) => `${p}${c === 'A' ? 'B' : 'A'}`);
      assert.notEqual(altered, text);
      await writeFile(record, altered);
    });
    assertOneLineError(await helper(['rebuild-wheel', tree, outdir]), 1, `${initPy}: sha256 does not match RECORD`);
  });

  it('keeps the previous good wheel when a rebuild fails', async () => {
    const tree = await copyTree(tinyTree);
    const outdir = await freshDir('out');
    const good = await rebuild(tree, outdir);
    await appendFile(path.join(tree, initPy), '# tampered\n');
    assertOneLineError(await helper(['rebuild-wheel', tree, outdir]), 1, initPy);
    assert.equal(await sha256File(good.path), good.sha256);
    assert.deepEqual(await readdir(outdir), [path.basename(good.path)]);
  });
});

describe('remove-wheel', () => {
  it('removes the wheel and leftover temporary files, idempotently, and nothing else', async () => {
    const outdir = await freshDir('out');
    const built = await rebuild(tinyTree, outdir);
    const name = path.basename(built.path);
    await writeFile(path.join(outdir, `.${name}.abc123.tmp`), 'partial');
    await writeFile(path.join(outdir, 'other-1.0-py3-none-any.whl'), 'keep');

    const first = await helper(['remove-wheel', outdir, name]);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.deepEqual(parseJsonLine(first.stdout), { path: built.path, removed: true });
    assert.deepEqual(await readdir(outdir), ['other-1.0-py3-none-any.whl']);

    const second = await helper(['remove-wheel', outdir, name]);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.deepEqual(parseJsonLine(second.stdout), { path: built.path, removed: false });

    const gone = await helper(['remove-wheel', path.join(outdir, 'no-such-dir'), name]);
    assert.equal(gone.exitCode, 0, gone.stderr);
  });

  it('refuses a file name that is not a plain wheel file name', async () => {
    const outdir = await freshDir('out');
    assertOneLineError(await helper(['remove-wheel', outdir, '../x-1.0-py3-none-any.whl']), 1, 'bad wheel file name');
  });
});

describe('command line', () => {
  it('reports usage errors on one line with exit 2', async () => {
    assertOneLineError(await helper([]), 2, 'required');
    assertOneLineError(await helper(['no-such-command']), 2, 'invalid choice');
    assertOneLineError(await helper(['rebuild-wheel', tinyTree]), 2, 'OUTDIR');
  });

  it('prints help', async () => {
    const result = await helper(['--help']);
    assert.equal(result.exitCode, 0);
    for (const command of ['rebuild-wheel', 'verify', 'remove-wheel']) assert.ok(result.stdout.includes(command));
  });
});

describe('start-up (paid by every wheel package\'s post-install)', () => {
  for (const [version, python] of Object.entries(TARGET_PYTHONS)) {
    it(`compiles each module of the zipapp once and rebuilds a tree without zipfile or tempfile, on Python ${version}`, async () => {
      const result = await run([python, '-v', RUNTIME_HELPER, 'rebuild-wheel', tinyTree, await freshDir('out-startup')], { timeoutMs: 60_000 });
      assert.equal(parseJsonLine<Rebuilt>(result.stdout).identical, true);
      // `python -v` prints "import 'name' # <loader>" for every module it imports.
      const imported = new Map([...result.stderr.matchAll(/^import '([\w.]+)' # (.*)$/gm)].map((m) => [m[1] as string, m[2] as string]));
      const own = [...imported].filter(([name]) => name === 'reqset_runtime' || name.startsWith('reqset_runtime.'));
      assert.ok(own.some(([name]) => name === 'reqset_runtime.zipwriter'), result.stderr.slice(-2000));
      for (const [name, loader] of own) assert.match(loader, /__main__\.SourceLoader/, name);
      for (const heavy of ['zipfile', 'tempfile']) assert.ok(!imported.has(heavy), `${heavy} is imported`);
    });
  }
});

describe('target interpreters', () => {
  for (const [version, python] of Object.entries(TARGET_PYTHONS)) {
    it(`runs on Python ${version}: identical rebuilds, checks and errors`, async () => {
      const numpy = corpusWheel('numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64');
      const numpyTree = path.join(work, 'trees', path.basename(numpy, '.whl'));
      if (!existsSync(numpyTree)) await unpackWheelTree(numpy, numpyTree);
      const sources = [tinyWheel, exoticWheel, numpy];
      const trees = [tinyTree, exoticTree, numpyTree];
      const outdir = await freshDir(`out-py${version}`);
      for (const [i, tree] of trees.entries()) {
        const result = await rebuild(tree, outdir, python);
        assert.equal(result.identical, true, `${path.basename(tree)} with Python ${version}`);
        assert.equal(result.sha256, await sha256File(sources[i] as string));
      }
      // Non-ASCII member names under the C locale (Python 3.6 then has an ASCII file system encoding).
      const cLocale = { LC_ALL: 'C', LANG: 'C' };
      const cResult = await helper(['rebuild-wheel', exoticTree, await freshDir('out-c')], { python, env: cLocale });
      assert.equal(cResult.exitCode, 0, cResult.stderr);
      assert.equal(parseJsonLine<Rebuilt>(cResult.stdout).identical, true);
      const damaged = await copyTree(exoticTree);
      await appendFile(path.join(damaged, 'exotic', 'caf\u00e9.txt'), '!');
      assertOneLineError(await helper(['verify', damaged], { python, env: cLocale }), 1, /exotic\/caf(\u00e9|\\xe9|\\u00e9)\.txt: size/);
      assertOneLineError(await helper([], { python }), 2, 'required');
    });
  }
});

describe('corpus wheels', () => {
  let rebuilt: { wheel: string; result: Rebuilt }[] = [];

  before(async () => {
    const corpus = corpusWheelsDir();
    const wheels = (await readdir(corpus)).filter((f) => f.endsWith('.whl')).sort();
    const outdir = await freshDir('out-corpus');
    const limit = pLimit(4);
    rebuilt = await Promise.all(
      wheels.map((name) =>
        limit(async () => {
          const wheel = path.join(corpus, name);
          const tree = path.join(work, 'trees', name.slice(0, -'.whl'.length));
          if (!existsSync(tree)) await unpackWheelTree(wheel, tree);
          return { wheel, result: await rebuild(tree, outdir) };
        }),
      ),
    );
  });

  it('rebuilds every corpus wheel; identical with classic zlib', async (t) => {
    assert.ok(rebuilt.length > 0);
    const identical = rebuilt.filter((r) => r.result.identical);
    const message = `${identical.length}/${rebuilt.length} corpus wheels rebuilt byte-identical`;
    t.diagnostic(message);
    for (const r of rebuilt) {
      if (r.result.identical) assert.equal(r.result.sha256, await sha256File(r.wheel));
      else t.diagnostic(`not identical: ${path.basename(r.wheel)}`);
    }
    // zlib-ng (Fedora 40+) deflates differently; classic zlib must match exactly.
    const zlib = (await run(['python3', '-c', 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)'])).stdout.trim();
    if (!/ng/i.test(zlib)) assert.equal(identical.length, rebuilt.length, `${message} (zlib ${zlib})`);
  });

  /** The unpacked tree of the corpus numpy wheel: the large tree of these tests. */
  function numpyTree(): string {
    const numpy = rebuilt.find((r) => path.basename(r.wheel).startsWith('numpy-'));
    assert.ok(numpy, 'the corpus numpy wheel');
    return path.join(work, 'trees', path.basename(numpy.wheel, '.whl'));
  }

  it('checks RECORD on the bytes it deflated, in either process: no file of a large tree is read a second time', async () => {
    const tree = numpyTree();
    const script = [
      'import sys',
      'sys.path.insert(0, sys.argv[1])',
      'from reqset_runtime import cli, readers, zipwriter',
      'zipwriter.usable_cpus = lambda: int(sys.argv[2])',
      'reread, real = [], readers.TreeReader.digest',
      'readers.TreeReader.digest = lambda self, name, algorithm: reread.append(name) or real(self, name, algorithm)',
      'status = cli.main(sys.argv[3:])',
      'sys.stderr.write("read again: %d\\n" % len(reread))',
      'sys.exit(status)',
    ].join('\n');
    for (const cpus of ['1', '2']) {
      const result = await run(['python3', '-c', script, RUNTIME_HELPER, cpus, 'rebuild-wheel', tree, await freshDir(`out-reread-${cpus}`)], { timeoutMs: 300_000 });
      assert.equal(result.stderr.trim(), 'read again: 0', `${cpus} CPU(s)`);
    }
  });

  it('deflates a large tree in two processes or in one, to the same bytes: two CPUs, one CPU, a refused fork, a worker that dies', async () => {
    const tree = numpyTree();
    const script = [
      'import os, sys',
      'sys.path.insert(0, sys.argv[1])',
      'from reqset_runtime import cli, zipwriter',
      'mode, real_fork, forks = sys.argv[2], os.fork, []',
      'zipwriter.usable_cpus = lambda: 1 if mode == "one" else 2',
      'def fork():',
      '    if mode == "refuse":',
      '        raise OSError(11, "refused")',
      '    pid = real_fork()',
      '    if pid == 0 and mode == "die":',
      '        os._exit(3)',
      '    forks.append(pid)',
      '    return pid',
      'os.fork = fork',
      'status = cli.main(sys.argv[3:])',
      'sys.stderr.write("forks=%d\\n" % len(forks))',
      'sys.exit(status)',
    ].join('\n');
    // The one-process bytes (the same as the wheel's with classic zlib: see above).
    let expected: string | undefined;
    for (const [mode, forks] of [['one', 0], ['two', 1], ['refuse', 0], ['die', 1]] as const) {
      const result = await run(['python3', '-c', script, RUNTIME_HELPER, mode, 'rebuild-wheel', tree, await freshDir(`out-deflate-${mode}`)], { timeoutMs: 300_000 });
      assert.equal(result.stderr.trim(), `forks=${forks}`, mode);
      const out = parseJsonLine<Rebuilt>(result.stdout);
      expected ??= out.sha256;
      assert.equal(out.sha256, expected, mode);
      assert.equal(await sha256File(out.path), expected, mode);
    }
  });

  it('every rebuilt wheel is a valid wheel: zip CRCs and RECORD hashes', async () => {
    await assertValidWheels(rebuilt.map((r) => r.result.path));
  });

  it('pip installs rebuilt wheels offline into a venv, and they import', { timeout: 300_000 }, async () => {
    const pick: Record<string, string> = { six: 'six', idna: 'idna', packaging: 'packaging', MarkupSafe: 'markupsafe', PyYAML: 'yaml' };
    const chosen = rebuilt.filter((r) => Object.keys(pick).some((p) => path.basename(r.wheel).startsWith(`${p}-`)));
    assert.ok(chosen.length >= 3, 'enough corpus wheels to install');
    const venv = path.join(await freshDir('venv'), 'venv');
    await run(['python3', '-m', 'venv', venv], { timeoutMs: 120_000 });
    const py = path.join(venv, 'bin', 'python');
    await run([py, '-m', 'pip', 'install', '--isolated', '--disable-pip-version-check', '--no-index', '--no-deps', ...chosen.map((r) => r.result.path)], {
      timeoutMs: 180_000,
    });
    const modules = chosen.map((r) => pick[path.basename(r.wheel).split('-')[0] as string] as string);
    const imported = await run([py, '-c', `import ${modules.join(', ')}; print("ok")`]);
    assert.equal(imported.stdout.trim(), 'ok');
  });
});

/** Opens each wheel with zipfile, checks every CRC and that RECORD lists every file with a matching hash. */
async function assertValidWheels(wheels: string[]): Promise<void> {
  const script = String.raw`
import base64, csv, hashlib, io, sys, zipfile
bad = []
for path in sys.argv[1:]:
    with zipfile.ZipFile(path) as z:
        if z.testzip() is not None:
            bad.append('%s: bad CRC in %s' % (path, z.testzip()))
            continue
        names = [n for n in z.namelist() if not n.endswith('/')]
        record = [n for n in names if n.count('/') == 1 and n.endswith('.dist-info/RECORD')][0]
        rows = {r[0]: r for r in csv.reader(io.StringIO(z.read(record).decode('utf-8'))) if r}
        for n in names:
            if n == record:
                continue
            algo, _, want = rows[n][1].partition('=')
            got = base64.urlsafe_b64encode(hashlib.new(algo, z.read(n)).digest()).rstrip(b'=').decode()
            if got != want:
                bad.append('%s: %s does not match RECORD' % (path, n))
print('\n'.join(bad) if bad else 'ok')
`;
  const result = await run(['python3', '-c', script, ...wheels], { timeoutMs: 300_000 });
  assert.equal(result.stdout.trim(), 'ok');
}

/**
 * Members on both sides of the helper's CHUNK (1 MiB): a member of at most CHUNK bytes is read
 * whole and written with its final local header, a larger one is streamed and its header rewritten.
 * Written by zipfile to an unseekable stream (data descriptors) or to a file (none); zip64 local
 * headers on a large and on a small member; deflated directory entries; a large stored member.
 */
const CHUNK_SCRIPT = String.raw`
import base64, hashlib, random, sys, zipfile
out, unseekable = sys.argv[1], sys.argv[2] == '1'
noise = bytes(random.Random(7).getrandbits(8) for _ in range(1 << 21))
files = [
    ('chunky/', None),
    ('chunky/__init__.py', b'VALUE = 1\n'),
    ('chunky/text.txt', b''.join(b'line %d\n' % i for i in range(400000))),
    ('chunky/noise.bin', noise),
    ('chunky/exact.bin', noise[:1 << 20]),
    ('chunky/over.bin', noise[:(1 << 20) + 1]),
    ('chunky/empty.txt', b''),
    ('chunky/sub/', None),
    ('chunky/stored.bin', noise[:1500000]),
    ('chunky/small64.txt', b'small, with a zip64 local header\n'),
    ('chunky-1.0.dist-info/METADATA', b'Metadata-Version: 2.1\nName: chunky\nVersion: 1.0\n'),
    ('chunky-1.0.dist-info/WHEEL', b'Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
]
${HAND_WHEEL_PY}
add_record(files, 'chunky-1.0.dist-info')

with open(out, 'wb') as raw:
    with zipfile.ZipFile(Unseekable(raw) if unseekable else raw, 'w') as zf:
        for i, (name, data) in enumerate(files):
            info = zipfile.ZipInfo(name, date_time=(2001, 2, 3, 4, 5, 6))
            info.create_system = 3
            info.external_attr = ((0o40755 << 16) | 0x10) if data is None else (0o100644 << 16)
            info.compress_type = zipfile.ZIP_STORED if name.endswith('stored.bin') else zipfile.ZIP_DEFLATED
            if name.endswith(('noise.bin', 'small64.txt')):
                with zf.open(info, 'w', force_zip64=True) as f:
                    f.write(data)
            else:
                zf.writestr(info, data or b'')
`;

/** A tree's stored zip, as the stored-zip layout ships it: its members uncompressed in order, then .reqset-wheel.json. */
const STORED_ZIP_SCRIPT = String.raw`
import json, os, sys, zipfile
tree, out = sys.argv[1], sys.argv[2]
raw = open(os.path.join(tree, '.reqset-wheel.json'), 'rb').read()
with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as zf:
    for m in json.loads(raw.decode('utf-8'))['members']:
        if m['name'].endswith('/'):
            zf.writestr(m['name'], b'')
        else:
            zf.write(os.path.join(tree, m['name']), m['name'])
    zf.writestr('.reqset-wheel.json', raw)
`;

/** Runs the helper's main() with TreeReader.size off by one for members ending in argv[3] (argv[2]: shrank|grew). */
const CHANGED_SCRIPT = String.raw`
import sys
sys.path.insert(0, sys.argv[1])
from reqset_runtime import cli, readers, zipwriter
mode, suffix, cpus = sys.argv[2], sys.argv[3], int(sys.argv[4])
zipwriter.usable_cpus = lambda: cpus
real = readers.TreeReader.size
def size(self, name):
    return real(self, name) + ((1 if mode == 'shrank' else -1) if name.endswith(suffix) else 0)
readers.TreeReader.size = size
sys.exit(cli.main(sys.argv[5:]))
`;

describe('members around the helper\'s CHUNK', () => {
  const variants = [
    ['descriptors', '1'],
    ['no-descriptors', '0'],
  ] as const;
  const chunky: Record<string, { wheel: string; tree: string; stored: string }> = {};

  before(async () => {
    for (const [label, unseekable] of variants) {
      const dir = await freshDir(`chunky-${label}`);
      const wheel = path.join(dir, 'chunky-1.0-py3-none-any.whl');
      await run(['python3', '-c', CHUNK_SCRIPT, wheel, unseekable]);
      const tree = path.join(dir, 'chunky-1.0-py3-none-any');
      await unpackWheelTree(wheel, tree);
      const stored = path.join(dir, 'chunky-1.0-py3-none-any.zip');
      await run(['python3', '-c', STORED_ZIP_SCRIPT, tree, stored]);
      chunky[label] = { wheel, tree, stored };
    }
  });

  for (const version of ['3.6', '3.11'] as const) {
    it(`rebuilds them byte for byte from a tree and from a stored zip, in one process and in two, on Python ${version}`, async () => {
      const python = TARGET_PYTHONS[version] as string;
      for (const [label] of variants) {
        const { wheel, tree, stored } = chunky[label] as { wheel: string; tree: string; stored: string };
        const expected = await sha256File(wheel);
        for (const source of [tree, stored]) {
          for (const cpus of ['1', '2']) {
            const script = `import sys\nsys.path.insert(0, sys.argv[1])\nfrom reqset_runtime import cli, zipwriter\nzipwriter.usable_cpus = lambda: ${cpus}\nsys.exit(cli.main(sys.argv[2:]))`;
            const result = await run([python, '-c', script, RUNTIME_HELPER, 'rebuild-wheel', source, await freshDir('out-chunky')]);
            const out = parseJsonLine<Rebuilt>(result.stdout);
            assert.equal(out.sha256, expected, `${label}, ${path.basename(source)}, ${cpus} CPU(s)`);
            assert.equal(await sha256File(out.path), expected);
          }
        }
      }
    });
  }

  it('fails when a file\'s size changed between its stat and its read, small or large, in one process or two', async () => {
    const { tree } = chunky.descriptors as { tree: string };
    const label = path.join(tree, 'chunky');
    for (const member of ['__init__.py', 'empty.txt', 'exact.bin', 'over.bin', 'text.txt']) {
      for (const mode of ['shrank', 'grew']) {
        for (const cpus of ['1', '2']) {
          const outdir = await freshDir('out-changed');
          const result = await run(['python3', '-c', CHANGED_SCRIPT, RUNTIME_HELPER, mode, member, cpus, 'rebuild-wheel', tree, outdir], { allowFailure: true });
          assertOneLineError(result, 1, `${path.join(label, member)}: changed while being read`);
          assert.deepEqual(await readdir(outdir), [], `${member} ${mode} ${cpus}`);
        }
      }
    }
  });
});

/** Parses each member of the JSON list in file argv[2] with the helper's reader: its fields, or the error. */
const MEMBER_SCRIPT = String.raw`
import json, sys
sys.path.insert(0, sys.argv[1])
from reqset_runtime import wheelinfo
doc = {'format': 1, 'filename': 'a-1.0-py3-none-any.whl', 'sha256': 'a' * 64, 'size': 1, 'comment': '', 'members': []}
out = []
for member in json.load(open(sys.argv[2])):
    doc['members'] = [member]
    try:
        m = wheelinfo.parse_wheel_info(doc, 'w').members[0]
        out.append([m.name, m.method, list(m.date_time), m.made_by, m.needed, m.flags, m.attr, m.internal_attr,
                    m.extra.hex(), m.local_extra.hex(), m.comment.hex()])
    except wheelinfo.HelperError as e:
        out.append(str(e))
print(json.dumps(out))
`;

describe('.reqset-wheel.json members', () => {
  const good = {
    name: 'pkg/a.py', method: 8, time: [2024, 1, 2, 3, 4, 6], madeBy: 788, needed: 20, flags: 0x0808,
    attr: 2175008768, extra: '5554', localExtra: '', comment: '00ff',
  };
  const w = 'w: members[0] (pkg/a.py)';
  const cases: [Record<string, unknown>, string][] = [
    [{ name: 1 }, 'w: members[0]: "name" must be a str'],
    [{ bogus: 1 }, `${w}: unknown key "bogus" (written by a newer reqset?)`],
    [{ name: 'a/../b' }, 'w: members[0] (a/../b): unsafe member name \'a/../b\''],
    [{ name: 'a//' }, 'w: members[0] (a//): unsafe member name \'a//\''],
    [{ name: '.reqset-wheel.json' }, 'w: members[0] (.reqset-wheel.json): member name \'.reqset-wheel.json\' is reserved'],
    [{ method: true }, `${w}: "method" must be an integer`],
    [{ method: '8' }, `${w}: "method" must be an integer`],
    [{ method: 12 }, `${w}: unsupported compression method 12`],
    [{ time: [2024, 1, 2, 3, 4] }, `${w}: "time" must be [year, month, day, hour, minute, second]`],
    [{ time: [2024, 1, 2, 3, 4, true] }, `${w}: "time" must be [year, month, day, hour, minute, second]`],
    [{ time: [1979, 1, 2, 3, 4, 6] }, `${w}: "time" [1979, 1, 2, 3, 4, 6] does not fit a DOS date-time`],
    [{ madeBy: 65536 }, `${w}: "madeBy" is out of range: 65536`],
    [{ needed: -1 }, `${w}: "needed" is out of range: -1`],
    [{ flags: null }, `${w}: "flags" must be an integer`],
    [{ attr: 4294967296 }, `${w}: "attr" is out of range: 4294967296`],
    [{ internalAttr: 65536 }, `${w}: "internalAttr" is out of range: 65536`],
    [{ extra: 'zz' }, `${w}: "extra" is not hexadecimal`],
    [{ localExtra: 5 }, `${w}: "localExtra" must be a str`],
    [{ comment: '00'.repeat(65536) }, `${w}: "comment" is too long`],
    [{ flags: 0x0809 }, `${w}: encrypted members are not supported`],
  ];

  it('reads a good member, with and without internalAttr, and names the first problem of a bad one', async () => {
    const members: unknown[] = [good, { ...good, internalAttr: 1 }];
    members.push(Object.fromEntries(Object.entries(good).filter(([key]) => key !== 'attr')));
    for (const [change] of cases) members.push({ ...good, ...change });
    const file = path.join(await freshDir('members'), 'members.json');
    await writeFile(file, JSON.stringify(members));
    const result = await run(['python3', '-c', MEMBER_SCRIPT, RUNTIME_HELPER, file]);
    const read = JSON.parse(result.stdout) as unknown[];
    assert.deepEqual(read.slice(0, 3), [
      ['pkg/a.py', 8, [2024, 1, 2, 3, 4, 6], 788, 20, 0x0808, 2175008768, 0, '5554', '', '00ff'],
      ['pkg/a.py', 8, [2024, 1, 2, 3, 4, 6], 788, 20, 0x0808, 2175008768, 1, '5554', '', '00ff'],
      `${w}: missing "attr"`,
    ]);
    assert.deepEqual(read.slice(3), cases.map(([, message]) => message));
  });
});
