/**
 * Fault injection for tests: the CLI in a child process with its own TMPDIR,
 * killed (SIGKILL, its whole process group) at an exact point (see halt.ts)
 * or after a delay; small tmpfs mounts to fill or make read-only; what a run
 * left behind; and what a reader of an output or repository would see.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sha256, sha256File } from '../../src/fsutil.ts';
import { field, parseStanzas, releaseHashes } from '../../src/publish/release.ts';
import { parsePrimary, parseRepomd } from '../../src/publish/repomd.ts';
import { run } from '../../src/run.ts';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const HALT = path.resolve(import.meta.dirname, 'halt.ts');
/** tsx's loader by absolute URL: the child may run in another working directory. */
const TSX = import.meta.resolve('tsx');

/** A private temporary directory; tsx keeps its cache out of it, so all it holds is reqset's. */
const childEnv = (tmp: string) => ({ TMPDIR: tmp, TSX_DISABLE_CACHE: '1', NODE_OPTIONS: undefined });

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `reqset <args>` in a child process whose temporary directory is `tmp`. */
export async function reqsetCli(args: string[], options: { tmp: string; cwd?: string }): Promise<CliResult> {
  await mkdir(options.tmp, { recursive: true });
  const result = await run(['node', '--import', TSX, CLI, ...args], {
    cwd: options.cwd,
    env: childEnv(options.tmp),
    allowFailure: true,
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

export interface KilledRun {
  /** The pid of the killed reqset: its temporary directories carry it. */
  pid: number;
  /** The path at which the run halted (undefined: killed by the delay, or it ended first). */
  haltedAt?: string;
  killed: boolean;
  exitCode: number | null;
}

/**
 * Runs `reqset <args>` and SIGKILLs its process group (reqset and the tools it
 * runs) when it halts at `halt` (`<fs function>:<regex>[:<n>]`, see halt.ts)
 * or `afterMs` after the start. A test-only harness: killing a process group
 * needs child_process directly.
 */
export async function reqsetKilled(args: string[], options: { tmp: string; halt?: string; afterMs?: number }): Promise<KilledRun> {
  await mkdir(options.tmp, { recursive: true });
  const mark = path.join(options.tmp, '..', `halt-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...childEnv(options.tmp) };
  if (options.halt) Object.assign(env, { REQSET_TEST_HALT: options.halt, REQSET_TEST_HALT_MARK: mark });
  const child = spawn('node', ['--import', TSX, '--import', HALT, CLI, ...args], { env, detached: true, stdio: 'ignore' });
  const pid = child.pid as number;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + (options.afterMs ?? 300_000);
  while (!done && Date.now() < deadline && !existsSync(mark)) await new Promise((resolve) => setTimeout(resolve, 10));
  const haltedAt = existsSync(mark) ? (await readFile(mark, 'utf8')).trim() : undefined;
  const killed = !done;
  if (killed) process.kill(-pid, 'SIGKILL');
  const exitCode = await exited;
  // The tools it ran are in its process group; wait until the last of them is gone.
  while (await groupAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  return { pid, haltedAt, killed, exitCode };
}

async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What runs left in `dirs` (searched recursively): staging directories
 * (`.<name>.tmp-*`), temporary directories (`reqset-<kind>-<pid>-XXXXXX`), locks.
 */
export async function residue(dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const e of entries) if (/\.tmp-|^reqset-.*-\d+-\w{6}$|\.lock$|^\.reqset/.test(e.name)) found.push(path.join(e.parentPath, e.name));
  }
  return found.sort();
}

/** Regular files below `dir`, relative, sorted. */
export async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

/** Every file of a directory with its sha256. */
export async function digests(dir: string): Promise<Record<string, string>> {
  const files = await filesIn(dir);
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await sha256File(path.join(dir, f))] as const)));
}

/** The run failed with exit `code` and said so in one line: no stack trace, no "internal error". */
export function assertOneLineError(result: CliResult, code: number, message: RegExp): string {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(result.exitCode, code, result.stderr);
  assert.equal(lines.length, 1, `one line:\n${result.stderr}`);
  const line = lines[0] ?? '';
  assert.match(line, /^reqset: error: /);
  assert.doesNotMatch(line, /internal error|\bat .*:\d+:\d+/);
  assert.match(line, message);
  return line;
}

/**
 * A build output `<out>/<reqset>/<target>` as a reader finds it: 'absent', or
 * 'whole' (manifest.json names every package, each there with its sha256).
 */
export async function buildOutputState(dir: string): Promise<'absent' | 'whole'> {
  if (!existsSync(dir)) return 'absent';
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as {
    runtime: { path: string; sha256: string };
    pinsPackage: { path: string; sha256: string };
    pins: { package: { path: string; sha256: string } }[];
  };
  const packages = [manifest.runtime, manifest.pinsPackage, ...manifest.pins.map((p) => p.package)];
  for (const p of packages) assert.equal(await sha256File(path.join(dir, p.path)), p.sha256, `${dir}: ${p.path} as manifest.json says`);
  assert.deepEqual(await filesIn(path.join(dir, 'packages')), packages.map((p) => path.relative('packages', p.path)).sort(), `${dir}: only the manifest's packages`);
  return 'whole';
}

const readMaybeGz = async (file: string) => (file.endsWith('.gz') ? gunzipSync(await readFile(file)).toString('utf8') : readFile(file, 'utf8'));

/** A yum/dnf repository as a reader finds it: every file repomd.xml and primary name, checked; the package files listed. */
export async function rpmRepoPackages(repo: string): Promise<string[]> {
  const records = parseRepomd(await readFile(path.join(repo, 'repodata', 'repomd.xml'), 'utf8'));
  for (const record of records) assert.equal(await sha256File(path.join(repo, record.href)), record.checksum.value, `${record.href} as repomd.xml says`);
  const primary = records.find((r) => r.type === 'primary');
  assert.ok(primary, 'repomd.xml names primary');
  const packages = parsePrimary(await readMaybeGz(path.join(repo, primary.href)));
  for (const p of packages) assert.equal(await sha256File(path.join(repo, p.href)), p.sha256, `${p.href} as primary says`);
  return packages.map((p) => path.basename(p.href)).sort();
}

/**
 * An apt repository as apt finds it (Release says Acquire-By-Hash): every
 * index Release names, read by its hash and checked; the package files the
 * Packages indexes list, checked. `plainNames`: the indexes under their plain
 * names too, which a publish replaces just before Release.
 */
export async function aptRepoPackages(repo: string, dist: string, plainNames = false): Promise<string[]> {
  const distDir = path.join(repo, 'dists', dist);
  const hashes = releaseHashes(await readFile(path.join(distDir, 'Release'), 'utf8'));
  assert.ok(hashes.size > 0, 'Release names its indexes');
  let index = '';
  for (const [rel, expected] of hashes) {
    const data = await readFile(path.join(distDir, path.dirname(rel), 'by-hash', 'SHA256', expected.sha256));
    assert.deepEqual({ sha256: sha256(data), size: data.length }, expected, `${rel} by hash, as Release says`);
    if (plainNames) assert.equal(sha256(await readFile(path.join(distDir, rel))), expected.sha256, `${rel} as Release says`);
    if (rel.endsWith('/Packages')) index += `${data.toString('utf8')}\n`;
  }
  const stanzas = parseStanzas(index);
  for (const s of stanzas) assert.equal(await sha256File(path.join(repo, field(s, 'Filename') ?? '')), field(s, 'SHA256'), `${field(s, 'Filename')} as Packages says`);
  return stanzas.map((s) => path.basename(field(s, 'Filename') ?? '')).sort();
}

/** A tmpfs of `size` (mount(8) syntax, e.g. 512k) at `dir`, which is created. */
export async function mountTmpfs(dir: string, size: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run(['mount', '-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
}

/** Changes the options of a mounted tmpfs, e.g. 'ro', 'rw', 'size=64m'. */
export async function remount(dir: string, options: string): Promise<void> {
  await run(['mount', '-o', `remount,${options}`, dir]);
}

export async function unmount(dir: string): Promise<void> {
  await run(['umount', dir], { allowFailure: true });
}
