/**
 * Published repositories served over HTTP and used by the real package
 * managers: dnf (installing into a debootstrapped Debian 12 root) and apt-get
 * inside that root, which talks to 127.0.0.1 (a chroot shares the network).
 * v1 is published and installed, v2 published and upgraded to; apt checks
 * the repository's signature through signed-by (no trusted=yes).
 *
 * dnf fetches prestodelta.xml and the delta RPMs, but cannot apply them here
 * (Debian's deltarpm lacks rpmdumpheader) and falls back to full packages:
 * the byte-for-byte applydeltarpm check of the integration test is the proof
 * that the deltas work.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { formatReport, publish } from '../../src/publish/index.ts';
import { run } from '../../src/run.ts';
import { loadTarget } from '../../src/targets/target.ts';
import { serve } from '../helpers/serve.ts';
import { apt, fakeProvideRpm, freshRoot, rpmRepo, type TargetRoot } from '../helpers/target-root.ts';
import { makeUpgradeWorkspaces, type Workspace } from '../helpers/workspace.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const REQSET = 'demo';
const APP = 'demo-wheel-an-example-pypi-project';

/** dnf on the published repository over HTTP, and a local one with what the Debian root provides outside rpm. */
function dnfHttp(root: TargetRoot, url: string, fakeRepo: string, args: string[]) {
  return run(
    [
      'dnf', '-y', `--installroot=${root.dir}`, '--releasever=1', '--setopt=reposdir=/nonexistent', '--disablerepo=*', `--repofrompath=local,${url}/`,
      '--enablerepo=local', '--setopt=local.gpgcheck=0', `--repofrompath=fake,file://${fakeRepo}`, '--enablerepo=fake', '--setopt=fake.gpgcheck=0',
      '--setopt=install_weak_deps=False', '--refresh', ...args,
    ],
    { timeoutMs: 10 * 60_000 },
  );
}

const wheelhouse = (root: TargetRoot) => root.filesUnder(`/opt/${REQSET}/wheelhouse`);

