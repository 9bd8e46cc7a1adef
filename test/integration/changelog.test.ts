/**
 * The changelog entries across published revisions: v1 is a first build; v2
 * (textfmt bumped), built on the repository v1 was published to, says which
 * pin moved; v2 built again after its own publish, without the package
 * cache, writes the same entries, so the same bytes.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { run } from '../../src/run.ts';
import { makeUpgradeWorkspaces, type Workspace } from '../helpers/workspace.ts';

const REQSET = 'cl';
const TARGET = 'el9-py311';

describe('changelog entries over published revisions', () => {
  let v1: Workspace;
  let v2: Workspace;
  let repo: string;
  const build = (ws: Workspace, out: string) => api.buildTarget(REQSET, TARGET, { workspace: ws.dir, out: path.join(ws.dir, out), wheelCache: ws.cache, jobs: 2, repo });
  const publish = (ws: Workspace, out: string) => api.publish(REQSET, TARGET, { workspace: ws.dir, out: path.join(ws.dir, out), repo });
  const fileOf = (result: api.BuildResult, name: string) => {
    const found = api.manifestPackages(result.manifest).find((p) => p.name === name);
    assert.ok(found, `${name} was built`);
    return { ...found, file: path.join(result.outDir, found.path) };
  };
  const changelog = async (file: string) => (await run(['rpm', '-qp', '--changelog', file], { env: { LC_ALL: 'C' } })).stdout;

  before(async () => {
    ({ v1, v2 } = await makeUpgradeWorkspaces(REQSET));
    repo = path.join(v1.dir, 'repo');
  });
  after(async () => {
    await v1?.cleanup();
    await v2?.cleanup();
  });

  it('v1: first build; v2 names the moved pin and its wheel; v2 again, without the package cache: the same entries and bytes', async () => {
    const first = await build(v1, 'out');
    assert.match(await changelog(fileOf(first, `${REQSET}-pins`).file), /^\* Mon Jan 01 1990 reqset <reqset@cl\.invalid> - 1\.0-1\n- First build\n/);
    assert.match(await changelog(fileOf(first, `${REQSET}-wheel-textfmt`).file), /^- First build: ships the wheel textfmt-1\.0\.0-py3-none-any\.whl$/m);
    await publish(v1, 'out');

    const second = await build(v2, 'out');
    const pins = fileOf(second, `${REQSET}-pins`);
    assert.equal(pins.release, '2');
    assert.equal(await changelog(pins.file), '* Mon Jan 01 1990 reqset <reqset@cl.invalid> - 1.0-2\n- textfmt 1.0.0 -> 1.1.0\n\n');
    assert.match(await changelog(fileOf(second, `${REQSET}-wheel-textfmt`).file), /^- Ships the wheel textfmt-1\.1\.0-py3-none-any\.whl$/m);
    await publish(v2, 'out');

    const packageCache = path.join(v2.cache, 'packages');
    if (existsSync(packageCache)) await rename(packageCache, `${packageCache}-aside`);
    const again = await build(v2, 'out-again');
    for (const p of api.manifestPackages(second.manifest)) {
      const rebuilt = fileOf(again, p.name);
      assert.equal(rebuilt.reused, false, `${p.name} is built again, not taken from the cache`);
      assert.equal(rebuilt.reason, 'unchanged', p.name);
      assert.equal(rebuilt.sha256, p.sha256, `${p.name}: the same bytes`);
    }
  });
});
