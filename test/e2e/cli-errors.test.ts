/**
 * The command line on a hostile machine and with unusual input: an --out that
 * is a file, a read-only or full disk, a name too long, a --workspace that is
 * a file, pin lists pip accepts but reqset cannot package. Each is one line
 * naming the path or line and the fix, exit 2 (the user's input) or 1 (the
 * machine), never exit 70 with a stack trace, and leaves nothing behind,
 * also when interrupted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { run } from '../../src/run.ts';
import { makeWheel } from '../helpers/make-wheel.ts';

// The CLI from source (tsx by absolute URL, so any cwd works): the test does not depend on a fresh build/.
const TSX = import.meta.resolve('tsx');
const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const reqset = (args: string[], cwd?: string) => run(['node', '--import', TSX, MAIN, ...args], { allowFailure: true, cwd });

/** Every file and directory under `dir`, relative. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

/** Exactly one line `reqset: error: <message>`, no stack trace. */
function assertOneLine(stderr: string, message: RegExp) {
  const lines = stderr.split('\n').filter((l) => l && !/^\w+: failed /.test(l) /* a progress line */);
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] ?? '', message);
  assert.doesNotMatch(stderr, /internal error|\n\s+at /);
}

async function mountTmpfs(dir: string, options: string): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  const result = await run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', dir], { allowFailure: true });
  return result.exitCode === 0;
}

describe('reqset command line: OS errors and bad paths', () => {
  let root: string;
  let ws: string;
  const mounts: string[] = [];
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'reqset-cli-errors-'));
    ws = path.join(root, 'ws');
    await mkdir(path.join(ws, 'reqsets'), { recursive: true });
    const links = path.join(root, 'links');
    // 512 KiB that do not compress: more than the full disk below holds.
    await makeWheel(links, { name: 'big', version: '1.0', files: { 'big/__init__.py': '', 'big/blob.bin': randomBytes(512 * 1024) } });
    await writeFile(path.join(ws, 'reqsets', 'big.txt'), `--no-index\n--find-links ${links}\nbig==1.0\n`);
    await writeFile(path.join(root, 'a-file'), 'not a directory\n');
  });
  after(async () => {
    for (const dir of mounts) await run(['umount', dir], { allowFailure: true });
    await rm(root, { recursive: true, force: true });
  });

  const wheels = (out: string, extra: string[] = []) => reqset(['wheels', 'big', '--workspace', ws, '--out', out, '--wheel-cache', path.join(root, 'cache'), ...extra], root);

  it('--out that is a regular file is bad input: exit 2, one line, the file untouched', async () => {
    const before = await tree(root);
    const result = await wheels(path.join(root, 'a-file'));
    assert.equal(result.exitCode, 2, result.stderr);
    assertOneLine(result.stderr, new RegExp(`^reqset: error: --out ${path.join(root, 'a-file')} is a file, not a directory: choose another --out, or remove the file$`));
    const below = await wheels(path.join(root, 'a-file', 'sub'));
    assert.equal(below.exitCode, 2, below.stderr);
    assertOneLine(below.stderr, new RegExp(`--out ${path.join(root, 'a-file', 'sub')} is not a directory \\(${path.join(root, 'a-file')} is a file\\)`));
    assert.deepEqual(await tree(root), before);
  });

  it('--out "" is an error, not a build into the current directory', async () => {
    const cwd = path.join(root, 'empty-cwd');
    await mkdir(cwd);
    const result = await reqset(['wheels', 'big', '--workspace', ws, '--out', '', '--wheel-cache', path.join(root, 'cache')], cwd);
    assert.equal(result.exitCode, 2, result.stderr);
    assertOneLine(result.stderr, /^reqset: error: --out is empty: name the output directory/);
    assert.deepEqual(await tree(cwd), []);
  });

  it('--workspace that is a file, or missing, is bad input: exit 2, one line', async () => {
    for (const command of [['targets'], ['check', 'big']]) {
      const file = await reqset([...command, '--workspace', path.join(root, 'a-file')], root);
      assert.equal(file.exitCode, 2, file.stderr);
      assertOneLine(file.stderr, new RegExp(`^reqset: error: --workspace ${path.join(root, 'a-file')} is a file, not a directory: point --workspace at the directory holding reqsets/`));
      const missing = await reqset([...command, '--workspace', path.join(root, 'nope')], root);
      assert.equal(missing.exitCode, 2, missing.stderr);
      assertOneLine(missing.stderr, new RegExp(`^reqset: error: --workspace ${path.join(root, 'nope')} does not exist: point --workspace`));
    }
  });

  it('--out on a read-only file system: exit 1, "read-only file system", not ENOENT', async () => {
    const ro = path.join(root, 'ro');
    assert.ok(await mountTmpfs(ro, 'size=1m,ro'), 'cannot mount a tmpfs here: the tests run as root');
    mounts.push(ro);
    const result = await wheels(path.join(ro, 'out'));
    assert.equal(result.exitCode, 1, result.stderr);
    assertOneLine(result.stderr, new RegExp(`^reqset: error: cannot write ${path.join(ro, 'out')} \\(read-only file system\\): choose another --out on a writable file system$`));
    assert.doesNotMatch(result.stderr, /ENOENT|no such file/);
    assert.deepEqual(await tree(ro), []);
  });

  it('a full disk under --out: exit 1, "no space left on device", no partial wheelhouse', async () => {
    const full = path.join(root, 'full');
    assert.ok(await mountTmpfs(full, 'size=256k'), 'cannot mount a tmpfs here: the tests run as root');
    mounts.push(full);
    const result = await wheels(path.join(full, 'out'));
    assert.equal(result.exitCode, 1, result.stderr);
    assertOneLine(result.stderr, new RegExp(`^reqset: error: cannot write ${path.join(full, 'out')}/\\S+ \\(no space left on device\\): free some space on its file system or choose another --out$`));
    // The staging directory and its partial wheel are gone (only the empty parents stagingDirFor made remain).
    assert.deepEqual(await tree(full), ['out', 'out/big', 'out/big/debian12']);
  });

  it('a file name too long: exit 1, one line naming the path', async () => {
    const out = path.join(root, 'x'.repeat(300));
    const result = await wheels(out);
    assert.equal(result.exitCode, 1, result.stderr);
    assertOneLine(result.stderr, /^reqset: error: cannot write \S+ \(file name too long\): choose a shorter --out$/);
    assert.ok(!(await tree(root)).some((f) => f.startsWith('xxx')));
  });
});

