/**
 * `publish` into a yum/dnf repository with the real createrepo_c,
 * modifyrepo_c, makedeltarpm, applydeltarpm, rpmsign and dnf: v1, v2 (textfmt
 * 1.0.0 -> 1.1.0, every package release 2 by --release) and v3 (release 3) of
 * the example reqset, 8 packages each (runtime, pins, 6 wheels). Checks what dnf reads, that every published delta rebuilds its new
 * package byte for byte, pruning, idempotency, signatures, and that failures,
 * SIGKILL at any moment and concurrent publishes leave a usable repository.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { ToolError, InputError } from '../../src/errors.ts';
import { sha256, sha256File } from '../../src/fsutil.ts';
import { formatReport, publish, type PublishReport } from '../../src/publish/index.ts';
import { acquireLock } from '../../src/publish/lock.ts';
import { parsePrestodelta } from '../../src/publish/prestodelta.ts';
import { parsePrimary, parseRepomd } from '../../src/publish/repomd.ts';
import { run } from '../../src/run.ts';
import type { Target } from '../../src/targets/target.ts';
import { buildPublishVersions, conflictingV2, snapshot, withFakeTools, type PublishVersions, type Version } from '../helpers/publish-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const REQSET = 'demo';
const TSX = ['node', '--import', 'tsx'];

const readMaybeGz = async (file: string) => (file.endsWith('.gz') ? gunzipSync(await readFile(file)).toString('utf8') : readFile(file, 'utf8'));

interface RepoState {
  packages: ReturnType<typeof parsePrimary>;
  presto: ReturnType<typeof parsePrestodelta>;
  repodataFiles: string[];
}

/**
 * What a reader sees must be whole: every repodata file repomd.xml names has
 * its checksum and size, every package and delta the metadata names is there
 * with its checksum, and nothing half-done is visible.
 */
async function checkConsistent(dir: string): Promise<RepoState> {
  const repomd = await readFile(path.join(dir, 'repodata', 'repomd.xml'), 'utf8');
  const records = parseRepomd(repomd);
  assert.ok(records.some((r) => r.type === 'primary'), 'repomd.xml names primary');
  for (const record of records) {
    const file = path.join(dir, record.href);
    assert.ok(existsSync(file), `${record.href} named by repomd.xml exists`);
    assert.equal(record.checksum.type, 'sha256');
    assert.equal(await sha256File(file), record.checksum.value, `${record.href} checksum`);
    if (record.openChecksum && file.endsWith('.gz')) assert.equal(sha256(gunzipSync(await readFile(file))), record.openChecksum.value);
  }
  const href = (type: string) => records.find((r) => r.type === type)?.href;
  const packages = parsePrimary(await readMaybeGz(path.join(dir, href('primary') as string)));
  for (const p of packages) assert.equal(await sha256File(path.join(dir, p.href)), p.sha256, `${p.href} as primary.xml says`);
  const prestoHref = href('prestodelta');
  const presto = prestoHref ? parsePrestodelta(await readMaybeGz(path.join(dir, prestoHref))) : [];
  for (const pkg of presto) {
    assert.ok(packages.some((p) => p.name === pkg.name && p.version === pkg.version && p.release === pkg.release && p.arch === pkg.arch), `delta target ${pkg.name} is published`);
    for (const d of pkg.deltas) {
      assert.equal(await sha256File(path.join(dir, d.filename)), d.sha256, `${d.filename} checksum`);
      assert.ok(packages.some((p) => p.name === pkg.name && p.version === d.old.version && p.release === d.old.release), `delta source of ${d.filename} is published`);
    }
  }
  const repodataFiles = (await readdir(path.join(dir, 'repodata'))).sort();
  return { packages, presto, repodataFiles };
}

