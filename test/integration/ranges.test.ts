/**
 * The bounds of src/packagers/ranges.ts admit, in the real rpm and dpkg,
 * exactly the mapped versions whose originals PEP 440 admits (as pip's own
 * `packaging` decides, pre-releases allowed since a pin may be one), except where the module
 * says a relation is looser (`!=`, `>V` for a non-final V): there they admit
 * at least what PEP 440 admits. Every verdict comes from the tools: rpm's
 * rpm.vercmp in one Lua loop, `dpkg --compare-versions` in one shell loop.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { boundVersion, specifierBounds, type Bound } from '../../src/packagers/ranges.ts';
import { mappedVersion } from '../../src/packagers/version.ts';
import { run } from '../../src/run.ts';
import { pep440Verdicts } from '../helpers/pep440-oracle.ts';

const CANDIDATES = [
  '0.9', '0.9.post1', '1.0.dev1', '1.0a1', '1.0rc1', '1.0', '1.0+local.1', '1.0.post1', '1.0.post1+x', '1.0.post2.dev1',
  '1.0.0.1', '1.0.1', '1.4', '1.4.1', '1.4.2rc1', '1.4.2', '1.4.5', '1.4.99', '1.5.dev0', '1.5a1', '1.5', '1.5.post1',
  '1.9', '1.9.9.9', '2.0.dev0', '2.0a1', '2.0rc1', '2.0', '2.0+abc', '2.0.post1', '2.1', '3.0', '1!0.1', '1!1.0',
];

/** Specifiers whose bounds must admit exactly what PEP 440 admits. */
const EXACT = [
  '>=1.0', '>=1.0rc1', '>1.0', '>1.0.0', '<2', '<2.0', '<2.0rc1', '<=1.0', '<=1.0.post1', '==1.0', '==1.0.0', '==1.0.post1',
  '==1.0+local.1', '==1.*', '==1.4.*', '==2.*', '~=1.4.2', '~=1.4', '~=1.0.post1', '>=1.0,<2', '===1.0', '>=1!0.0', '<1!0.5',
];

/** Specifiers whose bounds may admit more than PEP 440 (documented in ranges.ts). */
const LOOSER = ['!=1.5', '>1.0rc1', '>1.0.post1', '!=1.4.*', '>=1.4,<1.5,!=1.4.1'];

const SATISFIED = { '<': (c: number) => c < 0, '<=': (c: number) => c <= 0, '=': (c: number) => c === 0, '>=': (c: number) => c >= 0, '>': (c: number) => c > 0 };

/** Every (candidate, bound) comparison, in the order asked, from rpm.vercmp. */
async function rpmCompare(pairs: [string, string][]): Promise<number[]> {
  const list = pairs.map(([a, b]) => `{${JSON.stringify(a)},${JSON.stringify(b)}}`).join(',');
  const program = `%{lua: for _, p in ipairs({${list}}) do print(rpm.vercmp(p[1], p[2]) .. "\\n") end}`;
  const out = await run(['rpm', '--eval', program]);
  return out.stdout.trim().split('\n').map(Number);
}

/** Whether `dpkg --compare-versions a lt b` holds, per pair (one shell loop). */
async function dpkgCompare(pairs: [string, string][]): Promise<number[]> {
  const script = 'while read a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done';
  const out = await run(['sh', '-c', script], { input: pairs.map(([a, b]) => `${a} ${b}\n`).join('') });
  return out.stdout.trim().split('\n').map(Number);
}

async function verdicts(compare: (pairs: [string, string][]) => Promise<number[]>, specs: string[]): Promise<Map<string, boolean>> {
  const asked: { spec: string; candidate: string; bound: Bound }[] = [];
  for (const spec of specs) {
    for (const candidate of CANDIDATES) for (const bound of specifierBounds(spec)) asked.push({ spec, candidate, bound });
  }
  const results = await compare(asked.map(({ candidate, bound }) => [boundVersion(mappedVersion(candidate)), boundVersion(bound)]));
  const admitted = new Map<string, boolean>();
  for (const [i, { spec, candidate, bound }] of asked.entries()) {
    const key = `${spec} ${candidate}`;
    admitted.set(key, (admitted.get(key) ?? true) && SATISFIED[bound.op](results[i] as number));
  }
  return admitted;
}

for (const [tool, compare] of [['rpm', rpmCompare], ['dpkg', dpkgCompare]] as const) {
  describe(`PEP 440 specifiers as ${tool} relations`, () => {
    it('admit exactly what PEP 440 admits', async () => {
      const admitted = await verdicts(compare, EXACT);
      const pep440 = await pep440Verdicts(EXACT, CANDIDATES);
      const wrong: string[] = [];
      for (const spec of EXACT) {
        for (const candidate of CANDIDATES) {
          const expected = pep440.get(`${spec} ${candidate}`);
          if ((admitted.get(`${spec} ${candidate}`) ?? true) !== expected) wrong.push(`${candidate} ${expected ? 'refused' : 'admitted'} by ${spec} (${JSON.stringify(specifierBounds(spec).map((b) => `${b.op} ${boundVersion(b)}`))})`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    it('are never stricter than PEP 440 where they are looser', async () => {
      const admitted = await verdicts(compare, LOOSER);
      const pep440 = await pep440Verdicts(LOOSER, CANDIDATES);
      const refused = LOOSER.flatMap((spec) => CANDIDATES.filter((c) => pep440.get(`${spec} ${c}`) && admitted.get(`${spec} ${c}`) === false).map((c) => `${c} by ${spec}`));
      assert.deepEqual(refused, []);
    });
  });
}

describe('specifierBounds', () => {
  it('writes ranges as two bounds and `!=` as none', () => {
    const text = (spec: string) => specifierBounds(spec).map((b) => `${b.op} ${boundVersion(b)}`);
    assert.deepEqual(text('>=1.0,<2'), ['>= 1.0', '< 2.0~~']);
    assert.deepEqual(text('~=1.4.2'), ['>= 1.4.2', '< 1.5~~']);
    assert.deepEqual(text('==1.0'), ['>= 1.0', '< 1.0+p']);
    assert.deepEqual(text('>1.0'), ['>= 1.0.0~']);
    assert.deepEqual(text('>=1!2.0'), ['>= 1:2.0']);
    assert.deepEqual(text('!=1.5'), []);
    assert.deepEqual(text(''), []);
  });
});
