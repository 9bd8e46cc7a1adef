/**
 * A spec value that would inject into a package stops `reqset build` through
 * the library API as an input error (exit code 2) before anything is built.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTarget } from '../../src/api.ts';
import { InputError } from '../../src/errors.ts';

describe('reqset build with a spec that would inject into the RPM spec file', () => {
  let ws: string;
  before(async () => {
    ws = await mkdtemp(path.join(tmpdir(), 'reqset-spec-build-'));
    await mkdir(path.join(ws, 'reqsets'));
    await mkdir(path.join(ws, 'specs'));
    await writeFile(path.join(ws, 'reqsets', 'orbit.txt'), '--no-index\nsix==1.17.0\n');
    await writeFile(
      path.join(ws, 'specs', 'orbit.yml'),
      'name: orbit\nreqset: orbit\ndistribution: six\nsummary: Orbit\nrequires:\n  rpm:\n    - "bash\\n%pretrans\\necho injected"\n',
    );
  });
  after(() => rm(ws, { recursive: true, force: true }));

  it('is an input error naming file, line and field, and builds nothing', async () => {
    const out = path.join(ws, 'out');
    await assert.rejects(buildTarget('orbit', 'el9-py311', { workspace: ws, out, wheelCache: path.join(ws, 'cache') }), (error) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.exitCode, 2);
      assert.deepEqual(error.problems, [
        'specs/orbit.yml:7: requires.rpm: "bash\\n%pretrans\\necho injected" has a line break or control character: one dependency per entry, on one line',
      ]);
      return true;
    });
    const left = await readdir(path.join(out, 'orbit')).catch(() => []);
    assert.deepEqual(left.filter((f) => !f.startsWith('.')), [], 'no packages');
  });
});