/** The real dnf reading the repository (no install root needed for a query). */
async function dnfAvailable(dir: string, gpg?: { key: string }): Promise<string[]> {
  const root = await mkdtemp(path.join(tmpdir(), 'reqset-dnfq-'));
  try {
    const result = await run([
      'dnf', '-q', '-y', `--installroot=${root}`, '--releasever=1', '--setopt=reposdir=/nonexistent', '--disablerepo=*',
      `--repofrompath=pub,file://${dir}`, '--enablerepo=pub',
      ...(gpg ? ['--setopt=pub.gpgcheck=1', '--setopt=pub.repo_gpgcheck=1', `--setopt=pub.gpgkey=file://${gpg.key}`] : ['--setopt=pub.gpgcheck=0']),
      'repoquery', '--available', '--qf', '%{name}-%{evr}.%{arch}',
    ], { timeoutMs: 120_000 });
    return result.stdout.split('\n').filter(Boolean).sort();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe('publish into a dnf repository', () => {
  let versions: PublishVersions;
  let work: string;
  let target: Target;
  let packages: PublishVersions['packages'];
  let built: PublishVersions['built'];
  let baseline: string;
  let baselineSnapshot: Record<string, string>;
  /** Packages of one build: runtime, pins and the 6 wheel packages. */
  let N = 0;
  const progress: string[] = [];
  const pub = (version: Version, repo: string, extra: Partial<Parameters<typeof publish>[0]> = {}) =>
    publish({ reqset: REQSET, target, packagesDir: packages[version], repo, progress: (l) => progress.push(l), ...extra });

  before(async () => {
    versions = await buildPublishVersions(REQSET, 'el9-py311');
    ({ target, packages, built, count: N } = versions);
    work = await mkdtemp(path.join(tmpdir(), 'reqset-publish-rpm-'));
  });
  after(async () => {
    await versions?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('v1 then v2: dnf reads it, every changed package has a delta from v1 that rebuilds v2 byte for byte', async () => {
    const repo = path.join(work, 'repo');
    assert.equal(N, 8, 'runtime, pins and 6 wheel packages');
    const first = await pub('v1', repo);
    assert.equal(first.changed, true);
    assert.equal(first.added.length, N);
    assert.equal(first.upgraded.length, 0);
    const report = await pub('v2', repo);
    assert.equal(report.changed, true);
    assert.deepEqual(report.warnings, []);
    assert.equal(report.upgraded.length, N, 'release 2 of every package');
    const textfmt = report.upgraded.find((u) => u.name === 'demo-wheel-textfmt');
    assert.deepEqual([textfmt?.oldVersions, textfmt?.newVersion], [['1.0-1'], '1.1-2']);
    for (const u of report.upgraded) {
      assert.equal(u.deltas.length, 1, u.name);
      const delta = u.deltas[0]!;
      assert.ok(delta.size < u.fullSize, `${u.name}: delta smaller than the package`);
      assert.equal(delta.ratio, delta.size / u.fullSize);
    }
    assert.equal(report.totals.deltas, N);
    assert.ok(report.totals.ratio < 0.25, `one version behind downloads ${report.totals.ratio}`);
    const printed = formatReport(report);
    assert.match(printed, /demo-wheel-textfmt +1\.0-1 +1\.1-2 +\d+\.\d KiB +\d+\.\d KiB +\d+\.\d%/);
    assert.match(printed, new RegExp(`^total \\(${N} packages, one version behind\\)`, 'm'));
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);

    const state = await checkConsistent(repo);
    assert.deepEqual(
      await dnfAvailable(repo),
      [...api.manifestPackages(built.v1.manifest), ...api.manifestPackages(built.v2.manifest)]
        .map((p) => `${p.name}-${p.version}.${p.arch}`)
        .sort(),
    );
    // prestodelta.xml: one delta v1 -> v2 for each of the 8 packages; each verified here again, independently.
    assert.equal(state.presto.length, N);
    for (const pkg of state.presto) {
      assert.equal(pkg.release, '2');
      assert.equal(pkg.deltas.length, 1);
      const d = pkg.deltas[0]!;
      assert.equal(d.old.release, '1');
      const oldRpm = state.packages.find((p) => p.name === pkg.name && p.release === '1')!;
      const newRpm = state.packages.find((p) => p.name === pkg.name && p.release === '2')!;
      const rebuilt = path.join(work, 'rebuilt.rpm');
      await run(['applydeltarpm', '-r', path.join(repo, oldRpm.href), path.join(repo, d.filename), rebuilt]);
      assert.equal(await sha256File(rebuilt), newRpm.sha256, `${d.filename} rebuilds ${newRpm.href}`);
      await rm(rebuilt);
      const info = await run(['applydeltarpm', '-i', path.join(repo, d.filename)]);
      assert.match(info.stdout, new RegExp(`^sequence: ${d.sequence}$`, 'm'), 'sequence as makedeltarpm recorded it');
      assert.ok(d.sequence.startsWith(`${pkg.name}-${d.old.version}-${d.old.release}-`));
      assert.equal((await readFile(path.join(repo, d.filename))).length, d.size);
    }
    // Nothing left behind; the history names both builds' packages, v2 as the latest revision.
    assert.deepEqual((await readdir(repo)).sort(), ['Packages', 'drpms', 'repodata', 'reqset-history.json']);
    const history = JSON.parse(await readFile(path.join(repo, 'reqset-history.json'), 'utf8')) as { packages: Record<string, { file: string }[]>; latest: Record<string, string[]> };
    assert.deepEqual(Object.values(history.packages).flat().map((e) => e.file).sort(), state.packages.map((p) => path.basename(p.href)).sort());
    assert.deepEqual(history.latest[REQSET], api.manifestPackages(built.v2.manifest).map((p) => p.file).sort());
    baseline = path.join(work, 'baseline');
    await cp(repo, baseline, { recursive: true, preserveTimestamps: true });
    baselineSnapshot = await snapshot(baseline);
  });

  it('publishing the same build again changes nothing (same files, same repomd.xml bytes)', async () => {
    const repo = path.join(work, 'again');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    const report = await pub('v2', repo);
    assert.equal(report.changed, false);
    assert.deepEqual(await snapshot(repo), baselineSnapshot);
    assert.match(formatReport(report), /unchanged/);
    // Re-publishing an older build that is still kept changes no package or metadata either;
    // the history records it as the reqset's latest publish.
    assert.equal((await pub('v1', repo)).changed, false);
    const { 'reqset-history.json': history, ...rest } = await snapshot(repo);
    const { 'reqset-history.json': baselineHistory, ...baselineRest } = baselineSnapshot;
    assert.deepEqual(rest, baselineRest);
    assert.notEqual(history, baselineHistory);
    const latest = (JSON.parse(await readFile(path.join(repo, 'reqset-history.json'), 'utf8')) as { latest: Record<string, string[]> }).latest[REQSET];
    assert.deepEqual(latest, api.manifestPackages(built.v1.manifest).map((p) => p.file).sort());
    // Nor does a copy of the repository that lost the files' mtimes (checksums decide).
    const copy = path.join(work, 'again-copy');
    await cp(baseline, copy, { recursive: true });
    assert.equal((await pub('v2', copy)).changed, false);
    assert.deepEqual(await snapshot(copy), baselineSnapshot);
  });

  it('v3 with keep=1 prunes v1 and its deltas, keeps the previous repodata generation only', async () => {
    const repo = path.join(work, 'keep1');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    const before = parseRepomd(await readFile(path.join(repo, 'repodata', 'repomd.xml'), 'utf8'));
    const report = await pub('v3', repo, { keep: 1 });
    assert.equal(report.pruned.length, N);
    assert.ok(report.pruned.every((p) => p.version.endsWith('-1')));
    for (const u of report.upgraded) {
      assert.deepEqual(u.deltas.map((d) => d.fromVersion.replace(/.*-/, '')), ['2'], `${u.name}: only v2 is kept, so one delta`);
      assert.deepEqual(u.oldVersions.map((v) => v.replace(/.*-/, '')), ['2', '1']);
    }
    const state = await checkConsistent(repo);
    assert.deepEqual([...new Set(state.packages.map((p) => p.release))].sort(), ['2', '3']);
    const files = await readdir(path.join(repo, 'Packages'));
    assert.equal(files.length, 2 * N);
    assert.ok(!files.some((f) => /-1\.(noarch|x86_64)\.rpm$/.test(f)), 'v1 files deleted');
    assert.deepEqual((await readdir(path.join(repo, 'drpms'))).sort(), state.presto.flatMap((p) => p.deltas.map((d) => path.basename(d.filename))).sort());
    const after = parseRepomd(await readFile(path.join(repo, 'repodata', 'repomd.xml'), 'utf8'));
    const expected = new Set(['repomd.xml', ...[...before, ...after].map((r) => path.basename(r.href))]);
    assert.deepEqual(state.repodataFiles, [...expected].sort(), 'current and previous generation only');
    assert.deepEqual((await dnfAvailable(repo)).filter((n) => n.startsWith('demo-wheel-textfmt-')), ['demo-wheel-textfmt-1.1-2.noarch', 'demo-wheel-textfmt-1.1-3.noarch']);
    // A third publish drops the first generation's repodata.
    await pub('v1', repo, { keep: 1 }).then((r) => assert.match(r.warnings.join('\n'), /older than the 2 newest versions/));
  });

  it('keep=0 keeps only the newest versions and makes no deltas', async () => {
    const repo = path.join(work, 'keep0');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    const report = await pub('v3', repo, { keep: 0 });
    assert.equal(report.pruned.length, 2 * N);
    assert.equal(report.totals.deltas, 0);
    assert.equal(report.totals.updateSize, report.totals.fullSize);
    const state = await checkConsistent(repo);
    assert.equal(state.presto.length, 0);
    assert.deepEqual(await readdir(path.join(repo, 'drpms')), []);
    assert.equal((await dnfAvailable(repo)).length, N);
  });

  it('a package already published with other content is refused, nothing written', async () => {
    const repo = path.join(work, 'conflict');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    // The v2 build with its runtime package replaced by another one of the same name and version.
    const dir = await conflictingV2(versions, work, REQSET);
    await assert.rejects(publish({ reqset: REQSET, target, packagesDir: dir, repo }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /^1 package is already published .* with different content/);
      assert.match(error.message, /demo-runtime-0\.1-2\.noarch\.rpm.*build with --repo pointing at this repository, so reqset gives changed packages the next release/);
      return true;
    });
    assert.deepEqual(await snapshot(repo), baselineSnapshot);
    await assert.rejects(publish({ reqset: REQSET, target, packagesDir: path.join(work, 'missing'), repo }), InputError);
    await assert.rejects(publish({ reqset: REQSET, target, packagesDir: dir, repo, keep: -1 }), /--keep must be/);
  });

  it('a signed repository: rpm -K with the imported key, gpg --verify of repomd.xml.asc, dnf with gpgcheck', async () => {
    const gnupg = await mkdtemp(path.join(tmpdir(), 'reqset-gpg-'));
    try {
      await chmod(gnupg, 0o700);
      const env = { GNUPGHOME: gnupg };
      await run(['gpg', '--batch', '--passphrase', '', '--quick-gen-key', 'reqset test <t@example.invalid>', 'rsa2048', 'sign', 'never'], { env });
      const fpr = /^fpr:+([0-9A-F]+):/m.exec((await run(['gpg', '--batch', '--with-colons', '--list-keys'], { env })).stdout)?.[1] as string;
      const keyFile = path.join(gnupg, 'public.asc');
      await writeFile(keyFile, (await run(['gpg', '--batch', '--armor', '--export', fpr], { env })).stdout);
      const repo = path.join(work, 'signed');
      await pub('v1', repo, { sign: fpr, gpgHome: gnupg });
      const report = await pub('v2', repo, { sign: fpr, gpgHome: gnupg });
      assert.equal(report.signed, true);
      assert.equal(report.totals.deltas, N, 'deltas rebuild the signed packages');
      const state = await checkConsistent(repo);
      const rpmdb = path.join(gnupg, 'rpmdb');
      await mkdir(rpmdb);
      await run(['rpm', '--dbpath', rpmdb, '--import', keyFile]);
      const checked = await run(['rpm', '--dbpath', rpmdb, '-K', ...state.packages.map((p) => path.join(repo, p.href))]);
      assert.equal(checked.stdout.split('\n').filter((l) => l.endsWith(': digests signatures OK')).length, 2 * N, checked.stdout);
      const verify = await run(['gpg', '--batch', '--verify', path.join(repo, 'repodata', 'repomd.xml.asc'), path.join(repo, 'repodata', 'repomd.xml')], { env });
      assert.match(verify.stderr, /Good signature from "reqset test/);
      assert.equal((await dnfAvailable(repo, { key: keyFile })).length, 2 * N);
      // Same build again: nothing re-signed, nothing changed.
      const snap = await snapshot(repo);
      assert.equal((await pub('v2', repo, { sign: fpr, gpgHome: gnupg })).changed, false);
      assert.deepEqual(await snapshot(repo), snap);
      await assert.rejects(pub('v2', repo, { sign: 'nobody@example.invalid', gpgHome: gnupg }), /no secret key/);
      // Signing a repository whose earlier packages were published unsigned: said, not silently left.
      const mixed = path.join(work, 'mixed');
      await pub('v1', mixed);
      const mixedReport = await pub('v2', mixed, { sign: fpr, gpgHome: gnupg });
      assert.match(mixedReport.warnings.join('\n'), new RegExp(`^${N} packages already in the repository are not signed \\(published without --sign\\): demo-`, 'm'));
    } finally {
      await run(['gpgconf', '--homedir', gnupg, '--kill', 'gpg-agent'], { allowFailure: true });
      await rm(gnupg, { recursive: true, force: true });
    }
  });

  it('a failing createrepo_c leaves the published metadata untouched; the next publish succeeds', async () => {
    const repo = path.join(work, 'failing');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    await withFakeTools({ createrepo_c: 'echo "fake createrepo_c: disk full" >&2; exit 1' }, async () => {
      await assert.rejects(pub('v3', repo), (error: unknown) => error instanceof ToolError && /disk full/.test(error.message));
    });
    const after = await snapshot(repo);
    for (const [file, hash] of Object.entries(baselineSnapshot)) assert.equal(after[file], hash, `${file} untouched`);
    assert.deepEqual(Object.keys(after).filter((f) => !(f in baselineSnapshot) && !f.startsWith('Packages/') && !f.startsWith('drpms/')), [], 'only unreferenced new packages/deltas');
    assert.ok(!(await readdir(repo)).some((f) => f.startsWith('.')), 'no staging directory or lock left');
    assert.equal((await dnfAvailable(repo)).length, 2 * N);
    const report = await pub('v3', repo);
    assert.equal(report.upgraded.length, N);
    const state = await checkConsistent(repo);
    assert.equal(state.packages.length, 3 * N);
    assert.equal(state.presto.reduce((n, p) => n + p.deltas.length, 0), 2 * N, 'v1 -> v3 and v2 -> v3');
  });

  it('a delta that does not rebuild the new package is dropped with a warning, not published', async () => {
    const repo = path.join(work, 'baddelta');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    // applydeltarpm that runs the real one, then damages its output: verification must catch it.
    const report = await withFakeTools({ applydeltarpm: '/usr/bin/applydeltarpm "$@" || exit $?\nfor last; do :; done\nprintf x >> "$last"' }, () => pub('v3', repo));
    assert.equal(report.totals.deltas, 0);
    assert.equal(report.warnings.length, 2 * N);
    assert.match(report.warnings[0] ?? '', /not published: applydeltarpm did not reproduce the new package byte for byte/);
    assert.match(formatReport(report), /^warning: delta .* not published/m);
    const state = await checkConsistent(repo);
    assert.equal(state.presto.length, 0);
    assert.deepEqual(await readdir(path.join(repo, 'drpms')), []);
    assert.equal((await dnfAvailable(repo)).length, 3 * N);
  });

  const childScript = async () => {
    const file = path.join(work, 'publish-child.mts');
    await writeFile(
      file,
      [
        `import { publish } from ${JSON.stringify(path.join(ROOT, 'src', 'publish', 'index.ts'))};`,
        `import { loadTarget } from ${JSON.stringify(path.join(ROOT, 'src', 'targets', 'target.ts'))};`,
        'const [packagesDir, repo, keep] = process.argv.slice(2);',
        `const target = await loadTarget(${JSON.stringify(ROOT)}, 'el9-py311');`,
        `const report = await publish({ reqset: ${JSON.stringify(REQSET)}, target, packagesDir, repo, keep: Number(keep), jobs: 1, progress: (l) => process.stderr.write(l + '\\n') });`,
        'process.stdout.write(JSON.stringify(report));',
      ].join('\n'),
    );
    return file;
  };

  /**
   * Starts the child publish in its own process group and SIGKILLs the group
   * (publish and the tools it runs) when a progress line matches or after a
   * delay, whichever comes first. A test-only harness: streaming stderr needs
   * child_process directly.
   */
  const runAndKill = (argv: string[], when: { line?: RegExp; afterMs?: number }) =>
    new Promise<{ killed: boolean; stderr: string }>((resolve, reject) => {
      const child = spawn(argv[0] as string, argv.slice(1), { cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let killed = false;
      const kill = () => {
        if (killed || child.exitCode !== null || !child.pid) return;
        killed = true;
        process.kill(-child.pid, 'SIGKILL');
      };
      const timer = when.afterMs === undefined ? undefined : setTimeout(kill, when.afterMs);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (when.line?.test(stderr)) kill();
      });
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        resolve({ killed, stderr });
      });
    });

  /**
   * Starts the child publish; `said(re)` resolves once its stderr matches.
   * A test-only harness, like runAndKill: watching stderr needs child_process.
   */
  const startChild = (argv: string[]) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const listeners: (() => void)[] = [];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const listener of listeners) listener();
    });
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    const said = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => pattern.test(stderr) && resolve();
        listeners.push(check);
        check();
      });
    return { done, said };
  };

  it('SIGKILL at any moment leaves repodata consistent and usable; the next publish takes over and finishes', async (t) => {
    const child = await childScript();
    const repo = path.join(work, 'killed');
    const reset = async () => {
      await rm(repo, { recursive: true, force: true });
      await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    };
    await reset();
    const started = Date.now();
    await run([...TSX, child, packages.v3, repo, '1'], { cwd: ROOT });
    const full = Date.now() - started;
    const expected = await snapshot(repo);
    const expectedFiles = Object.keys(expected).filter((f) => f.startsWith('Packages/') || f.startsWith('drpms/')).sort();
    const moments: { label: string; line?: RegExp; afterMs?: number }[] = [
      { label: 'while starting', afterMs: Math.round(full * 0.3) },
      { label: 'after the first delta', line: /^publish: delta /m },
      { label: 'while createrepo_c runs', line: /^publish: createrepo_c/m },
      { label: 'right after the switch, before clean-up', line: /repomd\.xml switched/ },
      { label: 'at 60% of a full run', afterMs: Math.round(full * 0.6) },
      { label: 'at 90% of a full run', afterMs: Math.round(full * 0.9) },
    ];
    let interrupted = 0;
    const generations = new Set<string>();
    for (const moment of moments) {
      await reset();
      const result = await runAndKill([...TSX, child, packages.v3, repo, '1'], moment);
      if (result.killed) interrupted++;
      const state = await checkConsistent(repo);
      const names = new Set(state.packages.map((p) => `${p.name}-${p.release}`));
      assert.ok(names.size === 2 * N, `one whole generation published after a kill ${moment.label}: ${[...names].join(' ')}`);
      const releases = [...new Set(state.packages.map((p) => p.release))].sort().join('+');
      generations.add(releases);
      const leftovers = (await readdir(repo)).filter((f) => f.startsWith('.'));
      t.diagnostic(`killed ${moment.label}: ${result.killed ? 'killed' : 'finished first'}, releases published ${releases}, leftovers ${leftovers.join(' ') || 'none'}`);
      assert.equal((await dnfAvailable(repo)).length, 2 * N);
      await pub('v3', repo, { keep: 1 });
      await checkConsistent(repo);
      const after = await snapshot(repo);
      assert.deepEqual(Object.keys(after).filter((f) => f.startsWith('Packages/') || f.startsWith('drpms/')).sort(), expectedFiles, `same packages and deltas after a kill ${moment.label}`);
      assert.equal(after['reqset-history.json'], expected['reqset-history.json'], `same history after a kill ${moment.label}`);
      assert.ok(!(await readdir(repo)).some((f) => f.startsWith('.')), 'leftovers and the stale lock are gone');
    }
    assert.ok(interrupted >= 4, `${interrupted} of ${moments.length} runs were really killed mid-way (full run ${full} ms)`);
    assert.deepEqual([...generations].sort(), ['1+2', '2+3'], 'kills landed before and after the switch');
  });

  it('two concurrent publishes serialise on the lock: one publishes, the other then finds nothing to do', async () => {
    const child = await childScript();
    const repo = path.join(work, 'concurrent');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    // Hold the lock until both children wait for it (however slowly they start), then let them go.
    const release = await acquireLock(repo);
    const children = [startChild([...TSX, child, packages.v3, repo, '1']), startChild([...TSX, child, packages.v3, repo, '1'])];
    const waiting = new RegExp(`^publish: waiting for pid ${process.pid} on`, 'm');
    await Promise.race([Promise.all(children.map((c) => c.said(waiting))), ...children.map((c) => c.done)]);
    await release();
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    for (const r of results) assert.match(r.stderr, /publish: waiting for pid \d+ on .* to finish publishing/);
    assert.ok(results.some((r) => r.stderr.includes(`waiting for pid ${process.pid} on`)), 'a child waited for the lock this test held');
    const reports = results.map((r) => JSON.parse(r.stdout) as PublishReport);
    assert.deepEqual(reports.map((r) => r.changed).sort(), [false, true]);
    const state = await checkConsistent(repo);
    assert.equal(state.packages.length, 2 * N);
    assert.ok(!(await readdir(repo)).some((f) => f.startsWith('.')));
  });
});
