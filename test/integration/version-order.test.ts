/**
 * The mapped versions sort in the real rpm, dpkg and apt exactly as PEP 440
 * (@renovatebot/pep440's compare) sorts the originals, and equal PEP 440
 * versions compare equal. Nothing here re-implements rpmvercmp or dpkg's
 * algorithm: every verdict comes from the tools.
 *
 *   rpm   all pairs, in one `rpm --eval` running a Lua loop over rpm.vercmp on
 *         full E:V-R strings;
 *   apt   all pairs, in one python3-apt process (apt_pkg.version_compare),
 *         skipped when python3-apt is missing;
 *   dpkg  `dpkg --compare-versions` on adjacent pairs in PEP 440 order, all
 *         pairs of PEP 440's own example and the traps, and random pairs, from
 *         a few shell loops;
 *   rpmspec  every mapped E:V-R is accepted in Epoch:/Version:/Release: and in
 *         a Provides: and read back unchanged.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, parse } from '@renovatebot/pep440';
import { run } from '../../src/run.ts';
import { rpmEVR, toDebianVersion, toRpmVersion } from '../../src/packagers/version.ts';

/** PEP 440, "Summary of permitted suffixes and relative ordering": strictly increasing. */
const PEP440_EXAMPLE = [
  '1.0.dev456',
  '1.0a1',
  '1.0a2.dev456',
  '1.0a12.dev456',
  '1.0a12',
  '1.0b1.dev456',
  '1.0b2',
  '1.0b2.post345.dev456',
  '1.0b2.post345',
  '1.0rc1.dev456',
  '1.0rc1',
  '1.0',
  '1.0+abc.5',
  '1.0+abc.7',
  '1.0+5',
  '1.0.post456.dev34',
  '1.0.post456',
  '1.0.15',
  '1.1.dev1',
];

/** Hand-picked cases where a naive mapping goes wrong. */
const TRAPS = [
  // equal in PEP 440, different strings
  '1', '1.0.0', '1.0.0.0', '0!1.0', 'v1.0', '1.0RC1', '1.0c1', '1.0-1', '1.0.post1', '1.0r1',
  '1.0+ABC-05', '1.0+abc_5', '1.0.0+abc.5',
  // dev below every pre-release, post-release below the next release segment
  '1.0.dev0', '1.0a0.dev0', '1.0a0', '1.0.0.1', '1.0.0.0.1', '1.0.1', '1.0.1a1', '1.0.post0.dev0', '1.0.post9999',
  '0', '0.0.1', '0.1', '0.dev0', '0.post0', '0+0', '0a0',
  // local labels: alphanumeric < numeric, lexicographic, shorter < longer
  '1.0+a', '1.0+ab', '1.0+ab.5', '1.0+ab.a', '1.0+abc', '1.0+ab.5.5', '1.0+ab.6', '1.0+ab.10', '1.0+zzz', '1.0+zzz.zzz',
  '1.0+cu118', '1.0+cu12', '1.0+cpu', '1.0+a9', '1.0+a10', '1.0+1a', '1.0+10a', '1.0+9a', '1.0+0', '1.0+00', '1.0+0.0',
  '1.0+9007199254740991', '1.0+post', '1.0+local', '1.0+localz', '1.0+l', '1.0+a.b.c.d',
  '1.0a1+abc', '1.0.dev1+abc', '1.0.post1+abc', '1.0.post1.dev1+abc', '1.0a1.post1.dev1+5', '1.0.1+abc',
  // epochs win over everything
  '1!0.0.dev0', '1!0', '2!0.1', '1!1.0+abc', '10!1.0',
];

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(count: number, seed: number): string[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  // Alphanumeric local segments that are not numbers to JavaScript either
  // (the library's parse would read `1e5` as 100000, PEP 440 as a string).
  const localSegments = ['0', '5', '05', '7', '12', '100', 'abc', 'ab', 'abd', 'a', 'z', 'cpu', 'cu118', 'cu12', 'a9', 'a10', '1a', '9a', '10a', 'ubuntu1', 'g1234abc'];
  const out: string[] = [];
  while (out.length < count) {
    let v = '';
    if (rand() < 0.12) v += `${pick([0, 1, 1, 2])}!`;
    const segments = 1 + Math.floor(rand() * 4);
    v += Array.from({ length: segments }, () => pick(['0', '0', '1', '1', '2', '10', '01'])).join('.');
    if (rand() < 0.45) v += pick(['', '', '.', '-', '_']) + pick(['a', 'b', 'rc', 'a', 'b', 'rc', 'alpha', 'beta', 'c', 'pre', 'preview', 'RC']) + pick(['', '0', '1', '1', '2', '12']);
    if (rand() < 0.35) v += rand() < 0.15 ? `-${pick(['0', '1', '2'])}` : pick(['.', '', '-', '_']) + pick(['post', 'post', 'rev', 'r']) + pick(['', '0', '1', '2', '12']);
    if (rand() < 0.35) v += pick(['.', '', '-']) + pick(['dev', 'DEV']) + pick(['', '0', '1', '12', '456']);
    if (rand() < 0.3) {
      const n = 1 + Math.floor(rand() * 3);
      const label = Array.from({ length: n }, () => pick(localSegments)).map((s) => (rand() < 0.1 ? s.toUpperCase() : s));
      v += `+${label.reduce((acc, s) => `${acc}${pick(['.', '.', '-', '_'])}${s}`)}`;
    }
    if (parse(v)) out.push(v);
  }
  return out;
}