describe('published repositories over HTTP with dnf and apt', () => {
  let v1: Workspace;
  let v2: Workspace;
  before(async () => {
    ({ v1, v2 } = await makeUpgradeWorkspaces(REQSET));
  });
  after(async () => {
    await v1?.cleanup();
    await v2?.cleanup();
  });

  const buildBoth = async (targetName: string) => {
    const options = (ws: Workspace, release: string) => ({ workspace: ws.dir, out: ws.out, wheelCache: v1.cache, jobs: 2, release });
    const b1 = await api.buildTarget(REQSET, targetName, options(v1, '1'));
    const b2 = await api.buildTarget(REQSET, targetName, options(v2, '2'));
    assert.equal(api.manifestPackages(b1.manifest).length, 8, 'runtime, pins and 6 wheel packages');
    return { v1: path.join(b1.outDir, 'packages'), v2: path.join(b2.outDir, 'packages'), count: api.manifestPackages(b1.manifest).length };
  };

  it('dnf: install from the published v1, upgrade after v2 is published (deltas offered)', async () => {
    const packages = await buildBoth('el9-py311');
    const target = await loadTarget(ROOT, 'el9-py311');
    const root = await freshRoot();
    const repo = await mkdtemp(path.join(tmpdir(), 'reqset-e2e-rpmrepo-'));
    const server = await serve(repo);
    // What the Debian root provides outside rpm, in a repository of its own (publish takes only what reqset build wrote).
    const fake = `${repo}-fake`;
    const fakeRepo = path.join(fake, 'repo');
    try {
      const rpms: string[] = [];
      for (const dir of [packages.v1, packages.v2]) for (const f of await readdir(dir)) rpms.push(path.join(dir, f));
      await mkdir(path.join(fake, 'rpm'), { recursive: true });
      await rpmRepo([await fakeProvideRpm(rpms, path.join(fake, 'rpm'))], fakeRepo);

      const first = await publish({ reqset: REQSET, target, packagesDir: packages.v1, repo });
      assert.equal(first.added.length, packages.count);
      await dnfHttp(root, server.url, fakeRepo, ['install', 'reqset-test-fakeprovide']);
      await dnfHttp(root, server.url, fakeRepo, ['install', APP]);
      assert.ok((await wheelhouse(root)).includes('/opt/demo/wheelhouse/textfmt-1.0.0-py3-none-any.whl'));

      const second = await publish({ reqset: REQSET, target, packagesDir: packages.v2, repo });
      assert.equal(second.upgraded.length, packages.count, 'release 2 of every package');
      assert.equal(second.totals.deltas, packages.count);
      process.stderr.write(formatReport(second));
      server.requests.length = 0;
      const upgrade = await dnfHttp(root, server.url, fakeRepo, ['upgrade']);
      const files = await wheelhouse(root);
      assert.ok(files.includes('/opt/demo/wheelhouse/textfmt-1.1.0-py3-none-any.whl'), files.join(' '));
      assert.ok(!files.includes('/opt/demo/wheelhouse/textfmt-1.0.0-py3-none-any.whl'), files.join(' '));
      const installed = (await run(['rpm', '--root', root.dir, '-q', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}\\n', 'demo-wheel-textfmt', APP])).stdout;
      assert.equal(installed, `demo-wheel-textfmt-1.1-2\n${APP}-0.0.4-2\n`);
      // dnf read prestodelta.xml and asked for the deltas of the installed packages (then fell back, see above).
      assert.ok(server.requests.some((p) => /^\/repodata\/[0-9a-f]{64}-prestodelta\.xml\.gz$/.test(p)), server.requests.join(' '));
      const asked = server.requests.filter((p) => p.startsWith('/drpms/'));
      if (asked.length === 0) process.stderr.write(`dnf did not ask for deltas:\n${upgrade.stdout}\n`);
      assert.ok(asked.length > 0, 'dnf downloaded delta RPMs');
    } finally {
      await server.close();
      await root.cleanup();
      await rm(repo, { recursive: true, force: true });
      await rm(fake, { recursive: true, force: true });
    }
  });

  it('apt: a signed repository trusted through signed-by; install v1, upgrade to v2 over HTTP', async () => {
    const packages = await buildBoth('debian12');
    const target = await loadTarget(ROOT, 'debian12');
    const root = await freshRoot();
    const repo = await mkdtemp(path.join(tmpdir(), 'reqset-e2e-aptrepo-'));
    const gnupg = await mkdtemp(path.join(tmpdir(), 'reqset-gpg-'));
    const server = await serve(repo);
    try {
      await chmod(gnupg, 0o700);
      const env = { GNUPGHOME: gnupg };
      await run(['gpg', '--batch', '--passphrase', '', '--quick-gen-key', 'reqset test <t@example.invalid>', 'rsa2048', 'sign', 'never'], { env });
      const fpr = /^fpr:+([0-9A-F]+):/m.exec((await run(['gpg', '--batch', '--with-colons', '--list-keys'], { env })).stdout)?.[1] as string;
      await mkdir(path.join(root.dir, 'etc', 'apt', 'keyrings'), { recursive: true });
      await writeFile(path.join(root.dir, 'etc', 'apt', 'keyrings', 'reqset-test.asc'), (await run(['gpg', '--batch', '--armor', '--export', fpr], { env })).stdout);
      await writeFile(
        path.join(root.dir, 'etc', 'apt', 'sources.list.d', 'reqset-test.list'),
        `deb [signed-by=/etc/apt/keyrings/reqset-test.asc] ${server.url}/ bookworm main\n`,
      );

      await publish({ reqset: REQSET, target, packagesDir: packages.v1, repo, sign: fpr, gpgHome: gnupg });
      const update = await root.exec(['apt-get', 'update']);
      assert.doesNotMatch(update.stdout + update.stderr, /NO_PUBKEY|not signed|insecure|W: /);
      assert.ok(server.requests.includes('/dists/bookworm/InRelease'));
      assert.ok(server.requests.some((p) => /^\/dists\/bookworm\/main\/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64}$/.test(p)), 'indexes fetched by hash');
      await apt(root, ['install', APP]);
      assert.ok((await wheelhouse(root)).includes('/opt/demo/wheelhouse/textfmt-1.0.0-py3-none-any.whl'));

      const report = await publish({ reqset: REQSET, target, packagesDir: packages.v2, repo, sign: fpr, gpgHome: gnupg });
      assert.equal(report.upgraded.length, packages.count, 'revision 2 of every package');
      await root.exec(['apt-get', 'update']);
      await apt(root, ['upgrade']);
      const files = await wheelhouse(root);
      assert.ok(files.includes('/opt/demo/wheelhouse/textfmt-1.1.0-py3-none-any.whl'), files.join(' '));
      assert.ok(!files.includes('/opt/demo/wheelhouse/textfmt-1.0.0-py3-none-any.whl'), files.join(' '));
      const policy = await root.exec(['dpkg-query', '-W', '-f', '${Package} ${Version}\\n', 'demo-wheel-textfmt', APP]);
      assert.equal(policy.stdout, `${APP} 0.0.4-2\ndemo-wheel-textfmt 1.1-2\n`);
    } finally {
      await server.close();
      await root.cleanup();
      await run(['gpgconf', '--homedir', gnupg, '--kill', 'gpg-agent'], { allowFailure: true });
      await rm(gnupg, { recursive: true, force: true });
      await rm(repo, { recursive: true, force: true });
    }
  });
});
