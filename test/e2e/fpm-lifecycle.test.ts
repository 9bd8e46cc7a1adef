/**
 * fpm-built packages installed for real, as test/e2e/packages.test.ts does
 * with the native ones: RPMs with dnf and DEBs with apt-get into
 * debootstrapped Debian 12 roots. Install, upgrade (textfmt 1.0.0 -> 1.1.0,
 * every package at release 2), downgrade and erase each leave exactly the
 * right wheel files (the `%ghost` wheel of the old version goes on upgrade),
 * and erase leaves nothing of the packages behind (fpm's Debian changelog
 * included).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertVenvRuns, assertWheelhouse, buildBoth as buildNativeBoth, LIFECYCLE_REQSET as REQSET, packageFiles, rpmUpgradeRepos, wheelPackages } from '../helpers/lifecycle.ts';
import { apt, aptRepo, dnf, freshRoot, type TargetRoot } from '../helpers/target-root.ts';
import { makeUpgradeWorkspaces, type Workspace } from '../helpers/workspace.ts';

const FPM_RUN = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'vendor', 'fpm-run');
if (!existsSync(FPM_RUN)) throw new Error(`test environment: ${FPM_RUN} (fpm 1.17.0 for the fpm backend's tests) is missing; it comes with ../shared/vendor`);

const buildBoth = (v1: Workspace, v2: Workspace, target: string) => buildNativeBoth(v1, v2, target, { packager: 'fpm' });

const wheelhouseHas = async (root: TargetRoot, wheel: string) => (await root.filesUnder(`/opt/${REQSET}/wheelhouse`)).includes(`/opt/${REQSET}/wheelhouse/${wheel}`);

describe('fpm-built packages installed by the real package managers', () => {
  let v1: Workspace;
  let v2: Workspace;

  before(async () => {
    process.env.REQSET_FPM = FPM_RUN;
    ({ v1, v2 } = await makeUpgradeWorkspaces(REQSET));
  });
  after(async () => {
    delete process.env.REQSET_FPM;
    await v1.cleanup();
    await v2.cleanup();
  });

  it('RPMs with dnf: install, upgrade, downgrade, erase', async () => {
    const built = await buildBoth(v1, v2, 'el9-py311');
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
      assert.ok(await wheelhouseHas(root, 'textfmt-1.0.0-py3-none-any.whl'));
      assert.ok(!(await wheelhouseHas(root, 'textfmt-1.1.0-py3-none-any.whl')), 'the downgraded-from wheel, a %ghost, is gone');

      await dnf(root, repo2, ['remove', 'demo-*']);
      assert.equal(existsSync(path.join(root.dir, 'opt', 'demo')), false, 'erase leaves nothing under /opt/demo');
    } finally {
      await root.cleanup();
    }
  });

  it('DEBs with apt-get: install, upgrade, downgrade, purge', async () => {
    const built = await buildBoth(v1, v2, 'debian12');
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
      assert.ok(await wheelhouseHas(root, 'textfmt-1.0.0-py3-none-any.whl'));
      assert.ok(!(await wheelhouseHas(root, 'textfmt-1.1.0-py3-none-any.whl')));

      await apt(root, ['purge', ...names, 'demo-runtime']);
      assert.equal(existsSync(path.join(root.dir, 'opt', 'demo')), false, 'purge leaves nothing under /opt/demo');
      const docs = (await root.exec(['ls', '/usr/share/doc'])).stdout.split('\n').filter((d) => d.startsWith('demo-'));
      assert.deepEqual(docs, [], "fpm's changelogs go with their packages");
    } finally {
      await root.cleanup();
    }
  });
});
