/**
 * A reqset over time, as a user lives it: one workspace whose pin list moves
 * through eight revisions (a leaf bumped, a pin others depend on bumped, a
 * build requirement bumped so a compiled pin is rebuilt at the same version,
 * a pin removed, a pin added, a pin rolled back, and back to the first
 * revision). Each revision is built with `--repo` (the history it continues)
 * and published; a Debian 12 root then runs only a plain upgrade and
 * autoremove (dnf upgrade / apt-get full-upgrade, no distro-sync, no
 * downgrades allowed). After each one, the installed wheel packages are
 * exactly the application's closure at the newest revision, and the
 * application runs with them. RPM history is read from the repository
 * directory, DEB history over HTTP.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { formatDiff, type RevisionDiff } from '../../src/packagers/diff.ts';
import { mappedVersion } from '../../src/packagers/version.ts';
import { formatReport } from '../../src/publish/index.ts';
import { run } from '../../src/run.ts';
import { buildExampleSdists } from '../../scripts/example-sdists.ts';
import { makeWheel } from '../helpers/make-wheel.ts';
import { serve } from '../helpers/serve.ts';
import { fakeProvideRpm, freshRoot, rpmRepo, type TargetRoot } from '../helpers/target-root.ts';
import { makeWorkspace, type Workspace } from '../helpers/workspace.ts';

const REQSET = 'life';

interface Revision {
  what: string;
  pins: Record<string, string>;
}

const FIRST = { textfmt: '1.0.0', tinyvec: '1.0.0', tinystats: '1.0.0', extralib: '1.0', lifeapp: '1.0' };
const REVISIONS: Revision[] = [
  { what: 'first publish', pins: FIRST },
  { what: 'a leaf pin bumped', pins: { ...FIRST, extralib: '1.1' } },
  { what: 'a pin others depend on bumped', pins: { ...FIRST, extralib: '1.1', textfmt: '1.1.0' } },
  { what: 'a build requirement bumped', pins: { ...FIRST, extralib: '1.1', textfmt: '1.1.0', tinyvec: '1.1.0' } },
  { what: 'a pin removed', pins: { textfmt: '1.1.0', tinyvec: '1.1.0', tinystats: '1.0.0', lifeapp: '1.1' } },
  { what: 'a pin added', pins: { textfmt: '1.1.0', tinyvec: '1.1.0', tinystats: '1.0.0', lifeapp: '1.2', newlib: '1.0' } },
  { what: 'a pin rolled back', pins: { textfmt: '1.0.0', tinyvec: '1.1.0', tinystats: '1.0.0', lifeapp: '1.2', newlib: '1.0' } },
  { what: 'back to the first revision', pins: FIRST },
];

/** lifeapp's own requirements at each of its versions. */
const LIFEAPP_REQUIRES: Record<string, string[]> = {
  '1.0': ['textfmt>=1.0', 'tinystats', 'extralib>=1.0'],
  '1.1': ['textfmt>=1.0', 'tinystats'],
  '1.2': ['textfmt>=1.0', 'tinystats', 'newlib>=1.0'],
};

/** Prints every distribution of its venv and what tinystats was compiled against, and uses it. */
const LIFEAPP_MAIN = [
  'import importlib.metadata as md',
  'import tinystats',
  'def main():',
  '    for d in sorted(md.distributions(), key=lambda d: d.metadata["Name"].lower()):',
  '        print("dist", d.metadata["Name"].lower(), d.version)',
  '    print("built_with", tinystats.built_with_tinyvec)',
  '    print("mean_sq", tinystats.mean_sq([3.0, 4.0]))',
  '',
].join('\n');

async function makeLifeWheels(dir: string) {
  for (const [version, requires] of Object.entries(LIFEAPP_REQUIRES)) {
    await makeWheel(dir, {
      name: 'lifeapp',
      version,
      files: { 'lifeapp/__init__.py': LIFEAPP_MAIN },
      metadata: { 'Requires-Dist': requires },
      entryPoints: '[console_scripts]\nlifeapp = lifeapp:main\n',
    });
  }
  for (const [name, version] of [['extralib', '1.0'], ['extralib', '1.1'], ['newlib', '1.0']] as const) {
    await makeWheel(dir, { name, version, files: { [`${name}/__init__.py`]: `VERSION = "${version}"\n` } });
  }
}

function pinList(revision: Revision): string {
  const pins = { setuptools: '65.5.0', wheel: '0.38.4', ...revision.pins };
  return `--no-index\n--find-links ../dist-src\n--find-links ../life-wheels\n${Object.entries(pins).map(([n, v]) => `${n}==${v}`).join('\n')}\n`;
}