const sign = (n: number): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);
const SYMBOL = { '-1': '<', '0': '=', '1': '>' } as const;
const symbol = (n: number): string => SYMBOL[String(sign(n)) as keyof typeof SYMBOL];

const VERSIONS = [...new Set([...PEP440_EXAMPLE, ...TRAPS, ...generate(400, 20240517)])];
/** Indexes of VERSIONS in PEP 440 order. */
const SORTED = VERSIONS.map((_, i) => i).sort((a, b) => compare(VERSIONS[a] as string, VERSIONS[b] as string));
const RPM = VERSIONS.map((v) => rpmEVR(toRpmVersion(v)));
const DEB = VERSIONS.map((v) => toDebianVersion(v));

function at<T>(list: readonly T[], i: number): T {
  const value = list[i];
  if (value === undefined) throw new Error(`index ${i} out of range`);
  return value;
}

/** Expected verdict for VERSIONS[i] vs VERSIONS[j]. */
function expected(i: number, j: number): string {
  return symbol(compare(at(VERSIONS, i), at(VERSIONS, j)));
}

function describePair(i: number, j: number, mapped: readonly string[], got: string): string {
  return `${at(VERSIONS, i)} ${expected(i, j)} ${at(VERSIONS, j)} in PEP 440, but ${at(mapped, i)} ${got} ${at(mapped, j)}`;
}

/** Checks an all-pairs matrix of '<', '=', '>' (one line per row) from a tool. */
function checkMatrix(matrix: string, mapped: readonly string[], tool: string): void {
  const rows = matrix.trimEnd().split('\n');
  assert.equal(rows.length, VERSIONS.length, `${tool}: expected ${VERSIONS.length} rows`);
  const wrong: string[] = [];
  let checked = 0;
  rows.forEach((row, i) => {
    assert.equal(row.length, VERSIONS.length, `${tool}: row ${i} has ${row.length} verdicts`);
    for (let j = i + 1; j < VERSIONS.length; j++) {
      checked++;
      const got = row[j] ?? '?';
      if (got !== expected(i, j)) wrong.push(describePair(i, j, mapped, got));
    }
  });
  assert.ok(checked > 50_000, `only ${checked} pairs checked`);
  assert.deepEqual(wrong.slice(0, 20), [], `${tool}: ${wrong.length} of ${checked} pairs ordered differently from PEP 440`);
}

