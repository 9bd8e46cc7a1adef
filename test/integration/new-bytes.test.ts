/**
 * A package whose inputs are those of a published one, but which comes out
 * with other bytes (a newer reqset writes it otherwise, or a build is not
 * reproducible), must not become a second file of the same name and version:
 * it gets the next release, with a warning, and the repository converges.
 * The change of writer is shown by the repository's history naming other
 * bytes for one published package than this reqset makes from its inputs.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { HISTORY_FILE, parseHistory } from '../../src/packagers/history.ts';
import type { ProgressEvent } from '../../src/progress.ts';
import { makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';

const REQSET = 'nb';
const TARGET = 'debian12';
const CHANGED = `${REQSET}-wheel-textfmt`;

describe('a published version whose bytes this reqset does not make', () => {
  let ws: Workspace;
  let repo: string;
  const events: ProgressEvent[] = [];
  const build = (out: string) => api.buildTarget(REQSET, TARGET, { workspace: ws.dir, out: path.join(ws.dir, out), wheelCache: ws.cache, jobs: 2, repo, progress: (e) => events.push(e) });
  const publish = (out: string) => api.publish(REQSET, TARGET, { workspace: ws.dir, out: path.join(ws.dir, out), repo });
  const packageOf = (result: api.BuildResult, name: string) => {
    const found = api.manifestPackages(result.manifest).find((p) => p.name === name);
    assert.ok(found, `${name} was built`);
    return found;
  };

  before(async () => {
    ws = await makeWorkspace();
    await ws.writeReqset(REQSET, `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    repo = path.join(ws.dir, 'repo');
  });
  after(async () => ws?.cleanup());

  it('gets the next release with a warning naming the file; published, the next build keeps it', async () => {
    const first = await build('out1');
    await publish('out1');
    const historyFile = path.join(repo, HISTORY_FILE);
    const history = parseHistory(await readFile(historyFile, 'utf8'), historyFile);
    const entries = history.packages[CHANGED];
    assert.ok(entries?.length === 1, `${CHANGED} is in the history once`);
    const published = entries[0]!;
    entries[0] = { ...published, sha256: 'f'.repeat(64) };
    await writeFile(historyFile, `${JSON.stringify(history, null, 2)}\n`);

    events.length = 0;
    const second = await build('out2');
    const moved = packageOf(second, CHANGED);
    assert.equal(moved.release, '2');
    assert.equal(moved.reason, 'new bytes');
    assert.equal(moved.inputs, published.inputs, 'the same inputs');
    const warnings = events.filter((e) => e.state === 'warning').map((e) => e.detail ?? '');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, new RegExp(`^${published.file.replace(/[.+]/g, '\\$&')} came out other than the published file of that name .* from the same inputs: .* it gets release 2$`));
    // The pins package requires each wheel package at its exact version, and the runtime's SBOM names it: both move with it.
    for (const name of [`${REQSET}-pins`, `${REQSET}-runtime`]) assert.equal(packageOf(second, name).reason, 'new content', name);
    for (const p of api.manifestPackages(first.manifest).filter((p) => ![CHANGED, `${REQSET}-pins`, `${REQSET}-runtime`].includes(p.name))) {
      const again = packageOf(second, p.name);
      assert.equal(again.reason, 'unchanged', p.name);
      assert.equal(again.sha256, p.sha256, `${p.name}: the same bytes`);
    }
    assert.deepEqual(second.manifest.pins.map((p) => p.package.file).filter((f) => f === published.file), [], 'release 1 is not in the build');
    const diff = await api.diff(REQSET, TARGET, { out: path.join(ws.dir, 'out2'), repo });
    assert.deepEqual(diff.packages.find((p) => p.name === CHANGED)?.why, ['the same inputs came out as other bytes than the published file']);

    await publish('out2');
    events.length = 0;
    const third = await build('out3');
    const kept = packageOf(third, CHANGED);
    assert.deepEqual([kept.release, kept.reason, kept.sha256], ['2', 'unchanged', moved.sha256]);
    assert.deepEqual(events.filter((e) => e.state === 'warning'), []);
  });
});