/** The distributions the application's venv must hold: lifeapp's closure at this revision. */
function expectedClosure(revision: Revision): Record<string, string> {
  const keys = ['lifeapp', 'textfmt', 'tinystats', 'tinyvec', ...['extralib', 'newlib'].filter((k) => k in revision.pins)];
  return Object.fromEntries(keys.sort().map((k) => [k, revision.pins[k] as string]));
}

/** Installed wheel packages by distribution, as their mapped upstream versions. */
function expectedPackages(revision: Revision): Record<string, string> {
  return Object.fromEntries(Object.entries(expectedClosure(revision)).map(([k, v]) => [`${REQSET}-wheel-${k}`, mappedVersion(v).upstream]));
}

async function runApp(root: TargetRoot): Promise<{ dists: Record<string, string>; builtWith: string }> {
  const out = (await root.exec(['/usr/bin/lifeapp'])).stdout;
  assert.match(out, /^mean_sq 12\.5$/m);
  const dists = Object.fromEntries([...out.matchAll(/^dist (\S+) (\S+)$/gm)].map((m) => [(m[1] as string).replace(/_/g, '-'), m[2] as string]));
  return { dists, builtWith: /^built_with (\S+)$/m.exec(out)?.[1] ?? '' };
}

/** What each revision's build must have decided for its packages (the NEVR rules, seen through the manifest). */
function checkDecisions(index: number, manifest: api.Manifest) {
  const pin = (key: string) => manifest.pins.find((p) => p.package.name === `${REQSET}-wheel-${key}`)?.package;
  const reason = (key: string) => pin(key)?.reason;
  if (index === 0) assert.ok(api.manifestPackages(manifest).every((p) => p.reason === 'first' && p.release === '1'));
  if (index === 1) {
    assert.equal(reason('extralib'), 'new version');
    for (const key of ['textfmt', 'tinyvec', 'tinystats', 'lifeapp']) assert.equal(reason(key), 'unchanged', `${key} did not change`);
    assert.equal(pin('lifeapp')?.reused, true, 'an unchanged package comes from the package cache');
  }
  if (index === 2) {
    assert.equal(reason('textfmt'), 'new version');
    assert.equal(reason('lifeapp'), 'unchanged', 'a dependency bump within the range does not touch its dependents');
  }
  if (index === 3) {
    assert.equal(reason('tinyvec'), 'new version');
    assert.deepEqual([reason('tinystats'), pin('tinystats')?.release], ['new content', '2'], 'compiled against the new tinyvec: same version, next release');
  }
  if (index === 6) assert.deepEqual([reason('textfmt'), pin('textfmt')?.epoch], ['rollback', 1]);
  assert.equal(manifest.endpoints[0]?.package.requires.filter((r) => r.includes(`${REQSET}-wheel-`)).length, Object.keys(expectedClosure(REVISIONS[index] as Revision)).length);
}

/** What `reqset diff` says of each revision against the one published before it. */
function checkDiff(index: number, diff: RevisionDiff) {
  const pin = (name: string) => diff.pins.find((p) => p.name === name)?.change;
  const why = (key: string) => diff.packages.find((p) => p.name === `${REQSET}-wheel-${key}`)?.why ?? [];
  if (index === 1) assert.deepEqual(diff.pins, [{ name: 'extralib', change: 'upgraded', from: '1.0', to: '1.1' }]);
  if (index === 3) assert.ok(why('tinystats').includes('build requirement changed'), formatDiff(diff));
  if (index === 4) assert.equal(pin('extralib'), 'removed');
  if (index === 5) assert.equal(pin('newlib'), 'added');
  if (index === 6) assert.equal(pin('textfmt'), 'downgraded');
  const runtime = diff.packages.find((p) => p.name === `${REQSET}-runtime`);
  assert.deepEqual(runtime?.why, ['SBOM changed'], `the runtime package changes only with its SBOM, which names every package of the set: ${formatDiff(diff)}`);
}

async function rpmInstalled(root: TargetRoot): Promise<Record<string, string>> {
  const out = await run(['rpm', '--root', root.dir, '-qa', '--qf', '%{NAME} %{VERSION}\\n']);
  return Object.fromEntries(out.stdout.split('\n').filter((l) => l.startsWith(`${REQSET}-wheel-`)).sort().map((l) => l.split(' ') as [string, string]));
}

async function debInstalled(root: TargetRoot): Promise<Record<string, string>> {
  const out = await root.exec(['dpkg-query', '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\\n']);
  const lines = out.stdout.split('\n').filter((l) => l.startsWith(`${REQSET}-wheel-`) && /\sii\s*$/.test(l));
  return Object.fromEntries(lines.sort().map((l) => {
    const [name, version] = l.split(' ') as [string, string];
    return [name, version.replace(/^\d+:/, '').replace(/-[^-]+$/, '')];
  }));
}

