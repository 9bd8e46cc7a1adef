/**
 * Wheel and runtime packages installed for real: RPMs with dnf and DEBs with
 * apt-get into debootstrapped Debian 12 roots. Install, upgrade, downgrade,
 * reinstall and erase each leave exactly the right wheel files; the rebuilt
 * wheels are the original ones and a venv made from them runs the example.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { assertVenvRuns, assertWheelhouse, buildBoth, LIFECYCLE_REQSET as REQSET, packageFiles, rpmUpgradeRepos, wheelPackages } from '../helpers/lifecycle.ts';
import { apt, aptRepo, dnf, fakeProvideRpm, freshRoot, rpmRepo, type TargetRoot } from '../helpers/target-root.ts';
import { CORPUS, CORPUS_PINS, makeUpgradeWorkspaces, makeWorkspace, type Workspace } from '../helpers/workspace.ts';
import { corpusWheelsDir } from '../helpers/env.ts';

describe('wheel packages installed by the real package managers', () => {
  let v1: Workspace;
  let v2: Workspace;

  before(async () => {
    ({ v1, v2 } = await makeUpgradeWorkspaces(REQSET));
  });
  after(async () => {
    await v1.cleanup();
    await v2.cleanup();
  });

  it('RPMs with dnf: install, upgrade, downgrade, reinstall, erase', async () => {
    const built = await buildBoth(v1, v2, 'el9-py311');
    const requires = built.v1.manifest.pins.find((p) => p.name === 'an_example_pypi_project')?.package.requires;
    // As rpm -qp --requires shows them: /bin/sh is the scriptlets' interpreter; the
    // application's Requires-Dist (textfmt>=1.0, tinyvec>=1.0, tinystats>=1.0) as pydist ranges.
    assert.deepEqual(requires, ['/bin/sh', 'demo-pydist(textfmt) >= 1.0', 'demo-pydist(tinystats) >= 1.0', 'demo-pydist(tinyvec) >= 1.0', 'demo-runtime', 'python(abi) = 3.11']);
    const root = await freshRoot();
    try {
      const { repo1, repo2 } = await rpmUpgradeRepos(root, built, v1.dir);

      const names = wheelPackages(built.v1);
      await dnf(root, repo1, ['install', ...names]);
      await assertWheelhouse(root, built.v1, names);
      await assertVenvRuns(root, '/usr/bin/python3.11');

      await dnf(root, repo2, ['upgrade']);
      await assertWheelhouse(root, built.v2, names);
      await assertVenvRuns(root, '/usr/bin/python3.11');

      await dnf(root, repo2, ['downgrade', 'demo-wheel-textfmt-1.0-1', 'demo-wheel-an-example-pypi-project-0.0.4-1']);
      assert.ok((await root.filesUnder('/opt/demo/wheelhouse')).includes('/opt/demo/wheelhouse/textfmt-1.0.0-py3-none-any.whl'));
      assert.ok(!(await root.filesUnder('/opt/demo/wheelhouse')).includes('/opt/demo/wheelhouse/textfmt-1.1.0-py3-none-any.whl'));

      await dnf(root, repo2, ['reinstall', 'demo-wheel-textfmt']);
      assert.ok((await root.filesUnder('/opt/demo/wheelhouse')).includes('/opt/demo/wheelhouse/textfmt-1.0.0-py3-none-any.whl'));

      await dnf(root, repo2, ['remove', 'demo-*']);
      assert.equal(existsSync(path.join(root.dir, 'opt', 'demo')), false, 'erase leaves nothing under /opt/demo');
    } finally {
      await root.cleanup();
    }
  });

  it('DEBs with apt-get: install, upgrade, downgrade, reinstall, purge', async () => {
    const built = await buildBoth(v1, v2, 'debian12');
    const requires = built.v1.manifest.pins.find((p) => p.name === 'tinystats')?.package.requires ?? [];
    assert.ok(requires.includes('demo-runtime'));
    assert.ok(requires.some((r) => r.startsWith('python3 (>= 3.11)')), requires.join(', '));
    // Compiled against the pinned tinyvec: exactly that version of the distribution.
    assert.ok(requires.includes('demo-pydist-tinyvec (= 1.0)'), requires.join(', '));
    const root = await freshRoot();
    try {
      const names = wheelPackages(built.v1);
      await aptRepo(root, packageFiles(built.v1));
      await apt(root, ['install', ...names]);
      await assertWheelhouse(root, built.v1, names);
      await assertVenvRuns(root, '/usr/bin/python3');

      await aptRepo(root, [...packageFiles(built.v1), ...packageFiles(built.v2)]);
      await apt(root, ['upgrade']);
      await assertWheelhouse(root, built.v2, names);
      await assertVenvRuns(root, '/usr/bin/python3');

      await apt(root, ['install', 'demo-wheel-textfmt=1.0-1', 'demo-wheel-an-example-pypi-project=0.0.4-1']);
      const afterDowngrade = await root.filesUnder('/opt/demo/wheelhouse');
      assert.ok(afterDowngrade.includes('/opt/demo/wheelhouse/textfmt-1.0.0-py3-none-any.whl'));
      assert.ok(!afterDowngrade.includes('/opt/demo/wheelhouse/textfmt-1.1.0-py3-none-any.whl'));

      await apt(root, ['install', '--reinstall', 'demo-wheel-textfmt=1.0-1']);
      assert.ok((await root.filesUnder('/opt/demo/wheelhouse')).includes('/opt/demo/wheelhouse/textfmt-1.0.0-py3-none-any.whl'));

      await apt(root, ['purge', ...names, 'demo-runtime']);
      assert.equal(existsSync(path.join(root.dir, 'opt', 'demo')), false, 'purge leaves nothing under /opt/demo');
    } finally {
      await root.cleanup();
    }
  });
});

const CORPUS_MODULES = ['requests', 'urllib3', 'idna', 'certifi', 'charset_normalizer', 'flask', 'werkzeug', 'jinja2', 'markupsafe', 'itsdangerous', 'click', 'blinker', 'numpy'];

describe('corpus closures (requests, Flask, numpy) as packages', () => {
  before(() => corpusWheelsDir());
  let ws: Workspace;
  before(async () => {
    ws = await makeWorkspace();
    await ws.writeReqset('corpus', `--no-index\n--find-links ${CORPUS}\n${CORPUS_PINS.join('\n')}\n`);
  });
  after(() => ws.cleanup());

  const installAndImport = async (root: TargetRoot, python: string) => {
    await root.exec([python, '-m', 'venv', '/root/venv']);
    await root.exec(['/root/venv/bin/pip', 'install', '-q', '--no-index', '--find-links', '/opt/corpus/wheelhouse', ...CORPUS_PINS]);
    await root.exec(['/root/venv/bin/python', '-c', `import ${CORPUS_MODULES.join(', ')}; print(numpy.sqrt(4.0))`]);
  };

  it('builds for el9-py311 and installs with dnf; numpy keeps its bundled libraries private', async () => {
    const result = await api.buildTarget('corpus', 'el9-py311', { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2 });
    const numpy = result.manifest.pins.find((p) => p.name === 'numpy');
    assert.equal(numpy?.package.arch, 'x86_64');
    assert.ok(numpy?.package.requires.some((r) => r.startsWith('libm.so.6')), numpy?.package.requires.join(', '));
    assert.ok(!numpy?.package.requires.some((r) => /openblas|gfortran|quadmath/.test(r)), numpy?.package.requires.join(', '));
    const root = await freshRoot();
    try {
      const files = packageFiles(result);
      const fake = await fakeProvideRpm(files, path.join(root.dir, 'tmp'));
      const repo = await rpmRepo([...files, fake], path.join(ws.dir, 'repo'));
      await dnf(root, repo, ['install', 'reqset-test-fakeprovide']);
      await dnf(root, repo, ['install', ...wheelPackages(result)]);
      assert.equal((await root.filesUnder('/opt/corpus/wheelhouse')).length, CORPUS_PINS.length);
      await installAndImport(root, '/usr/bin/python3.11');
      await dnf(root, repo, ['remove', 'corpus-*']);
      assert.equal(existsSync(path.join(root.dir, 'opt', 'corpus')), false);
    } finally {
      await root.cleanup();
    }
  });

  it('builds for debian12 and installs with apt-get', async () => {
    const result = await api.buildTarget('corpus', 'debian12', { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2 });
    const numpy = result.manifest.pins.find((p) => p.name === 'numpy')?.package.requires ?? [];
    assert.ok(numpy.some((r) => r.startsWith('libc6 (>= ')), `shared-library dependencies: ${numpy.join(', ')}`);
    assert.ok(!numpy.some((r) => /openblas|gfortran|quadmath/.test(r)), numpy.join(', '));
    const root = await freshRoot();
    try {
      await aptRepo(root, packageFiles(result));
      await apt(root, ['install', ...wheelPackages(result)]);
      assert.equal((await root.filesUnder('/opt/corpus/wheelhouse')).length, CORPUS_PINS.length);
      await installAndImport(root, '/usr/bin/python3');
      await apt(root, ['purge', ...wheelPackages(result), 'corpus-runtime']);
      assert.equal(existsSync(path.join(root.dir, 'opt', 'corpus')), false);
    } finally {
      await root.cleanup();
    }
  });
});