describe('reqset command line: the top-level handler', () => {
  /** Runs `reqset targets --json` (which always writes) in-process with a stdout whose write throws `error`. */
  async function failingStdout(error: Error) {
    let stderr = '';
    const io = {
      stdout: { write: () => { throw error; } } as unknown as NodeJS.WriteStream,
      stderr: { write: (s: string) => { stderr += s; return true; } } as unknown as NodeJS.WriteStream,
    };
    return { exitCode: await main(['targets', '--json'], io), stderr };
  }
  const fsError = (code: string, message: string, syscall: string, file: string) => Object.assign(new Error(`${code}: ${message}, ${syscall} '${file}'`), { code, errno: -1, syscall, path: file });

  it('every expected OS error is one line naming the path, exit 1', async () => {
    const cases: [Error, string][] = [
      [fsError('EACCES', 'permission denied', 'open', '/srv/out/x'), 'cannot open /srv/out/x (permission denied): fix its permissions'],
      [fsError('EISDIR', 'illegal operation on a directory', 'open', '/srv/out/x'), 'cannot open /srv/out/x (it is a directory): remove or rename that directory'],
      [fsError('EEXIST', 'file already exists', 'mkdir', '/srv/out/x'), 'cannot write /srv/out/x (it already exists): remove it'],
      [fsError('EDQUOT', 'disk quota exceeded', 'write', '/srv/out/x'), 'cannot write /srv/out/x (disk quota exceeded): free some space within your quota'],
      [fsError('ENOTDIR', 'not a directory', 'scandir', '/srv/ws/packaging/targets'), 'cannot read /srv/ws/packaging/targets (a part of the path is a file, not a directory): remove or rename that file'],
    ];
    for (const [error, message] of cases) {
      const result = await failingStdout(error);
      assert.equal(result.exitCode, 1, result.stderr);
      assert.equal(result.stderr, `reqset: error: ${message}\n`);
    }
  });

  it('a real bug still exits 70 with its stack trace', async () => {
    const bug = await failingStdout(new TypeError("Cannot read properties of undefined (reading 'name')"));
    assert.equal(bug.exitCode, 70);
    assert.match(bug.stderr, /^reqset: internal error \(this is a bug in reqset, please report it\):\nTypeError: Cannot read properties of undefined/);
    assert.match(bug.stderr, /\n\s+at /);
    // An fs-looking error with an unexpected code, or without a path, is a bug too.
    const odd = await failingStdout(Object.assign(new Error('EBADF: bad file descriptor, read'), { code: 'EBADF', syscall: 'read', path: '/x' }));
    assert.equal(odd.exitCode, 70);
    const noPath = await failingStdout(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }));
    assert.equal(noPath.exitCode, 70);
  });
});

