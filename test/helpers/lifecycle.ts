/**
 * The example reqset built twice (v2 bumps textfmt, every package at release
 * 2) and the checks made on a root after each install, upgrade and downgrade:
 * shared by the native and the fpm lifecycle tests.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import * as api from '../../src/api.ts';
import { sha256File } from '../../src/fsutil.ts';
import { dnf, fakeProvideRpm, rpmRepo, type TargetRoot } from './target-root.ts';
import type { Workspace } from './workspace.ts';

export const LIFECYCLE_REQSET = 'demo';

export interface Built {
  v1: api.BuildResult;
  v2: api.BuildResult;
}

/** v2 bumps textfmt; --release 2 gives every package of its build release 2, so each one is an upgrade. */
export async function buildBoth(v1: Workspace, v2: Workspace, target: string, extra: api.CommonOptions = {}): Promise<Built> {
  const options = (ws: Workspace) => ({ workspace: ws.dir, out: ws.out, wheelCache: v1.cache, jobs: 2, ...extra });
  return {
    v1: await api.buildTarget(LIFECYCLE_REQSET, target, options(v1)),
    v2: await api.buildTarget(LIFECYCLE_REQSET, target, { ...options(v2), release: '2' }),
  };
}

export const packageFiles = (result: api.BuildResult) => api.manifestPackages(result.manifest).map((p) => path.join(result.outDir, p.path));
export const wheelPackages = (result: api.BuildResult) => result.manifest.pins.map((p) => p.package.name);

/** The wheelhouse holds exactly the wheels of the named packages, rebuilt as the build said; nothing byte-compiled or debug. */
export async function assertWheelhouse(root: TargetRoot, result: api.BuildResult, names: string[]) {
  const wheelhouse = `/opt/${LIFECYCLE_REQSET}/wheelhouse`;
  const expected = result.manifest.pins.filter((p) => names.includes(p.package.name));
  assert.deepEqual(await root.filesUnder(wheelhouse), expected.map((p) => `${wheelhouse}/${p.wheel.file}`).sort());
  for (const pin of expected) {
    const rebuilt = await sha256File(path.join(root.dir, wheelhouse, pin.wheel.file));
    assert.equal(rebuilt, pin.rebuiltWheel.sha256, pin.wheel.file);
    // Identical to the original wheel: every unpacked file arrived byte for byte.
    if (pin.rebuiltWheel.identical) assert.equal(rebuilt, pin.wheel.sha256, pin.wheel.file);
  }
  const compiled = (await root.filesUnder(`/opt/${LIFECYCLE_REQSET}/wheels`)).filter((f) => f.endsWith('.pyc') || f.includes('.build-id'));
  assert.deepEqual(compiled, [], 'no byte-compiled or debug files');
}

/** A venv made from the wheelhouse with the root's python runs the example application. */
export async function assertVenvRuns(root: TargetRoot, python: string) {
  await root.exec(['rm', '-rf', '/root/venv']);
  await root.exec([python, '-m', 'venv', '/root/venv']);
  await root.exec(['/root/venv/bin/pip', 'install', '-q', '--no-index', '--find-links', `/opt/${LIFECYCLE_REQSET}/wheelhouse`, 'an_example_pypi_project']);
  const out = await root.exec(['/root/venv/bin/an-example']);
  assert.match(out.stdout, /norm=5\.0 cosine=1\.0/);
  await root.exec(['/root/venv/bin/python', '-c', 'import textfmt, tinyvec, tinystats, an_example_pypi_project']);
}

/**
 * The two yum repositories of an upgrade (v1's packages; v1's and v2's), each
 * with the test-only RPM that provides the root's Python and libraries, which
 * is installed into the root first.
 */
export async function rpmUpgradeRepos(root: TargetRoot, built: Built, dir: string): Promise<{ repo1: string; repo2: string }> {
  const all = [...packageFiles(built.v1), ...packageFiles(built.v2)];
  const fake = await fakeProvideRpm(all, path.join(root.dir, 'tmp'));
  const repo1 = await rpmRepo([...packageFiles(built.v1), fake], path.join(dir, 'repo1'));
  const repo2 = await rpmRepo([...all, fake], path.join(dir, 'repo2'));
  await dnf(root, repo1, ['install', 'reqset-test-fakeprovide']);
  return { repo1, repo2 };
}
