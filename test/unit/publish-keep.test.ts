import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupByName, ranksOf, selectKept, sortVersions } from '../../src/publish/keep.ts';

const pkg = (name: string, versionKey: string, arch = 'noarch') => ({ name, versionKey, arch });
/** A stand-in order for the pure logic only (numbers); the real order comes from rpm and dpkg. */
const numeric = (a: string, b: string) => Math.sign(Number(a) - Number(b));

describe('keeping the newest and N older versions', () => {
  const items = [pkg('a', '3'), pkg('a', '1'), pkg('a', '4'), pkg('a', '2')];
  const rank = ranksOf([['1'], ['2'], ['3'], ['4']]);

  it('keeps the newest and `keep` older ones, newest first, prunes the rest', () => {
    const s = selectKept(items, rank, 2);
    assert.deepEqual(s.newest.map((p) => p.versionKey), ['4']);
    assert.deepEqual(s.older.map((p) => p.versionKey), ['3', '2']);
    assert.deepEqual(s.pruned.map((p) => p.versionKey), ['1']);
  });

  it('keep=0 keeps only the newest; a large keep keeps everything', () => {
    assert.deepEqual(selectKept(items, rank, 0).pruned.map((p) => p.versionKey), ['3', '2', '1']);
    const all = selectKept(items, rank, 10);
    assert.equal(all.pruned.length, 0);
    assert.equal(all.older.length, 3);
  });

  it('counts versions, not files: every architecture of a version stays together', () => {
    const multi = [pkg('a', '2', 'x86_64'), pkg('a', '2', 'aarch64'), pkg('a', '1', 'x86_64'), pkg('a', '0', 'x86_64')];
    const s = selectKept(multi, ranksOf([['0'], ['1'], ['2']]), 1);
    assert.deepEqual(s.newest.map((p) => p.arch).sort(), ['aarch64', 'x86_64']);
    assert.deepEqual(s.older.map((p) => p.versionKey), ['1']);
    assert.deepEqual(s.pruned.map((p) => p.versionKey), ['0']);
  });

  it('versions the package manager calls equal share a rank', () => {
    const s = selectKept([pkg('a', '1.0'), pkg('a', '1.00'), pkg('a', '0.9')], ranksOf([['0.9'], ['1.0', '1.00']]), 0);
    assert.deepEqual(s.newest.map((p) => p.versionKey).sort(), ['1.0', '1.00']);
    assert.deepEqual(s.pruned.map((p) => p.versionKey), ['0.9']);
  });

  it('rejects a negative keep and versions missing from the order', () => {
    assert.throws(() => selectKept(items, rank, -1), /non-negative/);
    assert.throws(() => selectKept([pkg('a', '9')], rank, 1), /missing from the order/);
  });

  it('groups by name, names sorted', () => {
    const groups = groupByName([pkg('b', '1'), pkg('a', '1'), pkg('b', '2')]);
    assert.deepEqual([...groups.keys()], ['a', 'b']);
    assert.equal(groups.get('b')?.length, 2);
  });

  it('sorts with an asynchronous comparison, grouping equal versions', async () => {
    assert.deepEqual(sortVersions(['10', '2', '33', '1', '2.0', '5'], numeric), [['1'], ['2', '2.0'], ['5'], ['10'], ['33']]);
    assert.deepEqual(sortVersions([], numeric), []);
  });
});
