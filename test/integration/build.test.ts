/**
 * `reqset build` as a whole: byte-identical packages from two builds that
 * differ in TZ, umask and working directory; a failed build leaves the previous
 * output as it was; a tampered wheel stops everything before anything is written.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256File } from '../../src/fsutil.ts';
import { run } from '../../src/run.ts';
import { buildWheel } from '../helpers/make-wheel.ts';
import { makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
/** tsx's loader by absolute URL: the child runs in other working directories. */
const TSX = import.meta.resolve('tsx');

/** The CLI in a child process, so TZ, umask and cwd are really different. */
function reqset(args: string[], options: { cwd: string; tz?: string; umask?: string }) {
  const command = `umask ${options.umask ?? '022'} && exec node --import "$0" "$@"`;
  return run(['sh', '-c', command, TSX, CLI, ...args], {
    cwd: options.cwd,
    env: { TZ: options.tz ?? 'UTC', NODE_OPTIONS: undefined },
    allowFailure: true,
  });
}

async function digests(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir)).sort();
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await sha256File(path.join(dir, f))] as const)));
}

describe('reqset build', () => {
  let ws: Workspace;
  before(async () => {
    ws = await makeWorkspace();
    await ws.writeReqset('ex', `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    await mkdir(path.join(ws.dir, 'specs'));
    await writeFile(path.join(ws.dir, 'specs', 'app.yml'), 'name: app\nreqset: ex\ndistribution: an_example_pypi_project\nsummary: Example\nscripts: [an-example]\n');
  });
  after(() => ws.cleanup());

  it('gives byte-identical .rpm and .deb files with another TZ, umask and working directory', async () => {
    const common = ['build', 'ex', '--target', 'el9-py311', '--target', 'debian12', '--workspace', ws.dir, '--wheel-cache', ws.cache, '--quiet'];
    const first = await reqset([...common, '--out', path.join(ws.dir, 'out-a')], { cwd: ws.dir, tz: 'UTC', umask: '022' });
    assert.equal(first.exitCode, 0, first.stderr);
    const elsewhere = path.join(ws.dir, 'elsewhere');
    await mkdir(elsewhere);
    // Without the package cache, so that the second build really packages everything again.
    await rename(path.join(ws.cache, 'packages'), path.join(ws.dir, 'packages-cache-a'));
    const second = await reqset([...common, '--out', path.join(ws.dir, 'out-b')], { cwd: elsewhere, tz: 'Asia/Tokyo', umask: '077' });
    assert.equal(second.exitCode, 0, second.stderr);
    for (const target of ['el9-py311', 'debian12']) {
      const a = await digests(path.join(ws.dir, 'out-a', 'ex', target, 'packages'));
      const b = await digests(path.join(ws.dir, 'out-b', 'ex', target, 'packages'));
      assert.equal(Object.keys(a).length, 9, `runtime, pins, 6 wheel packages and the endpoint for ${target}`);
      assert.deepEqual(b, a);
    }
    assert.doesNotMatch(second.stderr, /reused/, 'the second build packaged everything');
  });

  it('reuses every package of an unchanged build from the package cache; a corrupt entry is discarded, reported and rebuilt', async () => {
    const common = ['build', 'ex', '--target', 'el9-py311', '--workspace', ws.dir, '--wheel-cache', ws.cache];
    const first = await reqset([...common, '--out', path.join(ws.dir, 'out-c0')], { cwd: ws.dir });
    assert.equal(first.exitCode, 0, first.stderr);
    const again = await reqset([...common, '--out', path.join(ws.dir, 'out-c')], { cwd: ws.dir });
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stdout, /9 packages \(0 packaged, 9 reused\)/);
    assert.equal((again.stderr.match(/packages: reused /g) ?? []).length, 9, again.stderr);
    const expected = await digests(path.join(ws.dir, 'out-c0', 'ex', 'el9-py311', 'packages'));
    assert.deepEqual(await digests(path.join(ws.dir, 'out-c', 'ex', 'el9-py311', 'packages')), expected);
    const explained = await reqset(['explain', 'ex', '--target', 'el9-py311', '--out', path.join(ws.dir, 'out-c')], { cwd: ws.dir });
    assert.equal(explained.exitCode, 0, explained.stderr);
    assert.match(explained.stdout, /^ex-wheel-tinystats 1\.0-1 x86_64  first \(reused\)$/m);
    assert.match(explained.stdout, /^    requires ex-pydist\(tinyvec\) = 1\.0$/m, 'compiled against the pinned tinyvec: exactly that version');
    assert.match(explained.stdout, /^    input wheel: [0-9a-f]{64}$/m);
    const rebuiltLines = explained.stdout.match(/^    rebuilt wheel: .*$/gm) ?? [];
    assert.equal(rebuiltLines.length, 6, 'one per wheel package, none for the runtime, pins and endpoint packages');
    for (const line of rebuiltLines) assert.match(line, /^    rebuilt wheel: the original, byte for byte \(sha256 [0-9a-f]{64}\)$/);
    // A wheel deflated otherwise than zlib's default level (maturin's, or a zlib-ng target's) says so.
    const manifestFile = path.join(ws.dir, 'out-c', 'ex', 'el9-py311', 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { pins: { name: string; rebuiltWheel: { identical: boolean } }[] };
    const textfmt = manifest.pins.find((p) => p.name === 'textfmt');
    assert.ok(textfmt);
    textfmt.rebuiltWheel.identical = false;
    await writeFile(manifestFile, JSON.stringify(manifest));
    const otherwise = await reqset(['explain', 'ex', '--target', 'el9-py311', '--out', path.join(ws.dir, 'out-c')], { cwd: ws.dir });
    assert.match(otherwise.stdout, /^ex-wheel-textfmt [^\n]*\n(?: {4}[^\n]*\n)*? {4}rebuilt wheel: the same members and RECORD, deflated otherwise than the original \(sha256 [0-9a-f]{64}\)$/m);

    const cached = (await readdir(path.join(ws.cache, 'packages'), { recursive: true })).find((f) => f.endsWith('.rpm') && f.includes('wheel-textfmt'));
    assert.ok(cached);
    const file = path.join(ws.cache, 'packages', cached);
    const bytes = await readFile(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10);
    await rm(file);
    await writeFile(file, bytes);
    const repaired = await reqset([...common, '--out', path.join(ws.dir, 'out-d')], { cwd: ws.dir });
    assert.equal(repaired.exitCode, 0, repaired.stderr);
    assert.match(repaired.stderr, /warning .*discarded a bad package cache entry.*wheel-textfmt.*sha256 does not match/);
    assert.match(repaired.stdout, /9 packages \(1 packaged, 8 reused\)/);
    assert.deepEqual(await digests(path.join(ws.dir, 'out-d', 'ex', 'el9-py311', 'packages')), expected, 'rebuilt byte for byte');
  });

  it('the next run removes what a SIGKILLed build left; finished directories have normal modes', async () => {
    const out = path.join(ws.dir, 'out-k');
    const parent = path.join(out, 'ex');
    const args = ['build', 'ex', '--target', 'el9-py311', '--workspace', ws.dir, '--wheel-cache', path.join(ws.dir, 'cache-k'), '--out', out, '--quiet'];
    const child = spawn('node', ['--import', TSX, CLI, ...args], { cwd: ws.dir, stdio: 'ignore' });
    const killed = child.pid as number;
    // Killed while it packages: its staging directory and package work directories exist.
    const deadline = Date.now() + 300_000;
    const staging = async () => (await readdir(parent).catch(() => [] as string[])).filter((n) => n.startsWith('.el9-py311.tmp-'));
    while (Date.now() < deadline && !(await Promise.all((await staging()).map((n) => readdir(path.join(parent, n)).catch(() => [] as string[])))).some((e) => e.includes('packages'))) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    process.kill(killed, 'SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 3000)); // its rpmbuild children finish or die
    assert.ok((await staging()).some((n) => n.startsWith(`.el9-py311.tmp-${killed}-`)), 'the killed build left its staging directory');

    const next = await reqset(args, { cwd: ws.dir, umask: '022' });
    assert.equal(next.exitCode, 0, next.stderr);
    assert.deepEqual(await staging(), [], 'the next run removed the dead run\'s staging directory');
    const leftovers = (await readdir(tmpdir())).filter((n) => n.startsWith('reqset-') && n.includes(`-${killed}-`));
    assert.deepEqual(leftovers, [], 'and its temporary directories');
    assert.equal((await stat(path.join(parent, 'el9-py311'))).mode & 0o777, 0o755);
    assert.equal((await stat(path.join(parent, 'el9-py311', 'packages'))).mode & 0o777, 0o755);
  });

  it('records in the manifest the rebuilt wheel and whether it is identical', async () => {
    const manifest = JSON.parse(await readFile(path.join(ws.dir, 'out-a', 'ex', 'debian12', 'manifest.json'), 'utf8')) as {
      pins: { name: string; wheel: { sha256: string }; rebuiltWheel: { sha256: string; identical: boolean }; package: { file: string; requires: string[] } }[];
    };
    assert.equal(manifest.pins.length, 6);
    for (const pin of manifest.pins) {
      assert.equal(pin.rebuiltWheel.identical, pin.rebuiltWheel.sha256 === pin.wheel.sha256, pin.name);
      assert.ok(pin.rebuiltWheel.identical, `${pin.name}: the example wheels rebuild byte for byte`);
    }
  });

  it('a failed build leaves the previous output as it was', async () => {
    const out = path.join(ws.dir, 'out-a', 'ex', 'debian12');
    const before = await digests(path.join(out, 'packages'));
    await writeFile(path.join(ws.dir, 'specs', 'bad.yml'), 'name: bad\nreqset: ex\ndistribution: not-pinned\nsummary: Broken\n');
    try {
      const failed = await reqset(['build', 'ex', '--target', 'debian12', '--workspace', ws.dir, '--wheel-cache', ws.cache, '--out', path.join(ws.dir, 'out-a')], { cwd: ws.dir });
      assert.equal(failed.exitCode, 2);
      assert.match(failed.stderr, /specs\/bad\.yml:3: distribution: "not-pinned" is not pinned in reqsets\/ex\.txt/);
      assert.deepEqual(await digests(path.join(out, 'packages')), before);
      assert.deepEqual((await readdir(path.dirname(out))).filter((f) => f.startsWith('.')), [], 'no staging directory left behind');
    } finally {
      await run(['rm', '-f', path.join(ws.dir, 'specs', 'bad.yml')]);
    }
  });

  it('a corrupt or foreign --repo history is bad input naming it, with nothing written', async () => {
    const repo = path.join(ws.dir, 'bad-repo');
    await mkdir(path.join(repo, 'repodata'), { recursive: true });
    const build = () => reqset(['build', 'ex', '--target', 'el9-py311', '--workspace', ws.dir, '--wheel-cache', ws.cache, '--out', path.join(ws.dir, 'out-h'), '--repo', repo], { cwd: ws.dir });
    const foreign = await build();
    assert.equal(foreign.exitCode, 2, foreign.stderr);
    assert.match(foreign.stderr, /bad-repo holds a repository \(repodata\/\) but no reqset-history\.json/);
    await writeFile(path.join(repo, 'reqset-history.json'), '{"format": "reqset-history", "version": 1, "packages": {"x": [{"pep440": 1}]}}');
    const corrupt = await build();
    assert.equal(corrupt.exitCode, 2, corrupt.stderr);
    assert.match(corrupt.stderr, /bad-repo\/reqset-history\.json is not a reqset history file/);
    assert.equal(corrupt.stderr.trim().split('\n').filter((l) => !l.startsWith('  - ')).length, 1, corrupt.stderr);
    assert.equal(existsSync(path.join(ws.dir, 'out-h')), false, 'nothing written');
  });

  it('a tampered wheel is rejected with the wheel and the member named, nothing written', async () => {
    const links = path.join(ws.dir, 'tampered');
    await mkdir(links);
    // RECORD promises other content than the member has, as after tampering with the file.
    const tampered = buildWheel({
      name: 'sneaky',
      version: '1.0',
      files: { 'sneaky/__init__.py': 'x = 1\n' },
      record: (rows) => rows.map(([file, hash, size]) => (file === 'sneaky/__init__.py' ? [file, 'sha256=' + 'A'.repeat(43), size] : [file, hash, size])),
    });
    await writeFile(path.join(links, tampered.filename), tampered.buffer);
    await copyFile(path.join(ws.dist, 'setuptools-65.5.0-py3-none-any.whl'), path.join(links, 'setuptools-65.5.0-py3-none-any.whl'));
    await ws.writeReqset('sneaky', '--no-index\n--find-links ../tampered\nsneaky==1.0\n');
    const result = await reqset(['build', 'sneaky', '--workspace', ws.dir, '--wheel-cache', ws.cache, '--out', path.join(ws.dir, 'out-s')], { cwd: ws.dir });
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /sneaky-1\.0-py3-none-any\.whl/);
    assert.match(result.stderr, /sneaky\/__init__\.py/);
    const left = await readdir(path.join(ws.dir, 'out-s'), { recursive: true, withFileTypes: true }).catch(() => []);
    assert.deepEqual(left.filter((e) => !e.isDirectory()).map((e) => e.name), []);
  });
});