/** The installed wheel packages are the application's closure at `revision`, and it runs with them. */
async function assertConverged(root: TargetRoot, revision: Revision, installed: Record<string, string>) {
  assert.deepEqual(installed, expectedPackages(revision), `installed wheel packages after "${revision.what}"`);
  const app = await runApp(root);
  assert.deepEqual(app.dists, expectedClosure(revision), `the venv after "${revision.what}"`);
  assert.equal(app.builtWith, revision.pins.tinyvec, `tinystats was compiled against the pinned tinyvec after "${revision.what}"`);
}

describe('a reqset over time: plain upgrades converge', () => {
  let ws: Workspace;
  before(async () => {
    ws = await makeWorkspace();
    await buildExampleSdists(ws.dist, { versions: { textfmt: '1.1.0', tinyvec: '1.1.0' } });
    await makeLifeWheels(path.join(ws.dir, 'life-wheels'));
    await mkdir(path.join(ws.dir, 'specs'));
    await writeFile(path.join(ws.dir, 'specs', 'app.yml'), `name: app\nreqset: ${REQSET}\ndistribution: lifeapp\nsummary: The life application\nscripts: [lifeapp]\n`);
  });
  after(async () => ws?.cleanup());

  /** Builds revision `index` for `target` continuing `history`, and publishes it to `repo`. */
  async function buildAndPublish(index: number, target: string, history: string, repo: string) {
    const revision = REVISIONS[index] as Revision;
    await ws.writeReqset(REQSET, pinList(revision));
    const result = await api.buildTarget(REQSET, target, { workspace: ws.dir, out: path.join(ws.out, target), wheelCache: ws.cache, jobs: 2, repo: history });
    checkDecisions(index, result.manifest);
    if (index > 0) checkDiff(index, await api.diff(REQSET, target, { out: path.join(ws.out, target), repo: history }));
    const report = await api.publish(REQSET, target, { workspace: ws.dir, out: path.join(ws.out, target), repo });
    return { revision, result, report };
  }

  it('RPM: dnf upgrade && dnf autoremove after every revision', async () => {
    const root = await freshRoot();
    const repo = await mkdtemp(path.join(tmpdir(), 'reqset-life-rpm-'));
    try {
      const dnf = (args: string[], repos: string[]) =>
        run(['dnf', '-y', '-q', `--installroot=${root.dir}`, '--releasever=1', '--setopt=reposdir=/nonexistent', '--disablerepo=*', '--setopt=install_weak_deps=False', '--refresh',
          ...repos.flatMap((r, i) => [`--repofrompath=r${i},file://${r}`, `--enablerepo=r${i}`, `--setopt=r${i}.gpgcheck=0`]), ...args], { timeoutMs: 10 * 60_000 });
      let fakeRepo = '';
      for (const index of REVISIONS.keys()) {
        const { revision, result } = await buildAndPublish(index, 'el9-py311', repo, repo);
        if (index === 0) {
          const rpms = api.manifestPackages(result.manifest).map((p) => path.join(result.outDir, p.path));
          fakeRepo = await rpmRepo([await fakeProvideRpm(rpms, path.join(ws.dir, 'fake'))], path.join(ws.dir, 'fake-repo'));
          await dnf(['install', 'reqset-test-fakeprovide', `${REQSET}-app`], [repo, fakeRepo]);
        } else {
          await dnf(['upgrade'], [repo, fakeRepo]);
          await dnf(['autoremove'], [repo, fakeRepo]);
        }
        await assertConverged(root, revision, await rpmInstalled(root));
      }
    } finally {
      await root.cleanup();
      await rm(repo, { recursive: true, force: true });
    }
  });

  it('DEB: apt-get full-upgrade && apt-get autoremove after every revision, history over HTTP', async () => {
    const root = await freshRoot();
    const repo = await mkdtemp(path.join(tmpdir(), 'reqset-life-deb-'));
    await chmod(repo, 0o755);
    const server = await serve(repo);
    try {
      await writeFile(path.join(root.dir, 'etc', 'apt', 'sources.list.d', 'life.list'), `deb [trusted=yes] ${server.url}/ bookworm main\n`);
      const apt = (args: string[]) => root.exec(['apt-get', '-y', '-q', ...args]);
      for (const index of REVISIONS.keys()) {
        const { revision, report } = await buildAndPublish(index, 'debian12', index === 0 ? repo : server.url, repo);
        await apt(['update']);
        if (index === 0) await apt(['install', `${REQSET}-app`]);
        else {
          const upgrade = await apt(['full-upgrade']);
          assert.doesNotMatch(upgrade.stdout, /downgrade/i, formatReport(report));
          await apt(['autoremove']);
        }
        await assertConverged(root, revision, await debInstalled(root));
      }
    } finally {
      await server.close();
      await root.cleanup();
      await rm(repo, { recursive: true, force: true });
    }
  });
});