describe('reqset command line: pin lists reqset cannot package', () => {
  let ws: string;
  before(async () => {
    ws = await mkdtemp(path.join(tmpdir(), 'reqset-cli-pins-'));
    await mkdir(path.join(ws, 'reqsets'));
    await writeFile(path.join(ws, 'reqsets', 'vcs.txt'), 'six==1.17.0\ngit+https://github.com/benjaminp/six.git#egg=six\n');
    await writeFile(path.join(ws, 'reqsets', 'editable.txt'), 'six==1.17.0\n-e .\n');
    await writeFile(path.join(ws, 'reqsets', 'dups.txt'), 'six==1.17.0\n'.repeat(10_000));
    await writeFile(path.join(ws, 'reqsets', 'wide.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('six==1.17.0\nidna==3.7\n', 'utf16le')]));
  });
  after(() => rm(ws, { recursive: true, force: true }));

  const check = (name: string) => reqset(['check', name, '--workspace', ws, '--wheel-cache', path.join(ws, 'cache')], ws);
  const problemsOf = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('  '));

  it('a VCS requirement is named as one, not read as a package named git', async () => {
    const result = await check('vcs');
    assert.equal(result.exitCode, 2, result.stderr);
    assert.deepEqual(problemsOf(result.stderr), [
      '  - reqsets/vcs.txt:2: "git+https://github.com/benjaminp/six.git#egg=six": VCS/URL requirements cannot be pinned by version: build the wheel, add it with --find-links and pin "six==<version>"',
    ]);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it('-e . says editable installs cannot be packaged', async () => {
    const result = await check('editable');
    assert.equal(result.exitCode, 2, result.stderr);
    assert.deepEqual(problemsOf(result.stderr), [
      '  - reqsets/editable.txt:2: editable installs cannot be packaged: build a wheel of ".", add its directory with --find-links and pin it by version ("name==<version>")',
    ]);
  });

  it('10,000 duplicate lines give 20 problems and a count, not 10,000 lines', async () => {
    const result = await check('dups');
    assert.equal(result.exitCode, 2, result.stderr);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'reqset: error: reqsets/dups.txt: 9999 problems in the pin list');
    assert.equal(lines.length, 22);
    assert.equal(lines.at(-1), '  ... and 9979 more problems');
  });

  it('a UTF-16 pin list is named as an encoding problem, once', async () => {
    const result = await check('wide');
    assert.equal(result.exitCode, 2, result.stderr);
    assert.deepEqual(problemsOf(result.stderr), ['  - reqsets/wide.txt: not UTF-8 text (it looks like UTF-16): save it as UTF-8']);
    assert.equal(await tree(ws).then((t) => t.filter((f) => f.startsWith('cache'))).then((c) => c.length), 0);
  });
});

describe('reqset command line: interrupted', () => {
  let root: string;
  let ws: string;
  // An index that accepts connections and never answers: pip waits on it, so the command is mid-work when signalled.
  const sockets: Socket[] = [];
  const index = createServer((socket) => sockets.push(socket));
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'reqset-cli-signals-'));
    ws = path.join(root, 'ws');
    await mkdir(path.join(ws, 'reqsets'), { recursive: true });
    index.listen(0, '127.0.0.1');
    await once(index, 'listening');
    const { port } = index.address() as AddressInfo;
    await writeFile(path.join(ws, 'reqsets', 'stalled.txt'), `--index-url http://127.0.0.1:${port}/simple\nstalled==1.0\n`);
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    index.close();
    await rm(root, { recursive: true, force: true });
  });

  for (const [signal, exitCode] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: exit ${exitCode}, its temporary directory removed`, async () => {
      const tmp = path.join(root, `tmp-${signal}`);
      await mkdir(tmp);
      const args = ['check', 'stalled', '--workspace', ws, '--wheel-cache', path.join(root, 'cache'), '--quiet'];
      const child = spawn('node', ['--import', TSX, MAIN, ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
      const exited = once(child, 'exit');
      const ours = async () => (await readdir(tmp)).filter((n) => n.startsWith('reqset-'));
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && (await ours()).length === 0 && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual((await ours()).map((n) => n.replace(/-\d+-\w{6}$/, '')), ['reqset-check'], 'check is at work in its temporary directory');
      child.kill(signal);
      assert.deepEqual(await exited, [exitCode, null]);
      assert.deepEqual(await ours(), []);
    });
  }
});
