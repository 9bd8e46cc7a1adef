/**
 * `publish` of fpm-built packages, as test/integration/publish-rpm.test.ts
 * and publish-apt.test.ts do with the native ones: v1 and v2 (textfmt 1.0.0
 * -> 1.1.0, every package release 2) of the example reqset. Into a dnf
 * repository: every package of v2 gets a delta from v1 that rebuilds it byte
 * for byte (checked by publish and again here), and dnf reads the result.
 * Into an apt repository: apt-get in a Debian 12 root installs from it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { sha256File } from '../../src/fsutil.ts';
import { parsePrestodelta } from '../../src/publish/prestodelta.ts';
import { parsePrimary, parseRepomd } from '../../src/publish/repomd.ts';
import { run } from '../../src/run.ts';
import { freshRoot } from '../helpers/target-root.ts';
import { serve } from '../helpers/serve.ts';
import { makeUpgradeWorkspaces, type Workspace } from '../helpers/workspace.ts';

const REQSET = 'demo';
const FPM_RUN = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'vendor', 'fpm-run');
if (!existsSync(FPM_RUN)) throw new Error(`test environment: ${FPM_RUN} (fpm 1.17.0 for the fpm backend's tests) is missing; it comes with ../shared/vendor`);

const readMaybeGz = async (file: string) => (file.endsWith('.gz') ? gunzipSync(await readFile(file)).toString('utf8') : readFile(file, 'utf8'));

describe('publish of fpm-built packages', () => {
  let v1: Workspace;
  let v2: Workspace;
  let work: string;

  /** v1 and v2 of `target` built with fpm, into the workspaces' own --out. */
  async function buildBoth(target: string) {
    const options = (ws: Workspace, release: string) => ({ workspace: ws.dir, out: ws.out, wheelCache: v1.cache, jobs: 2, release, packager: 'fpm' as const });
    return { v1: await api.buildTarget(REQSET, target, options(v1, '1')), v2: await api.buildTarget(REQSET, target, options(v2, '2')) };
  }

  before(async () => {
    process.env.REQSET_FPM = FPM_RUN;
    ({ v1, v2 } = await makeUpgradeWorkspaces(REQSET));
    work = await mkdtemp(path.join(tmpdir(), 'reqset-fpm-publish-'));
  });
  after(async () => {
    delete process.env.REQSET_FPM;
    await v1?.cleanup();
    await v2?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('RPM: v1 then v2, every package has a delta that rebuilds it byte for byte, dnf reads the repository', async () => {
    const built = await buildBoth('el9-py311');
    const repo = path.join(work, 'rpm');
    const publish = (ws: Workspace) => api.publish(REQSET, 'el9-py311', { workspace: ws.dir, out: ws.out, repo });
    await publish(v1);
    const report = await publish(v2);
    const count = api.manifestPackages(built.v1.manifest).length;
    assert.deepEqual(report.warnings, []);
    assert.equal(report.upgraded.length, count, 'release 2 of every package');
    assert.equal(report.totals.deltas, count);

    const records = parseRepomd(await readFile(path.join(repo, 'repodata', 'repomd.xml'), 'utf8'));
    const href = (type: string) => path.join(repo, records.find((r) => r.type === type)?.href as string);
    const packages = parsePrimary(await readMaybeGz(href('primary')));
    const presto = parsePrestodelta(await readMaybeGz(href('prestodelta')));
    assert.equal(presto.length, count);
    for (const pkg of presto) {
      const delta = pkg.deltas[0]!;
      const oldRpm = packages.find((p) => p.name === pkg.name && p.release === '1')!;
      const newRpm = packages.find((p) => p.name === pkg.name && p.release === '2')!;
      const rebuilt = path.join(work, 'rebuilt.rpm');
      await run(['applydeltarpm', '-r', path.join(repo, oldRpm.href), path.join(repo, delta.filename), rebuilt]);
      assert.equal(await sha256File(rebuilt), newRpm.sha256, `${delta.filename} rebuilds ${newRpm.href}`);
      await rm(rebuilt);
    }

    const root = await mkdtemp(path.join(tmpdir(), 'reqset-dnfq-'));
    try {
      const query = await run([
        'dnf', '-q', '-y', `--installroot=${root}`, '--releasever=1', '--setopt=reposdir=/nonexistent', '--disablerepo=*',
        `--repofrompath=pub,file://${repo}`, '--enablerepo=pub', '--setopt=pub.gpgcheck=0', 'repoquery', '--available', '--qf', '%{name}-%{evr}.%{arch}',
      ], { timeoutMs: 120_000 });
      const expected = [...api.manifestPackages(built.v1.manifest), ...api.manifestPackages(built.v2.manifest)].map((p) => `${p.name}-${p.version}.${p.arch}`);
      assert.deepEqual(query.stdout.split('\n').filter(Boolean).sort(), expected.sort());
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('DEB: v1 then v2 into an apt repository, apt-get installs and upgrades from it over HTTP', async () => {
    const built = await buildBoth('debian12');
    const repo = path.join(work, 'apt');
    const publish = (ws: Workspace) => api.publish(REQSET, 'debian12', { workspace: ws.dir, out: ws.out, repo });
    await publish(v1);
    await chmod(repo, 0o755);
    const server = await serve(repo);
    const root = await freshRoot();
    try {
      await writeFile(path.join(root.dir, 'etc', 'apt', 'sources.list.d', 'demo.list'), `deb [trusted=yes] ${server.url}/ bookworm main\n`);
      const names = built.v1.manifest.pins.map((p) => p.package.name);
      await root.exec(['apt-get', 'update', '-q']);
      await root.exec(['apt-get', 'install', '-y', '-q', ...names]);
      const report = await publish(v2);
      assert.deepEqual(report.warnings, []);
      await root.exec(['apt-get', 'update', '-q']);
      await root.exec(['apt-get', 'full-upgrade', '-y', '-q']);
      const installed = await root.exec(['dpkg-query', '-W', '-f', '${Package} ${Version}\\n', ...names]);
      const expected = built.v2.manifest.pins.map((p) => `${p.package.name} ${p.package.version}`).sort();
      assert.deepEqual(installed.stdout.split('\n').filter(Boolean).sort(), expected);
    } finally {
      await root.cleanup();
      await server.close();
    }
  });
});
