/**
 * `publish` into an apt repository, read back by the host's real apt-get
 * (its own state directories, nothing of the host's configuration) with
 * by-hash forced: v1, v2 (textfmt 1.0.0 -> 1.1.0, revision 2 everywhere by
 * --release) and v3 (revision 3) of the example reqset, 8 packages each
 * (runtime, pins, 6 wheels). Indexes agree with
 * dpkg-scanpackages; Release lists every index with the right hashes;
 * by-hash files of the previous Release survive a publish; pruning,
 * idempotency, signatures checked by apt through signed-by, and failures
 * that leave the published indexes untouched.
 */
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { InputError, ToolError } from '../../src/errors.ts';
import { sha256, sha256File } from '../../src/fsutil.ts';
import { formatReport, publish } from '../../src/publish/index.ts';
import { field, parseStanzas, releaseHashes } from '../../src/publish/release.ts';
import { run } from '../../src/run.ts';
import type { Target } from '../../src/targets/target.ts';
import { buildPublishVersions, conflictingV2, snapshot, withFakeTools, type PublishVersions, type Version } from '../helpers/publish-fixtures.ts';

const REQSET = 'demo';
const DIST = 'dists/bookworm';

/** Release names every index with its size and hashes, and each has its by-hash copy. */
async function checkConsistent(repo: string, dist = DIST): Promise<{ release: string; packages: ReturnType<typeof parseStanzas> }> {
  const release = await readFile(path.join(repo, dist, 'Release'), 'utf8');
  const hashes = releaseHashes(release);
  assert.deepEqual([...hashes.keys()].sort(), ['main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz', 'main/binary-amd64/Packages.xz']);
  for (const [rel, { sha256: hash, size }] of hashes) {
    const file = path.join(repo, dist, rel);
    const data = await readFile(file);
    assert.equal(data.length, size, `${rel} size`);
    assert.equal(sha256(data), hash, `${rel} sha256`);
    assert.equal(await sha256File(path.join(repo, dist, path.dirname(rel), 'by-hash', 'SHA256', hash)), hash, `${rel} by-hash`);
  }
  const md5 = /^MD5Sum:\n((?: .*\n)+)/m.exec(release)?.[1] ?? '';
  assert.equal(md5.trim().split('\n').length, 3, 'MD5Sum lists the same indexes');
  const text = await readFile(path.join(repo, dist, 'main/binary-amd64/Packages'), 'utf8');
  assert.equal(gunzipSync(await readFile(path.join(repo, dist, 'main/binary-amd64/Packages.gz'))).toString('utf8'), text);
  assert.equal((await run(['xz', '-dc', path.join(repo, dist, 'main/binary-amd64/Packages.xz')])).stdout, text);
  const packages = parseStanzas(text);
  for (const p of packages) assert.equal(await sha256File(path.join(repo, field(p, 'Filename') as string)), field(p, 'SHA256'));
  return { release, packages };
}

