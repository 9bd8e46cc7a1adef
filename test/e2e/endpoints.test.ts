/**
 * Endpoint packages for real: `dnf install <reqset>-<app>` / `apt-get install
 * <reqset>-<app>` into debootstrapped Debian 12 roots resolve every wheel
 * package themselves and give a working /usr/bin entry; upgrade, a failing
 * upgrade (the previous venv keeps working), downgrade and erase.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { run } from '../../src/run.ts';
import { buildExampleSdists } from '../../scripts/example-sdists.ts';
import { makeWheel } from '../helpers/make-wheel.ts';
import { apt, aptRepo, dnf, fakeProvideRpm, freshRoot, rpmRepo, type TargetRoot } from '../helpers/target-root.ts';
import { CORPUS, makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';
import { corpusWheelsDir } from '../helpers/env.ts';

const REQSET = 'demo';
const APP_SPEC = `name: app\nreqset: ${REQSET}\ndistribution: an_example_pypi_project\nsummary: The example application\nscripts: [an-example]\n`;

const packageFiles = (result: api.BuildResult) => api.manifestPackages(result.manifest).map((p) => path.join(result.outDir, p.path));

/** Runs the application from /usr/bin and returns the versions it reports. */
async function runApp(root: TargetRoot): Promise<Record<string, string>> {
  const out = await root.exec(['/usr/bin/an-example']);
  assert.match(out.stdout, /norm=5\.0 cosine=1\.0/);
  return Object.fromEntries([...out.stdout.matchAll(/^\s*(an_example_pypi_project|textfmt|tinyvec|tinystats)\s+(\S+)$/gm)].map((m) => [m[1], m[2]]));
}

/** Nothing of the build machine or of the staging venv shows in the installed venv. */
async function assertNoBuildPaths(root: TargetRoot, venv: string, buildDirs: string[]) {
  const grep = await root.exec(['grep', '-rIl', '-e', '.new-', '-e', '/tmp/', ...buildDirs.flatMap((d) => ['-e', d]), venv], { allowFailure: true });
  assert.equal(grep.stdout.trim(), '', `build paths in: ${grep.stdout}`);
}

/** pip check of the venv, with a pip from a separate venv (the app venv has no pip). */
async function assertPipCheck(root: TargetRoot, python: string, venv: string) {
  if (!existsSync(path.join(root.dir, 'root', 'pipvenv'))) await root.exec([python, '-m', 'venv', '/root/pipvenv']);
  const check = await root.exec(['/root/pipvenv/bin/pip', '--python', `${venv}/bin/python`, 'check'], { allowFailure: true });
  assert.equal(check.exitCode, 0, check.stdout + check.stderr);
}

async function assertGone(root: TargetRoot) {
  assert.deepEqual((await root.filesUnder('/opt')).filter((f) => f.startsWith(`/opt/${REQSET}`)), []);
  assert.equal(existsSync(path.join(root.dir, 'opt', REQSET)), false);
  assert.equal(existsSync(path.join(root.dir, 'opt', `${REQSET}-app`)), false);
  assert.equal(existsSync(path.join(root.dir, 'usr', 'bin', 'an-example')), false);
}

