/**
 * The version order publish keeps and prunes by comes from the real rpm
 * (rpm.vercmp in one `rpm --eval`) and dpkg (--compare-versions).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dpkgCompare, dpkgSort, rpmSortGroups } from '../../src/publish/versions.ts';

describe('version order from the package managers', () => {
  it('rpm: epochs, numeric segments, tilde and caret; equal versions grouped', async () => {
    const groups = await rpmSortGroups([
      ['0:1.10-1', '0:1.9-1', '1:0.1-1', '0:1.9-10', '0:1.9-2'],
      ['0:2.0~rc1-1', '0:2.0-1', '0:2.0^post1-1', '0:1.99-1'],
      ['0:1.0-1', '0:1.00-1', '0:0.9-1'],
      ['0:5-1'],
      [],
    ]);
    assert.deepEqual(groups, [
      [['0:1.9-1'], ['0:1.9-2'], ['0:1.9-10'], ['0:1.10-1'], ['1:0.1-1']],
      [['0:1.99-1'], ['0:2.0~rc1-1'], ['0:2.0-1'], ['0:2.0^post1-1']],
      [['0:0.9-1'], ['0:1.0-1', '0:1.00-1']],
      [['0:5-1']],
      [],
    ]);
  });

  it('rpm: many groups are split over several rpm calls', async () => {
    const groups = Array.from({ length: 3000 }, (_, i) => [`0:${i}.2-1`, `0:${i}.10-1`, `0:${i}.1-1`]);
    const sorted = await rpmSortGroups(groups);
    assert.equal(sorted.length, 3000);
    for (const [i, g] of sorted.entries()) assert.deepEqual(g, [[`0:${i}.1-1`], [`0:${i}.2-1`], [`0:${i}.10-1`]]);
  });

  it('rpm: refuses strings that are not E:V-R', async () => {
    await assert.rejects(rpmSortGroups([['0:1.0-1', '1.0"); os.exit(']]), /not an E:V-R/);
  });

  it('dpkg: revisions, epochs and tilde', async () => {
    assert.deepEqual(await dpkgSort(['1.0-10', '1.0-9', '1:0.1-1', '1.0~rc1-1', '1.0-1']), [['1.0~rc1-1'], ['1.0-1'], ['1.0-9'], ['1.0-10'], ['1:0.1-1']]);
    assert.equal(await dpkgCompare('1.0-1', '1.0-01'), 0);
    assert.equal(await dpkgCompare('2', '10'), -1);
  });
});