/** The host's apt-get and apt-cache on a private state: what a client sees. */
async function aptClient(repo: string, options: { signedBy?: string; components?: string } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'reqset-aptc-'));
  await mkdir(path.join(dir, 'state', 'lists', 'partial'), { recursive: true });
  await mkdir(path.join(dir, 'cache', 'archives', 'partial'), { recursive: true });
  await writeFile(path.join(dir, 'status'), '');
  await writeFile(path.join(dir, 'sources.list'), `deb [${options.signedBy ? `signed-by=${options.signedBy}` : 'trusted=yes'}] file:${repo} bookworm ${options.components ?? 'main'}\n`);
  const config = [
    `Dir::Etc::SourceList=${path.join(dir, 'sources.list')}`, 'Dir::Etc::SourceParts=/nonexistent', `Dir::State=${path.join(dir, 'state')}`,
    `Dir::State::status=${path.join(dir, 'status')}`, `Dir::Cache=${path.join(dir, 'cache')}`, 'Dir::Etc::trusted=/nonexistent',
    'Dir::Etc::trustedparts=/nonexistent', 'APT::Architecture=amd64', 'Acquire::By-Hash=force', 'Debug::NoLocking=1',
  ].flatMap((c) => ['-o', c]);
  try {
    const update = await run(['apt-get', ...config, 'update'], { allowFailure: true });
    const madison = await run(['apt-cache', ...config, 'madison', 'demo-wheel-textfmt', 'demo-wheel-tinyvec', 'demo-runtime'], { allowFailure: true });
    return { update, versions: madison.stdout.split('\n').filter(Boolean).map((l) => l.split('|').map((c) => c.trim()).slice(0, 2).join(' ')).sort() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('publish into an apt repository', () => {
  let versions: PublishVersions;
  let work: string;
  let target: Target;
  let baseline: string;
  let baselineSnapshot: Record<string, string>;
  let packages: PublishVersions['packages'];
  let built: PublishVersions['built'];
  /** Packages of one build: runtime, pins and the 6 wheel packages. */
  let N = 0;
  const pub = (version: Version, repo: string, extra: Partial<Parameters<typeof publish>[0]> = {}) =>
    publish({ reqset: REQSET, target, packagesDir: packages[version], repo, ...extra });

  before(async () => {
    versions = await buildPublishVersions(REQSET, 'debian12');
    ({ target, packages, built, count: N } = versions);
    work = await mkdtemp(path.join(tmpdir(), 'reqset-publish-apt-'));
  });
  after(async () => {
    await versions?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('v1 then v2: pool layout, indexes as dpkg-scanpackages sees them, Release with hashes, apt reads it by hash', async () => {
    const repo = path.join(work, 'repo');
    assert.equal(N, 8, 'runtime, pins and 6 wheel packages');
    assert.equal((await pub('v1', repo)).added.length, N);
    const report = await pub('v2', repo);
    assert.equal(report.format, 'deb');
    assert.equal(report.upgraded.length, N);
    const textfmt = report.upgraded.find((u) => u.name === 'demo-wheel-textfmt');
    assert.deepEqual([textfmt?.oldVersions, textfmt?.newVersion, textfmt?.file], [['1.0-1'], '1.1-2', 'pool/main/d/demo-wheel-textfmt/demo-wheel-textfmt_1.1-2_all.deb']);
    assert.match(formatReport(report), new RegExp(`^total \\(${N} packages\\) +\\d+\\.\\d KiB$`, 'm'));

    const { release, packages: stanzas } = await checkConsistent(repo);
    for (const line of ['Origin: reqset', 'Suite: bookworm', 'Codename: bookworm', 'Architectures: amd64', 'Components: main', 'Acquire-By-Hash: yes']) {
      assert.match(release, new RegExp(`^${line.replace(/[()]/g, '\\$&')}$`, 'm'));
    }
    assert.match(release, /^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} UTC$/m);
    assert.equal(stanzas.length, 2 * N);
    assert.ok(stanzas.some((s) => field(s, 'Architecture') === 'all') && stanzas.some((s) => field(s, 'Architecture') === 'amd64'), '`all` packages are in binary-amd64');

    // The same stanzas dpkg-scanpackages makes from the pool (apart from SHA1, which apt does not need).
    const scanned = new Map(parseStanzas((await run(['dpkg-scanpackages', '--multiversion', 'pool'], { cwd: repo })).stdout).map((s) => [field(s, 'Filename'), s]));
    assert.equal(scanned.size, 2 * N);
    for (const stanza of stanzas) {
      const theirs = scanned.get(field(stanza, 'Filename'));
      assert.ok(theirs, field(stanza, 'Filename'));
      const fields = (s: typeof stanza) => Object.fromEntries(s.fields.filter(([k]) => k !== 'SHA1'));
      assert.deepEqual(fields(stanza), fields(theirs));
    }

    const client = await aptClient(repo);
    assert.equal(client.update.exitCode, 0, client.update.stderr);
    assert.deepEqual(client.versions, ['demo-runtime 0.1-1', 'demo-runtime 0.1-2', 'demo-wheel-textfmt 1.0-1', 'demo-wheel-textfmt 1.1-2', 'demo-wheel-tinyvec 1.0-1', 'demo-wheel-tinyvec 1.0-2']);
    // By hash alone: the plain index names are not needed.
    const byHashOnly = path.join(work, 'by-hash-only');
    await cp(repo, byHashOnly, { recursive: true });
    for (const name of ['Packages', 'Packages.gz', 'Packages.xz']) await rm(path.join(byHashOnly, DIST, 'main/binary-amd64', name));
    const hashClient = await aptClient(byHashOnly);
    assert.equal(hashClient.update.exitCode, 0, hashClient.update.stderr);
    assert.equal(hashClient.versions.length, 6);
    assert.deepEqual((await readdir(repo)).sort(), ['dists', 'pool', 'reqset-history.json']);
    const history = JSON.parse(await readFile(path.join(repo, 'reqset-history.json'), 'utf8')) as { packages: Record<string, { file: string }[]>; latest: Record<string, string[]> };
    assert.deepEqual(Object.values(history.packages).flat().map((e) => e.file).sort(), stanzas.map((s) => path.basename(field(s, 'Filename') as string)).sort());
    assert.deepEqual(history.latest[REQSET], api.manifestPackages(built.v2.manifest).map((p) => p.file).sort());
    baseline = path.join(work, 'baseline');
    await cp(repo, baseline, { recursive: true, preserveTimestamps: true });
    baselineSnapshot = await snapshot(baseline);
  });

  it('publishing the same build again changes nothing', async () => {
    const repo = path.join(work, 'again');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    assert.equal((await pub('v2', repo)).changed, false);
    assert.deepEqual(await snapshot(repo), baselineSnapshot);
    // An older build still published: no package or index changes; the history records it as the latest publish.
    assert.equal((await pub('v1', repo)).changed, false);
    const { 'reqset-history.json': history, ...rest } = await snapshot(repo);
    const { 'reqset-history.json': baselineHistory, ...baselineRest } = baselineSnapshot;
    assert.deepEqual(rest, baselineRest);
    assert.notEqual(history, baselineHistory);
    const latest = (JSON.parse(await readFile(path.join(repo, 'reqset-history.json'), 'utf8')) as { latest: Record<string, string[]> }).latest[REQSET];
    assert.deepEqual(latest, api.manifestPackages(built.v1.manifest).map((p) => p.file).sort());
  });

  it('v3 with keep=1 prunes v1 from the pool; the previous Release keeps its by-hash indexes', async () => {
    const repo = path.join(work, 'keep1');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    const previous = releaseHashes(await readFile(path.join(repo, DIST, 'Release'), 'utf8'));
    const report = await pub('v3', repo, { keep: 1 });
    assert.equal(report.pruned.length, N);
    assert.ok(report.pruned.every((p) => p.version.endsWith('-1')));
    const { packages: stanzas, release } = await checkConsistent(repo);
    assert.deepEqual([...new Set(stanzas.map((s) => (field(s, 'Version') as string).replace(/.*-/, '')))].sort(), ['2', '3']);
    const pool = (await readdir(path.join(repo, 'pool'), { recursive: true })).filter((f) => f.endsWith('.deb'));
    assert.equal(pool.length, 2 * N);
    const byHash = (await readdir(path.join(repo, DIST, 'main/binary-amd64/by-hash/SHA256'))).sort();
    const current = releaseHashes(release);
    assert.deepEqual(byHash, [...new Set([...previous.values(), ...current.values()].map((h) => h.sha256))].sort(), 'by-hash: this and the previous Release only');
    // A client still holding the previous Release finds every index it names.
    for (const [rel, h] of previous) assert.equal(await sha256File(path.join(repo, DIST, path.dirname(rel), 'by-hash', 'SHA256', h.sha256)), h.sha256);
    const client = await aptClient(repo);
    assert.equal(client.update.exitCode, 0, client.update.stderr);
    assert.deepEqual(client.versions.filter((v) => v.startsWith('demo-wheel-textfmt')), ['demo-wheel-textfmt 1.1-2', 'demo-wheel-textfmt 1.1-3']);
  });

  it('signed: Release.gpg and InRelease verify, apt accepts the repository through signed-by and refuses another key', async () => {
    const gnupg = await mkdtemp(path.join(tmpdir(), 'reqset-gpg-'));
    try {
      await chmod(gnupg, 0o700);
      const env = { GNUPGHOME: gnupg };
      const key = async (uid: string) => {
        await run(['gpg', '--batch', '--passphrase', '', '--quick-gen-key', uid, 'rsa2048', 'sign', 'never'], { env });
        const fpr = /^fpr:+([0-9A-F]+):/m.exec((await run(['gpg', '--batch', '--with-colons', '--list-keys', uid], { env })).stdout)?.[1] as string;
        const file = path.join(gnupg, `${fpr}.asc`);
        await writeFile(file, (await run(['gpg', '--batch', '--armor', '--export', fpr], { env })).stdout);
        return { fpr, file };
      };
      const good = await key('reqset test <t@example.invalid>');
      const other = await key('someone else <e@example.invalid>');
      const repo = path.join(work, 'signed');
      await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
      const report = await pub('v3', repo, { sign: good.fpr, gpgHome: gnupg });
      assert.equal(report.signed, true);
      const dist = path.join(repo, DIST);
      assert.match((await run(['gpg', '--batch', '--verify', path.join(dist, 'Release.gpg'), path.join(dist, 'Release')], { env })).stderr, /Good signature from "reqset test/);
      assert.match((await run(['gpg', '--batch', '--verify', path.join(dist, 'InRelease')], { env })).stderr, /Good signature from "reqset test/);
      assert.match(await readFile(path.join(dist, 'InRelease'), 'utf8'), /^-----BEGIN PGP SIGNED MESSAGE-----/);
      const trusted = await aptClient(repo, { signedBy: good.file });
      assert.equal(trusted.update.exitCode, 0, trusted.update.stderr);
      assert.doesNotMatch(trusted.update.stderr, /NO_PUBKEY|not signed|insecure/i);
      assert.equal(trusted.versions.length, 9);
      const refused = await aptClient(repo, { signedBy: other.file });
      assert.match(refused.update.stdout + refused.update.stderr, /NO_PUBKEY|not signed|is not signed|signatures couldn't be verified/);
      // Same build again: nothing re-signed.
      const snap = await snapshot(repo);
      assert.equal((await pub('v3', repo, { sign: good.fpr, gpgHome: gnupg })).changed, false);
      assert.deepEqual(await snapshot(repo), snap);
    } finally {
      await run(['gpgconf', '--homedir', gnupg, '--kill', 'gpg-agent'], { allowFailure: true });
      await rm(gnupg, { recursive: true, force: true });
    }
  });

  it('a failing index compressor leaves the published indexes untouched; the next publish succeeds', async () => {
    const repo = path.join(work, 'failing');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    await withFakeTools({ xz: 'echo "fake xz: no space left" >&2; exit 1' }, async () => {
      await assert.rejects(pub('v3', repo), (error: unknown) => error instanceof ToolError && /no space left/.test(error.message));
    });
    const after = await snapshot(repo);
    for (const [file, hash] of Object.entries(baselineSnapshot)) assert.equal(after[file], hash, `${file} untouched`);
    assert.deepEqual(Object.keys(after).filter((f) => !(f in baselineSnapshot) && !f.startsWith('pool/') && !f.includes('/by-hash/')), [], 'only unreferenced new pool and by-hash files');
    assert.ok(!(await readdir(repo)).some((f) => f.startsWith('.')), 'no staging directory or lock left');
    await checkConsistent(repo);
    const report = await pub('v3', repo);
    assert.equal(report.upgraded.length, N, 'pool files left by the failed run are published and reported now');
    assert.equal((await checkConsistent(repo)).packages.length, 3 * N);
  });

  it('suites share the pool: another suite reuses the files and its pruning never removes what bookworm lists', async () => {
    const repo = path.join(work, 'suites');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    const first = await pub('v2', repo, { suite: 'candidate', keep: 0 });
    assert.equal(first.added.length, N);
    assert.equal(first.upgraded.length, 0, 'nothing was in this suite before');
    assert.deepEqual(await snapshot(path.join(repo, 'pool')), Object.fromEntries(Object.entries(baselineSnapshot).filter(([f]) => f.startsWith('pool/')).map(([f, h]) => [f.slice(5), h])), 'no pool file added');
    const second = await pub('v3', repo, { suite: 'candidate', keep: 0 });
    assert.equal(second.pruned.length, N);
    const candidate = await checkConsistent(repo, 'dists/candidate');
    assert.equal(candidate.packages.length, N);
    const bookworm = await checkConsistent(repo);
    assert.equal(bookworm.packages.length, 2 * N, 'bookworm still lists v1 and v2, and their files are still in the pool');
    const now = await snapshot(repo);
    for (const [file, hash] of Object.entries(baselineSnapshot)) if (file !== 'reqset-history.json') assert.equal(now[file], hash, `${file} untouched`);
    // The pool is shared, so is the history: it has v3's packages too, whichever suite they went to.
    const history = JSON.parse(await readFile(path.join(repo, 'reqset-history.json'), 'utf8')) as { packages: Record<string, { file: string }[]> };
    const recorded = new Set(Object.values(history.packages).flat().map((e) => e.file));
    for (const p of api.manifestPackages(built.v3.manifest)) assert.ok(recorded.has(p.file), `${p.file} in the history`);
    // Another component of bookworm: Release lists both, apt reads both.
    await pub('v3', repo, { component: 'extra' });
    const release = await readFile(path.join(repo, DIST, 'Release'), 'utf8');
    assert.match(release, /^Components: extra main$/m);
    assert.deepEqual([...releaseHashes(release).keys()].map((k) => k.split('/')[0]).sort(), ['extra', 'extra', 'extra', 'main', 'main', 'main']);
    const client = await aptClient(repo, { components: 'main extra' });
    assert.equal(client.update.exitCode, 0, client.update.stderr);
    assert.ok(client.versions.includes('demo-wheel-textfmt 1.1-3') && client.versions.includes('demo-wheel-textfmt 1.0-1'), client.versions.join(', '));
  });

  it('a package already published with other content is refused, nothing written', async () => {
    const repo = path.join(work, 'conflict');
    await cp(baseline, repo, { recursive: true, preserveTimestamps: true });
    // The v2 build with its runtime package replaced by another one of the same name and version.
    const dir = await conflictingV2(versions, work, REQSET);
    await assert.rejects(publish({ reqset: REQSET, target, packagesDir: dir, repo }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /already published .* with different content/);
      assert.match(error.message, /demo-runtime_0\.1-2_all\.deb.*build with --repo pointing at this repository, so reqset gives changed packages the next revision/);
      assert.equal(error.problems.length, 1, error.message);
      return true;
    });
    assert.deepEqual(await snapshot(repo), baselineSnapshot);
    await assert.rejects(publish({ reqset: REQSET, target, packagesDir: dir, repo, suite: 'bad/suite' }), /--suite/);
  });
});