describe('endpoint packages installed by dnf and apt', () => {
  const ws: Record<'v1' | 'v2' | 'v3', Workspace> = {} as never;
  const builds: Record<string, Record<'v1' | 'v2' | 'v3', api.BuildResult>> = {};

  before(async () => {
    ws.v1 = await makeWorkspace();
    ws.v2 = await makeWorkspace({ cache: ws.v1.cache });
    ws.v3 = await makeWorkspace({ cache: ws.v1.cache });
    const v2 = { textfmt: '1.1.0', an_example_pypi_project: '0.0.5' };
    await buildExampleSdists(ws.v2.dist, { versions: v2 });
    await buildExampleSdists(ws.v3.dist, { versions: { ...v2, an_example_pypi_project: '0.0.6' } });
    // v3's application is broken: it raises on import, so its post-install must fail.
    const broken = path.join(ws.v3.dir, 'broken');
    await mkdir(broken);
    await run(['tar', '-C', broken, '-xzf', path.join(ws.v3.dist, 'an_example_pypi_project-0.0.6.tar.gz')]);
    await writeFile(path.join(broken, 'an_example_pypi_project-0.0.6', 'an_example_pypi_project', '__init__.py'), 'raise RuntimeError("release 0.0.6 is broken on purpose")\n');
    await run(['tar', '-C', broken, '-czf', path.join(ws.v3.dist, 'an_example_pypi_project-0.0.6.tar.gz'), 'an_example_pypi_project-0.0.6']);
    await ws.v1.writeReqset(REQSET, `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    await ws.v2.writeReqset(REQSET, `--no-index\n--find-links ../dist-src\n${reqsset3Pins(v2)}\n`);
    await ws.v3.writeReqset(REQSET, `--no-index\n--find-links ../dist-src\n${reqsset3Pins({ ...v2, an_example_pypi_project: '0.0.6' })}\n`);
    for (const w of Object.values(ws)) {
      await mkdir(path.join(w.dir, 'specs'));
      await writeFile(path.join(w.dir, 'specs', 'app.yml'), APP_SPEC);
    }
    for (const target of ['el9-py311', 'debian12']) {
      const build = (w: Workspace, release: string) => api.buildTarget(REQSET, target, { workspace: w.dir, out: w.out, wheelCache: ws.v1.cache, jobs: 2, release });
      builds[target] = { v1: await build(ws.v1, '1'), v2: await build(ws.v2, '2'), v3: await build(ws.v3, '3') };
    }
  });
  after(async () => {
    for (const w of Object.values(ws)) await w.cleanup();
  });

  it('the endpoint requires exactly its closure, not every pin of the reqset', () => {
    const endpoint = builds['el9-py311']?.v1.manifest.endpoints[0];
    assert.deepEqual(endpoint?.closure, ['an-example-pypi-project', 'textfmt', 'tinystats', 'tinyvec']);
    assert.ok(!endpoint?.package.requires.some((r) => r.includes('setuptools') || r.includes('wheel-wheel')));
    // Each wheel package of the closure at exactly the version this build made.
    const manifest = builds['el9-py311']!.v1.manifest;
    for (const key of endpoint?.closure ?? []) {
      const pkg = manifest.pins.find((p) => p.package.name === `${REQSET}-wheel-${key}`)?.package;
      assert.ok(pkg && endpoint?.package.requires.includes(`${pkg.name} = ${pkg.version}`), `${key}: ${endpoint?.package.requires.join(', ')}`);
    }
  });

  it('RPM: dnf install, run, upgrade, failed upgrade keeps the old venv, downgrade, erase', async () => {
    const b = builds['el9-py311'];
    assert.ok(b);
    const root = await freshRoot();
    try {
      const all = [...packageFiles(b.v1), ...packageFiles(b.v2), ...packageFiles(b.v3)];
      const fake = await fakeProvideRpm(all, path.join(root.dir, 'tmp'));
      const repo = (name: string, files: string[]) => rpmRepo([...files, fake], path.join(ws.v1.dir, `repo-${name}`));
      const r1 = await repo('1', packageFiles(b.v1));
      const r2 = await repo('2', [...packageFiles(b.v1), ...packageFiles(b.v2)]);
      const r3 = await repo('3', all);
      await dnf(root, r1, ['install', 'reqset-test-fakeprovide']);

      await dnf(root, r1, ['install', 'demo-app']);
      assert.deepEqual(await runApp(root), { an_example_pypi_project: '0.0.4', textfmt: '1.0.0', tinyvec: '1.0.0', tinystats: '1.0.0' });
      assert.deepEqual(await root.filesUnder('/usr/bin').then((f) => f.filter((x) => x.includes('an-example'))), ['/usr/bin/an-example']);
      await assertNoBuildPaths(root, '/opt/demo-app/venv', [ws.v1.dir]);
      await assertPipCheck(root, '/usr/bin/python3.11', '/opt/demo-app/venv');

      await dnf(root, r2, ['upgrade']);
      assert.deepEqual(await runApp(root), { an_example_pypi_project: '0.0.5', textfmt: '1.1.0', tinyvec: '1.0.0', tinystats: '1.0.0' });
      await assertNoBuildPaths(root, '/opt/demo-app/venv', [ws.v2.dir]);

      const failed = await dnf(root, r3, ['upgrade'], { allowFailure: true });
      assert.match(failed.stdout + failed.stderr, /broken on purpose|POSTIN|scriptlet/i);
      assert.deepEqual(await runApp(root), { an_example_pypi_project: '0.0.5', textfmt: '1.1.0', tinyvec: '1.0.0', tinystats: '1.0.0' }, 'the previous venv still works');

      await dnf(root, r1, ['distro-sync']);
      assert.deepEqual(await runApp(root), { an_example_pypi_project: '0.0.4', textfmt: '1.0.0', tinyvec: '1.0.0', tinystats: '1.0.0' });

      await dnf(root, r1, ['remove', 'demo-*']);
      await assertGone(root);
    } finally {
      await root.cleanup();
    }
  });

  it('DEB: apt-get install, run, upgrade, failed upgrade keeps the old venv, downgrade, purge', async () => {
    const b = builds.debian12;
    assert.ok(b);
    const root = await freshRoot();
    try {
      await aptRepo(root, packageFiles(b.v1));
      await apt(root, ['install', 'demo-app']);
      assert.deepEqual(await runApp(root), { an_example_pypi_project: '0.0.4', textfmt: '1.0.0', tinyvec: '1.0.0', tinystats: '1.0.0' });
      await assertNoBuildPaths(root, '/opt/demo-app/venv', [ws.v1.dir]);
      await assertPipCheck(root, '/usr/bin/python3', '/opt/demo-app/venv');

      await aptRepo(root, [...packageFiles(b.v1), ...packageFiles(b.v2)]);
      await apt(root, ['dist-upgrade']);
      assert.deepEqual(await runApp(root), { an_example_pypi_project: '0.0.5', textfmt: '1.1.0', tinyvec: '1.0.0', tinystats: '1.0.0' });

      await aptRepo(root, [...packageFiles(b.v1), ...packageFiles(b.v2), ...packageFiles(b.v3)]);
      const failed = await apt(root, ['dist-upgrade'], { allowFailure: true });
      assert.notEqual(failed.exitCode, 0, 'a failing post-install fails the upgrade loudly');
      assert.match(failed.stdout + failed.stderr, /broken on purpose/);
      assert.deepEqual(await runApp(root), { an_example_pypi_project: '0.0.5', textfmt: '1.1.0', tinyvec: '1.0.0', tinystats: '1.0.0' }, 'the previous venv still works');

      const v1 = b.v1.manifest;
      const pinsV1 = [v1.runtime, ...v1.pins.map((p) => p.package), ...v1.endpoints.map((e) => e.package)].map((p) => `${p.name}=${p.version}`);
      await apt(root, ['install', ...pinsV1]);
      assert.deepEqual(await runApp(root), { an_example_pypi_project: '0.0.4', textfmt: '1.0.0', tinyvec: '1.0.0', tinystats: '1.0.0' });

      await apt(root, ['purge', ...[v1.runtime, ...v1.pins.map((p) => p.package), ...v1.endpoints.map((e) => e.package)].map((p) => p.name)]);
      await assertGone(root);
    } finally {
      await root.cleanup();
    }
  });
});

const FLASK_PINS = ['Flask==3.1.3', 'Werkzeug==3.1.8', 'Jinja2==3.1.6', 'MarkupSafe==3.0.3', 'itsdangerous==2.2.0', 'click==8.4.0', 'blinker==1.9.0'];

/** A tiny Flask application whose console script serves one request through Flask's test client. */
async function flaskAppWheel(dir: string, version: string) {
  return makeWheel(dir, {
    name: 'hello-flask',
    version,
    files: {
      'hello_flask/__init__.py': [
        'from flask import Flask',
        'app = Flask(__name__)',
        '@app.route("/")',
        'def index():',
        `    return "hello from flask app ${version}"`,
        'def main():',
        '    print(app.test_client().get("/").get_data(as_text=True))',
        '',
      ].join('\n'),
    },
    metadata: { 'Requires-Dist': ['Flask>=3'] },
    entryPoints: '[console_scripts]\nhello-flask = hello_flask:main\n',
  });
}

describe('a Flask application from the corpus closure', () => {
  before(() => corpusWheelsDir());
  const ws: Workspace[] = [];
  const builds: Record<string, api.BuildResult[]> = {};
  before(async () => {
    for (const version of ['1.0', '1.1']) {
      const w = await makeWorkspace({ cache: ws[0]?.cache });
      await flaskAppWheel(path.join(w.dir, 'app-wheels'), version);
      await w.writeReqset('web', `--no-index\n--find-links ${CORPUS}\n--find-links ../app-wheels\n${FLASK_PINS.join('\n')}\nhello-flask==${version}\n`);
      await mkdir(path.join(w.dir, 'specs'));
      await writeFile(path.join(w.dir, 'specs', 'hello.yml'), 'name: hello\nreqset: web\ndistribution: hello-flask\nsummary: Hello from Flask\nscripts: [hello-flask]\n');
      ws.push(w);
    }
    for (const target of ['el9-py311', 'debian12']) {
      builds[target] = [];
      for (const [i, w] of ws.entries()) builds[target].push(await api.buildTarget('web', target, { workspace: w.dir, out: w.out, wheelCache: w.cache, jobs: 2, release: String(i + 1) }));
    }
  });
  after(async () => {
    for (const w of ws) await w.cleanup();
  });

  const hello = async (root: TargetRoot) => (await root.exec(['/usr/bin/hello-flask'])).stdout.trim();

  it('RPM: install, upgrade, erase', async () => {
    const [v1, v2] = builds['el9-py311'] ?? [];
    assert.ok(v1 && v2);
    const root = await freshRoot();
    try {
      const fake = await fakeProvideRpm([...packageFiles(v1), ...packageFiles(v2)], path.join(root.dir, 'tmp'));
      const r1 = await rpmRepo([...packageFiles(v1), fake], path.join(ws[0]!.dir, 'repo1'));
      const r2 = await rpmRepo([...packageFiles(v1), ...packageFiles(v2), fake], path.join(ws[0]!.dir, 'repo2'));
      await dnf(root, r1, ['install', 'reqset-test-fakeprovide']);
      await dnf(root, r1, ['install', 'web-hello']);
      assert.equal(await hello(root), 'hello from flask app 1.0');
      await dnf(root, r2, ['upgrade']);
      assert.equal(await hello(root), 'hello from flask app 1.1');
      await dnf(root, r2, ['remove', 'web-*']);
      assert.equal(existsSync(path.join(root.dir, 'opt', 'web-hello')), false);
      assert.equal(existsSync(path.join(root.dir, 'usr', 'bin', 'hello-flask')), false);
    } finally {
      await root.cleanup();
    }
  });

  it('DEB: install, upgrade, purge', async () => {
    const [v1, v2] = builds.debian12 ?? [];
    assert.ok(v1 && v2);
    const root = await freshRoot();
    try {
      await aptRepo(root, packageFiles(v1));
      await apt(root, ['install', 'web-hello']);
      assert.equal(await hello(root), 'hello from flask app 1.0');
      await aptRepo(root, [...packageFiles(v1), ...packageFiles(v2)]);
      await apt(root, ['dist-upgrade']);
      assert.equal(await hello(root), 'hello from flask app 1.1');
      const names = [v2.manifest.runtime, ...v2.manifest.pins.map((p) => p.package), ...v2.manifest.endpoints.map((e) => e.package)].map((p) => p.name);
      await apt(root, ['purge', ...names]);
      assert.equal(existsSync(path.join(root.dir, 'opt', 'web-hello')), false);
      assert.equal(existsSync(path.join(root.dir, 'usr', 'bin', 'hello-flask')), false);
    } finally {
      await root.cleanup();
    }
  });
});