describe('PEP 440 -> RPM/Debian version order against the real tools', () => {
  it('has a sound oracle: PEP 440 example strictly increasing, a large varied sample', () => {
    for (let i = 1; i < PEP440_EXAMPLE.length; i++) {
      assert.equal(sign(compare(PEP440_EXAMPLE[i - 1] as string, PEP440_EXAMPLE[i] as string)), -1, PEP440_EXAMPLE[i]);
    }
    assert.ok(VERSIONS.length > 400, `${VERSIONS.length} versions`);
    const distinct = new Set(SORTED.map((i) => toDebianVersion(at(VERSIONS, i))));
    assert.ok(distinct.size > 300, `${distinct.size} distinct versions`);
    // the sample holds equal pairs, epochs, locals, pre+post+dev combinations
    let equalAdjacent = 0;
    for (let k = 1; k < SORTED.length; k++) if (compare(at(VERSIONS, at(SORTED, k - 1)), at(VERSIONS, at(SORTED, k))) === 0) equalAdjacent++;
    assert.ok(equalAdjacent > 20, `${equalAdjacent} equal adjacent pairs`);
    for (const re of [/^[1-9]!/, /\+.*[._-]/, /(a|b|rc).*post.*dev/i, /^[^+]*(\.0){2,}([^.\d]|$)/]) {
      assert.ok(VERSIONS.some((v) => re.test(v)), `no version matches ${re}`);
    }
  });

  it('rpm (rpm.vercmp on E:V-R) orders all pairs as PEP 440 does', async () => {
    const table = RPM.map((v) => `"${v}"`).join(',');
    const lua =
      `local v = {${table}} local out = {} ` +
      'for i = 1, #v do local row = {} for j = 1, #v do local c = rpm.vercmp(v[i], v[j]) ' +
      'row[j] = (c < 0) and "<" or ((c > 0) and ">" or "=") end out[i] = table.concat(row) end ' +
      'print(table.concat(out, "\\n"))';
    const { stdout } = await run(['rpm', '--eval', `%{lua: ${lua}}`]);
    checkMatrix(stdout, RPM, 'rpm');
  });

  it('rpm.vercmp compares epochs and releases as rpm does (known cases)', async () => {
    const cases: [string, string, string][] = [
      ['1:1.0-1', '2.0-1', '>'],
      ['0:1.0-1', '1.0-1', '='],
      ['1.0-1', '1.0-2', '<'],
      ['1.0~rc1-1', '1.0-1', '<'],
      ['1.0-1', '1.0.0-1', '<'], // why trailing zeros are dropped
    ];
    const lua = cases.map(([a, b]) => `rpm.vercmp("${a}", "${b}")`).join(', ');
    const { stdout } = await run(['rpm', '--eval', `%{lua: print(${lua})}`]);
    assert.deepEqual(stdout.trim().split(/\s+/).map(Number).map(symbol), cases.map((c) => c[2]));
  });

  it('orders local labels by PEP 440 where the JavaScript oracle cannot (huge numbers, 1e5, 0x10)', async () => {
    // @renovatebot/pep440 reads local segments with Number(): it rounds huge
    // numbers and reads "1e5" and "0x10" as numbers. PEP 440 (and pip's
    // packaging) compare digit-only segments as exact integers and treat
    // anything else as a string, which sorts below every number.
    const cases: [string, string, string][] = [
      ['1.0+99999999999999999999', '<', '1.0+100000000000000000000'],
      ['1.0+100000000000000000000', '=', '1.0+0100000000000000000000'],
      ['1.0+1e5', '<', '1.0+0'],
      ['1.0+0x10', '<', '1.0+0'],
      ['1.0+1e5', '<', '1.0+1f'],
    ];
    const lua = cases.map(([a, , b]) => `rpm.vercmp("${rpmEVR(toRpmVersion(a))}", "${rpmEVR(toRpmVersion(b))}")`).join(', ');
    const { stdout } = await run(['rpm', '--eval', `%{lua: print(${lua})}`]);
    assert.deepEqual(stdout.trim().split(/\s+/).map(Number).map(symbol), cases.map((c) => c[1]), 'rpm');
    for (const [a, verdict, b] of cases) {
      const op = verdict === '<' ? 'lt' : 'eq';
      const { exitCode } = await run(['dpkg', '--compare-versions', toDebianVersion(a), op, toDebianVersion(b)], { allowFailure: true });
      assert.equal(exitCode, 0, `dpkg: ${toDebianVersion(a)} ${op} ${toDebianVersion(b)}`);
    }
  });

  describe('apt (python3-apt)', () => {
    before(async () => {
      const probe = await run(['/usr/bin/python3', '-c', 'import apt_pkg'], { allowFailure: true });
      assert.equal(probe.exitCode, 0, 'python3-apt is not installed for /usr/bin/python3: scripts/setup-debian.sh installs it');
    });

    it('apt_pkg.version_compare orders all pairs as PEP 440 does', async () => {
      const script = [
        'import apt_pkg, json, sys',
        'apt_pkg.init_system()',
        'v = json.load(sys.stdin)',
        'rows = []',
        'for a in v:',
        '    rows.append("".join("<" if c < 0 else (">" if c > 0 else "=") for c in (apt_pkg.version_compare(a, b) for b in v)))',
        'print("\\n".join(rows))',
      ].join('\n');
      const { stdout } = await run(['/usr/bin/python3', '-c', script], { input: JSON.stringify(DEB) });
      checkMatrix(stdout, DEB, 'apt');
    });
  });

  it('dpkg --compare-versions orders adjacent, example, trap and random pairs as PEP 440 does', async () => {
    const pairs: [number, number][] = [];
    for (let k = 1; k < SORTED.length; k++) pairs.push([at(SORTED, k - 1), at(SORTED, k)]);
    const special = VERSIONS.map((v, i) => [v, i] as const).filter(([v]) => PEP440_EXAMPLE.includes(v) || TRAPS.includes(v)).map(([, i]) => i);
    for (const i of special) for (const j of special) if (i < j) pairs.push([i, j]);
    const rand = prng(7);
    for (let n = 0; n < 400; n++) pairs.push([Math.floor(rand() * VERSIONS.length), Math.floor(rand() * VERSIONS.length)]);

    // One dpkg per comparison, four shell loops at a time; exit code 2 (a
    // syntax error) and any warning on stderr fail the test.
    const loop =
      'while read -r a b; do ' +
      'dpkg --compare-versions "$a" lt "$b"; rc=$?; ' +
      'if [ $rc = 0 ]; then echo "<"; elif [ $rc != 1 ]; then echo "!"; ' +
      'else dpkg --compare-versions "$a" gt "$b"; rc=$?; ' +
      'if [ $rc = 0 ]; then echo ">"; elif [ $rc = 1 ]; then echo "="; else echo "!"; fi; fi; done';
    const chunks = 4;
    const size = Math.ceil(pairs.length / chunks);
    const results = await Promise.all(
      Array.from({ length: chunks }, (_, c) => {
        const chunk = pairs.slice(c * size, (c + 1) * size);
        const input = chunk.map(([i, j]) => `${at(DEB, i)} ${at(DEB, j)}\n`).join('');
        return run(['sh', '-c', loop], { input, env: { LC_ALL: 'C' } }).then((r) => ({ chunk, ...r }));
      }),
    );
    const wrong: string[] = [];
    for (const { chunk, stdout, stderr } of results) {
      assert.equal(stderr, '', 'dpkg complained about a mapped version');
      const verdicts = stdout.trimEnd().split('\n');
      assert.equal(verdicts.length, chunk.length);
      chunk.forEach(([i, j], k) => {
        const got = verdicts[k] ?? '?';
        if (got !== expected(i, j)) wrong.push(describePair(i, j, DEB, got));
      });
    }
    assert.ok(pairs.length > 1000, `${pairs.length} pairs`);
    assert.deepEqual(wrong.slice(0, 20), [], `dpkg: ${wrong.length} of ${pairs.length} pairs ordered differently from PEP 440`);
  });

  describe('rpmspec', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'reqset-version-'));
    });
    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('accepts every mapped Epoch/Version/Release and Provides and reads them back unchanged', async () => {
      const mapped = [...new Map(VERSIONS.map((v) => [rpmEVR(toRpmVersion(v)), toRpmVersion(v)])).values()];
      const header = ['Name: vt', 'Version: 1', 'Release: 1', 'Summary: t', 'License: MIT', '%description', 't'];
      const packages = mapped.flatMap((m, i) => [
        `%package p${i}`,
        ...(m.epoch > 0 ? [`Epoch: ${m.epoch}`] : []),
        `Version: ${m.version}`,
        `Release: ${m.release}`,
        'Summary: t',
        `Provides: vt-check${i} = ${rpmEVR(m)}`,
        `%description p${i}`,
        't',
      ]);
      const spec = join(dir, 'vt.spec');
      await writeFile(spec, [...header, ...packages, ''].join('\n'));
      const { stdout } = await run(['rpmspec', '-q', '--qf', '%{NAME}|%{EPOCHNUM}|%{VERSION}|%{RELEASE}|[%{PROVIDENEVRS},]\\n', spec]);
      const lines = stdout.trimEnd().split('\n').filter((l) => l.startsWith('vt-p'));
      assert.equal(lines.length, mapped.length);
      lines.forEach((line, i) => {
        const m = at(mapped, i);
        const [name, epoch, version, release, provides] = line.split('|');
        assert.deepEqual([name, Number(epoch), version, release], [`vt-p${i}`, m.epoch, m.version, m.release]);
        assert.ok(provides?.split(',').includes(`vt-check${i} = ${rpmEVR(m)}`), `${line} lacks its Provides`);
      });
    });
  });
});
