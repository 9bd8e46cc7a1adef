/**
 * The version order publish keeps and prunes by is the package managers':
 * from the real rpm (rpm.vercmp in one `rpm --eval`), and for Debian
 * computed in-process, held here to `dpkg --compare-versions` on every pair
 * of a set of tricky versions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debianVersionOrder } from '../../src/packagers/index.ts';
import { dpkgSort, rpmSortGroups } from '../../src/publish/versions.ts';
import { run } from '../../src/run.ts';

/** Where a naive Debian order goes wrong, all valid versions. */
const DEBIAN_VERSIONS = [
  // tilde before anything, even the end of the part
  '1.0~~', '1.0~~a', '1.0~', '1.0~a', '1.0~rc1', '1.0~rc1-1', '2.36~rc1',
  // no revision is revision 0, leading zeros do not count, the revision is after the last hyphen
  '1.0', '1.0-0', '1.0-1', '1.0-01', '1.0-1~bpo1', '1.0-1.1', '1.0-1+deb12u1', '1.0-a', '1.0-1-1', '1.2.3-4-5', '2.36-9+deb12u4',
  // letters before other characters, upper case before lower case, digits against letters
  '1.0a', '1.0A', '1.0Z', '1.0a1', '1.0.a', '1.0+', '1.0.', '1.0+b1', '1.0.1', '1.01', '1.00', '1.0+dfsg-1', '1.0+dfsg1-1',
  // epochs, and a colon in the upstream version after one
  '0:1.0', '00:1.0', '1:0.1', '1:1.0-1', '1:1.0:1', '2:0', '10:0',
  // numbers compare as numbers
  '0', '00', '0.0', '2', '9', '10', '2.14', '2.2.5', '2.36', '3.0',
];

/** dpkg --compare-versions' verdict on each pair (-1, 0 or 1), from one shell loop; its stderr (warnings about a version) too. */
async function dpkgVerdicts(pairs: [string, string][]): Promise<{ verdicts: number[]; stderr: string }> {
  const script = 'while read a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done';
  const { stdout, stderr } = await run(['sh', '-c', script], { input: pairs.map(([a, b]) => `${a} ${b}\n`).join('') });
  return { verdicts: stdout.trim().split('\n').map(Number), stderr };
}

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

  it('dpkg: every pair of tricky versions compares as dpkg --compare-versions compares it, and sorts so, equal versions grouped', async () => {
    const { compare } = await debianVersionOrder();
    const pairs = DEBIAN_VERSIONS.flatMap((a, i) => DEBIAN_VERSIONS.slice(i + 1).map((b): [string, string] => [a, b]));
    const { verdicts, stderr } = await dpkgVerdicts(pairs);
    assert.equal(stderr, '', 'dpkg finds every version valid');
    assert.equal(verdicts.length, pairs.length);
    const sorted = await dpkgSort([...DEBIAN_VERSIONS].reverse());
    const rank = new Map(sorted.flatMap((equal, r) => equal.map((v) => [v, r] as const)));
    const wrong = pairs.flatMap(([a, b], k) => {
      const expected = verdicts[k];
      const mine = [Math.sign(compare(a, b)), -Math.sign(compare(b, a)), Math.sign((rank.get(a) as number) - (rank.get(b) as number))];
      return mine.every((v) => v === expected) ? [] : [`${a} vs ${b}: dpkg ${expected}, compare/reversed/sorted ${mine.join('/')}`];
    });
    assert.deepEqual(wrong, []);
    assert.deepEqual(sorted.find((equal) => equal.includes('1.0-1'))?.sort(), ['1.0-01', '1.0-1']);
  });

  it('dpkg: refuses to order what dpkg refuses (an empty revision)', async () => {
    assert.equal((await run(['dpkg', '--compare-versions', '1.0-', 'lt', '1.0'], { allowFailure: true })).exitCode, 2);
    await assert.rejects(dpkgSort(['1.0', '1.0-']), /cannot order Debian version "1.0-": not a valid Debian version/);
  });
});
