/**
 * Fault injection, through the command line as a user runs it, on a reqset of
 * tiny wheels: SIGKILL at exact points of build and publish (rpm and apt), a
 * full disk and a read-only output (small tmpfs mounts), corrupt wheel and
 * package cache entries, and the package cache between concurrent runs. Each
 * case checks the exit code, the one-line message, what is left behind and
 * that the next correct run succeeds and leaves nothing. Every child has its
 * own TMPDIR so that its temporary directories can be checked. The README's
 * "Reliability" table summarises these cases.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256File } from '../../src/fsutil.ts';
import { PackageCache } from '../../src/packagers/cache.ts';
import { run } from '../../src/run.ts';
import {
  aptRepoPackages,
  assertOneLineError,
  buildOutputState,
  digests,
  filesIn,
  mountTmpfs,
  reqsetCli,
  reqsetKilled,
  remount,
  residue,
  rpmRepoPackages,
  unmount,
  type CliResult,
} from '../helpers/faults.ts';
import { makeWheel } from '../helpers/make-wheel.ts';
import { makeWorkspace, type Workspace } from '../helpers/workspace.ts';

const PINS = ['alpha', 'beta', 'gamma', 'delta'];
/** runtime, pins and one package per wheel */
const PACKAGES = PINS.length + 2;
const TARGETS = { rpm: 'el9-py311', deb: 'debian12' } as const;

/** A corruption of a cache entry's file, as a disk or a person might do it. */
const CORRUPTIONS: Record<string, (file: string) => Promise<void>> = {
  'flipped bytes': async (file) => {
    const bytes = await readFile(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
  },
  truncated: (file) => truncate(file, 100),
  missing: (file) => rm(file),
};

let ws: Workspace;
/** A directory per case, removed with the workspace. */
let n = 0;
const caseDir = async (label: string) => {
  const dir = path.join(ws.dir, 'cases', `${++n}-${label.replace(/\W+/g, '-')}`);
  await mkdir(dir, { recursive: true });
  return { dir, out: path.join(dir, 'out'), cache: path.join(dir, 'cache'), tmp: path.join(dir, 'tmp') };
};
const mounts: string[] = [];
const tmpfs = async (dir: string, size: string) => {
  await mountTmpfs(dir, size);
  mounts.push(dir);
  return dir;
};
const buildArgs = (reqset: string, target: string, out: string, cache: string, ...extra: string[]) =>
  ['build', reqset, '--target', target, '--workspace', ws.dir, '--wheel-cache', cache, '--out', out, '--jobs', '2', ...extra];
/** The packages of the reference builds, by target. */
const reference: Record<string, Record<string, string>> = {};
const assertSucceeded = (result: CliResult) => {
  assert.equal(result.exitCode, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /error|internal/);
};

before(async () => {
  ws = await makeWorkspace();
  const links = path.join(ws.dir, 'links');
  for (const name of PINS) await makeWheel(links, { name, version: '1.0', files: { [`${name}/__init__.py`]: `NAME = '${name}'\n${'x = 1\n'.repeat(2000)}` } });
  // 1 MiB that does not compress: fills a small disk.
  await makeWheel(links, { name: 'bulky', version: '1.0', files: { 'bulky/data.bin': randomBytes(1 << 20) } });
  await ws.writeReqset('tiny', `--no-index\n--find-links ../links\n${PINS.map((p) => `${p}==1.0`).join('\n')}\n`);
  await ws.writeReqset('bulky', '--no-index\n--find-links ../links\nalpha==1.0\nbulky==1.0\n');
  for (const target of Object.values(TARGETS)) {
    const result = await reqsetCli(buildArgs('tiny', target, ws.out, ws.cache, '--quiet'), { tmp: path.join(ws.dir, 'tmp') });
    assertSucceeded(result);
    reference[target] = await digests(path.join(ws.out, 'tiny', target, 'packages'));
    assert.equal(Object.keys(reference[target] ?? {}).length, PACKAGES);
  }
});
after(async () => {
  for (const dir of mounts.reverse()) await unmount(dir);
  await ws?.cleanup();
});

describe('SIGKILL during build, then a correct run', () => {
  const target = TARGETS.rpm;
  /**
   * Builds into an output holding the previous build, with an empty cache
   * (so that packages are really made), killed at `halt` or after `afterMs`.
   * The output is then whole or absent; the next run succeeds, gives the
   * reference packages and leaves nothing of the killed run.
   */
  const killBuild = async (label: string, when: { halt?: string; afterMs?: number }) => {
    const c = await caseDir(label);
    await cp(path.join(ws.out, 'tiny'), path.join(c.out, 'tiny'), { recursive: true });
    const args = buildArgs('tiny', target, c.out, c.cache, '--quiet');
    const killed = await reqsetKilled(args, { tmp: c.tmp, ...when });
    const places = [path.join(c.out, 'tiny'), c.tmp, c.cache];
    const left = await residue(places);
    const state = await buildOutputState(path.join(c.out, 'tiny', target));
    const next = await reqsetCli(args, { tmp: c.tmp });
    assertSucceeded(next);
    assert.deepEqual(await residue(places), [], `after a kill ${label}, the next run removed what it left: ${left.join(' ')}`);
    assert.deepEqual(await readdir(c.tmp), [], 'nothing at all in the temporary directory');
    assert.deepEqual(await digests(path.join(c.out, 'tiny', target, 'packages')), reference[target], 'the reference packages, byte for byte');
    return { killed, left, state };
  };

  const points: [string, string, RegExp][] = [
    ['while wheels are collected', 'rename:/wheels/gamma-1\\.0-py3-none-any\\.whl$', /wheels\/gamma/],
    ['while packages are made (the third package starts)', 'mkdtemp:/reqset-pkg-:3', /reqset-pkg-/],
    ['while a package enters the package cache', 'rename:/packages/[0-9a-f]{2}/[0-9a-f]{64}$', /packages\/[0-9a-f]{2}\//],
    ['just before the output switch', 'rename:\\.el9-py311\\.tmp-\\d+-\\w{6}\\.old$', /\.old$/],
  ];
  for (const [label, halt, at] of points) {
    it(`killed ${label}: the previous output stays whole; the next run succeeds and removes the leftovers`, async () => {
      const { killed, left, state } = await killBuild(label, { halt });
      assert.ok(killed.killed, 'the run was killed, not finished');
      assert.match(killed.haltedAt ?? '', at);
      assert.ok(left.some((f) => f.includes(`-${killed.pid}-`)), `the killed run left its staging: ${left.join(' ')}`);
      assert.equal(state, 'whole');
    });
  }

  it('killed between the two renames of the output switch: the output is absent until the next run, which succeeds', async () => {
    const { killed, left, state } = await killBuild('inside the switch', { halt: 'rename:/tiny/el9-py311$' });
    assert.ok(killed.killed);
    // The previous output is in the killed run's `.old` directory at that moment.
    assert.ok(left.some((f) => f.endsWith('.old')), left.join(' '));
    assert.equal(state, 'absent');
  });

  for (const afterMs of [1500, 4000]) {
    it(`killed ${afterMs} ms after the start: the output is whole; the next run succeeds and removes the leftovers`, async () => {
      const { state } = await killBuild(`after ${afterMs} ms`, { afterMs });
      assert.equal(state, 'whole');
    });
  }
});

describe('SIGKILL during publish, then a correct publish', () => {
  const publishArgs = (target: string, out: string, repo: string) => ['publish', 'tiny', '--target', target, '--workspace', ws.dir, '--out', out, '--repo', repo, '--quiet'];
  /** `read` gives the package files a reader finds, checking what it reads; `settled`: no publish was interrupted since the last one. */
  const formats: { format: string; target: string; read: (repo: string, settled?: boolean) => Promise<string[]>; points: [string, string][] }[] = [
    {
      format: 'rpm',
      target: TARGETS.rpm,
      read: (repo) => rpmRepoPackages(repo),
      points: [
        ['before packages are copied', 'copyFile:/\\.reqset-staging\\.tmp-[^/]+/new/'],
        ['after packages are copied, before createrepo_c', 'writeFile:/\\.reqset-staging\\.tmp-[^/]+/pkglist$'],
        ['just before the repomd.xml switch', 'rename:/repodata/repomd\\.xml$'],
        ['after the switch, before clean-up', 'rm:/\\.reqset-staging\\.tmp-'],
      ],
    },
    {
      format: 'apt',
      target: TARGETS.deb,
      read: (repo, settled) => aptRepoPackages(repo, 'bookworm', settled),
      points: [
        ['before packages are copied', 'copyFile:/\\.reqset-staging\\.tmp-[^/]+/new/'],
        ['after packages are copied, while indexes are made', 'writeFile:/\\.reqset-staging\\.tmp-[^/]+/dists/binary-amd64/Packages$'],
        ['just before the Release switch', 'rename:/dists/bookworm/Release$'],
        ['after the switch, before clean-up', 'rm:/\\.reqset-staging\\.tmp-'],
      ],
    },
  ];

  for (const { format, target, read, points } of formats) {
    describe(`${format} (${target})`, () => {
      let baseline: string;
      let v1: string[];
      let v2: string[];
      let out2: string;
      before(async () => {
        const c = await caseDir(`publish-${format}`);
        baseline = path.join(c.dir, 'baseline');
        out2 = path.join(c.dir, 'out2');
        assertSucceeded(await reqsetCli(buildArgs('tiny', target, out2, ws.cache, '--quiet', '--release', '2'), { tmp: c.tmp }));
        assertSucceeded(await reqsetCli(publishArgs(target, ws.out, baseline), { tmp: c.tmp }));
        v1 = await read(baseline);
        v2 = (await filesIn(path.join(out2, 'tiny', target, 'packages'))).filter((f) => !v1.includes(f));
        assert.equal(v1.length, PACKAGES);
        assert.equal(v2.length, PACKAGES, 'release 2 of every package');
      });

      for (const [label, halt] of points) {
        it(`killed ${label}: the repository is the old or the new one, whole; the next publish succeeds and leaves no staging`, async () => {
          const c = await caseDir(`publish-${format}-${label}`);
          const repo = path.join(c.dir, 'repo');
          await cp(baseline, repo, { recursive: true });
          const args = publishArgs(target, out2, repo);
          const killed = await reqsetKilled(args, { tmp: c.tmp, halt });
          assert.ok(killed.killed && killed.haltedAt, `halted ${label}`);
          const seen = await read(repo);
          assert.ok([v1, [...v1, ...v2].sort()].some((s) => JSON.stringify(s) === JSON.stringify(seen)), `old or new, not a mix: ${seen.join(' ')}`);
          assert.ok((await readdir(repo)).some((f) => f.startsWith('.')), 'the killed publish left its lock or staging');
          const next = await reqsetCli(args, { tmp: c.tmp });
          assertSucceeded(next);
          assert.deepEqual(await read(repo, true), [...v1, ...v2].sort());
          assert.deepEqual(await residue([repo, c.tmp]), []);
        });
      }
    });
  }
});

describe('a full disk', () => {
  it('--out on a full file system: exit 1, one line naming the path with advice, no partial output; after making room it succeeds', async () => {
    const c = await caseDir('full out');
    const out = await tmpfs(c.out, '512k');
    const args = buildArgs('bulky', TARGETS.rpm, out, c.cache, '--quiet');
    const failed = await reqsetCli(args, { tmp: c.tmp });
    assertOneLineError(failed, 1, new RegExp(`cannot write ${out}/\\S+ \\(no space left on device\\): free some space on its file system or choose another --out`));
    assert.deepEqual(await filesIn(out), [], 'no partial output');
    assert.deepEqual(await residue([out, c.tmp]), []);
    await remount(out, 'size=16m');
    assertSucceeded(await reqsetCli(args, { tmp: c.tmp }));
    assert.equal((await filesIn(path.join(out, 'bulky', TARGETS.rpm, 'packages'))).length, 4);
  });

  it('--out fills up while rpmbuild writes a package: exit 1, one line naming the path with advice, no partial output', async () => {
    const c = await caseDir('full while packaging');
    // Room for the wheels (1 MiB), not for the packages as well.
    const out = await tmpfs(c.out, '1600k');
    const failed = await reqsetCli(buildArgs('bulky', TARGETS.rpm, out, c.cache, '--quiet'), { tmp: c.tmp });
    assert.deepEqual(await filesIn(out), [], 'no partial output');
    assert.deepEqual(await residue([out, c.tmp]), []);
    assertOneLineError(failed, 1, new RegExp(`${out}/\\S+.*no space left on device.*free some space`, 'i'));
  });

  it('TMPDIR on a full file system: exit 1, one line naming the path with advice, nothing left; after making room it succeeds', async () => {
    const c = await caseDir('full tmp');
    const tmp = await tmpfs(c.tmp, '512k');
    const args = buildArgs('bulky', TARGETS.deb, c.out, c.cache, '--quiet');
    const failed = await reqsetCli(args, { tmp });
    assertOneLineError(failed, 1, new RegExp(`cannot write ${tmp}/reqset-\\S+ \\(no space left on device\\): free some space on its file system`));
    assert.deepEqual(await readdir(tmp), []);
    assert.deepEqual(await filesIn(c.out), [], 'no partial output');
    await remount(tmp, 'size=16m');
    assertSucceeded(await reqsetCli(args, { tmp }));
    assert.deepEqual(await readdir(tmp), []);
  });
});

describe('a read-only output', () => {
  it('--out on a read-only file system: exit 1, one line naming --out, nothing written', async () => {
    const c = await caseDir('ro out');
    const out = await tmpfs(c.out, '16m');
    await remount(out, 'ro');
    const failed = await reqsetCli(buildArgs('tiny', TARGETS.rpm, out, c.cache, '--quiet'), { tmp: c.tmp });
    assertOneLineError(failed, 1, new RegExp(`cannot write ${out}/tiny \\(read-only file system\\): choose another --out on a writable file system`));
    assert.deepEqual(await readdir(out), []);
    assert.deepEqual(await readdir(c.tmp), [], 'no temporary directory left');
  });

  it('a previous output made read-only: exit 1, one line, the previous output as it was', async () => {
    const c = await caseDir('ro previous');
    const out = await tmpfs(c.out, '16m');
    await cp(path.join(ws.out, 'tiny'), path.join(out, 'tiny'), { recursive: true });
    const before = await digests(out);
    await remount(out, 'ro');
    const failed = await reqsetCli(buildArgs('tiny', TARGETS.rpm, out, c.cache, '--quiet'), { tmp: c.tmp });
    assertOneLineError(failed, 1, /\(read-only file system\): choose another --out on a writable file system/);
    assert.deepEqual(await digests(out), before);
    assert.deepEqual(await readdir(c.tmp), []);
  });

  for (const [format, target] of Object.entries(TARGETS)) {
    it(`a read-only ${format} repository: publish exits 1 with one line naming --repo, the repository as it was; writable again, it succeeds`, async () => {
      const c = await caseDir(`ro repo ${format}`);
      const repo = await tmpfs(path.join(c.dir, 'repo'), '16m');
      const out2 = path.join(c.dir, 'out2');
      assertSucceeded(await reqsetCli(buildArgs('tiny', target, out2, ws.cache, '--quiet', '--release', '2'), { tmp: c.tmp }));
      const publish = (out: string) => reqsetCli(['publish', 'tiny', '--target', target, '--workspace', ws.dir, '--out', out, '--repo', repo, '--quiet'], { tmp: c.tmp });
      assertSucceeded(await publish(ws.out));
      const before = await digests(repo);
      await remount(repo, 'ro');
      assertOneLineError(await publish(out2), 1, new RegExp(`cannot write ${repo}/\\S+ \\(read-only file system\\): choose another --repo on a writable file system`));
      assert.deepEqual(await digests(repo), before);
      await remount(repo, 'rw');
      assertSucceeded(await publish(out2));
      assert.deepEqual(await residue([repo, c.tmp]), []);
    });
  }
});

describe('a corrupt cache entry: one warning naming it, rebuilt, exit 0', () => {
  for (const [how, corrupt] of Object.entries(CORRUPTIONS)) {
    it(`package cache, ${how}: the package is made again, byte for byte`, async () => {
      const c = await caseDir(`package cache ${how}`);
      await cp(ws.cache, c.cache, { recursive: true });
      const entries = (await filesIn(path.join(c.cache, 'packages'))).filter((f) => /tiny-wheel-beta-1\.0-1\.noarch\.rpm$/.test(f));
      assert.equal(entries.length, 1);
      const file = path.join(c.cache, 'packages', entries[0] ?? '');
      await corrupt(file);
      const result = await reqsetCli(buildArgs('tiny', TARGETS.rpm, c.out, c.cache), { tmp: c.tmp });
      assertSucceeded(result);
      const warnings = result.stderr.split('\n').filter((l) => /warning/.test(l));
      assert.equal(warnings.length, 1, result.stderr);
      assert.ok(warnings[0]?.includes(`discarded a bad package cache entry, building again: ${file}`), warnings[0]);
      assert.match(result.stdout, new RegExp(`${PACKAGES} packages \\(1 packaged, ${PACKAGES - 1} reused\\)`));
      assert.deepEqual(await digests(path.join(c.out, 'tiny', TARGETS.rpm, 'packages')), reference[TARGETS.rpm]);
      assert.equal(await sha256File(file), reference[TARGETS.rpm]?.[path.basename(file)], 'the entry is sound again');
      assert.deepEqual(await residue([c.cache, c.tmp, c.out]), []);
    });
  }

  describe('wheel cache (a wheel built from an sdist)', () => {
    let built: Record<string, string>;
    let cache: string;
    before(async () => {
      await ws.writeReqset('sdist', '--no-index\n--find-links ../dist-src\nsetuptools==65.5.0\nwheel==0.38.4\ntextfmt==1.0.0\n');
      const c = await caseDir('wheel cache');
      cache = c.cache;
      const first = await reqsetCli(buildArgs('sdist', TARGETS.deb, c.out, cache, '--quiet'), { tmp: c.tmp });
      assertSucceeded(first);
      built = await digests(path.join(c.out, 'sdist', TARGETS.deb, 'wheels'));
    });

    for (const [how, corrupt] of Object.entries(CORRUPTIONS)) {
      it(`${how}: the wheel is built again, identical`, async () => {
        const c = await caseDir(`wheel cache ${how}`);
        await cp(cache, c.cache, { recursive: true });
        const entries = (await filesIn(path.join(c.cache, 'wheels'))).filter((f) => f.endsWith('textfmt-1.0.0-py3-none-any.whl'));
        assert.equal(entries.length, 1);
        const file = path.join(c.cache, 'wheels', entries[0] ?? '');
        await corrupt(file);
        const result = await reqsetCli(buildArgs('sdist', TARGETS.deb, c.out, c.cache), { tmp: c.tmp });
        assertSucceeded(result);
        const warnings = result.stderr.split('\n').filter((l) => /warning/.test(l));
        assert.equal(warnings.length, 1, result.stderr);
        assert.ok(warnings[0]?.includes(`discarded a bad wheel cache entry, building again: ${path.dirname(file)}`), warnings[0]);
        assert.match(result.stderr, /^wheels: built .* textfmt==1\.0\.0/m);
        assert.deepEqual(await digests(path.join(c.out, 'sdist', TARGETS.deb, 'wheels')), built);
        assert.deepEqual(await residue([c.cache, c.tmp, c.out]), []);
      });
    }
  });
});

describe('the package cache between concurrent runs', () => {
  it('stores of the same entry at once all succeed and leave one sound entry', async () => {
    const c = await caseDir('concurrent stores');
    const cache = new PackageCache(c.cache);
    const name = Object.keys(reference[TARGETS.rpm] ?? {})[0] ?? '';
    const file = path.join(ws.out, 'tiny', TARGETS.rpm, 'packages', name);
    const sha = await sha256File(file);
    const key = 'ab'.repeat(32);
    await Promise.all(Array.from({ length: 6 }, () => cache.store(key, file, sha, { requires: [] })));
    assert.deepEqual(await readdir(path.join(c.cache, 'packages', 'ab')), [key], 'one entry, no staging left');
    const taken = await cache.take(key, name, c.out);
    assert.ok(taken.hit);
    assert.equal(taken.sha256, sha);
  });

  it('a bad entry in the way of a store is replaced', async () => {
    const c = await caseDir('store over a bad entry');
    const cache = new PackageCache(c.cache);
    const name = Object.keys(reference[TARGETS.rpm] ?? {})[0] ?? '';
    const file = path.join(ws.out, 'tiny', TARGETS.rpm, 'packages', name);
    const key = 'cd'.repeat(32);
    const entry = path.join(c.cache, 'packages', 'cd', key);
    await mkdir(entry, { recursive: true });
    await writeFile(path.join(entry, 'entry.json'), '{"file": ');
    await cache.store(key, file, await sha256File(file), { requires: ['x'] });
    const taken = await cache.take(key, name, c.out);
    assert.ok(taken.hit);
    assert.deepEqual(taken.facts.requires, ['x']);
    assert.deepEqual(await readdir(path.dirname(entry)), [key]);
  });

  it('two builds sharing an empty cache at once both succeed with the same packages', async () => {
    const c = await caseDir('concurrent builds');
    const runs = ['a', 'b'].map((x) => reqsetCli(buildArgs('tiny', TARGETS.rpm, path.join(c.dir, `out-${x}`), c.cache, '--quiet'), { tmp: c.tmp }));
    for (const result of await Promise.all(runs)) assertSucceeded(result);
    for (const x of ['a', 'b']) assert.deepEqual(await digests(path.join(c.dir, `out-${x}`, 'tiny', TARGETS.rpm, 'packages')), reference[TARGETS.rpm]);
    assert.deepEqual(await residue([c.cache, c.tmp]), []);
  });
});

/**
 * `reqset <args>` in a child as reqsetCli runs it, with what reqsetCli does not
 * give: a module preloaded into reqset, and more environment (a PATH).
 */
const TSX = import.meta.resolve('tsx');
const CLI = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
async function reqsetWith(args: string[], options: { tmp: string; preload?: string; env?: Record<string, string> }): Promise<CliResult> {
  await mkdir(options.tmp, { recursive: true });
  const preload = options.preload ? ['--import', options.preload] : [];
  return run(['node', '--import', TSX, ...preload, CLI, ...args], { env: { TMPDIR: options.tmp, TSX_DISABLE_CACHE: '1', NODE_OPTIONS: undefined, ...options.env }, allowFailure: true });
}

/**
 * Preloaded into reqset: just before the first package's temporary directory
 * (the packages stage starts, the wheels stage is done), copies SWAP_WHEEL
 * over the wheel of that name in the run's staging directory under SWAP_INTO.
 */
const SWAP_PRELOAD = `
import { copyFileSync, readdirSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
const promises = createRequire(import.meta.url)('node:fs').promises;
const mkdtemp = promises.mkdtemp;
let swapped = false;
promises.mkdtemp = function (prefix, ...rest) {
  if (!swapped && String(prefix).includes('reqset-pkg-')) {
    swapped = true;
    const { SWAP_WHEEL: wheel, SWAP_INTO: into } = process.env;
    for (const name of readdirSync(into)) if (name.includes('.tmp-' + process.pid + '-')) copyFileSync(wheel, path.join(into, name, 'wheels', path.basename(wheel)));
  }
  return mkdtemp.call(this, prefix, ...rest);
};
syncBuiltinESMExports();
`;

describe('a wheel swapped after the wheels stage validated it', () => {
  it('another valid wheel of the same name: exit 2, one line naming it and both sha256, no output; the next run succeeds', async () => {
    const c = await caseDir('swapped wheel');
    await ws.writeReqset('one', '--no-index\n--find-links ../links\nalpha==1.0\n');
    const swap = await makeWheel(path.join(c.dir, 'swap'), { name: 'alpha', version: '1.0', files: { 'alpha/__init__.py': "NAME = 'swapped'\n" } });
    const preload = path.join(c.dir, 'swap.mjs');
    await writeFile(preload, SWAP_PRELOAD);
    const args = buildArgs('one', TARGETS.rpm, c.out, c.cache, '--quiet');
    const failed = await reqsetWith(args, { tmp: c.tmp, preload, env: { SWAP_WHEEL: swap, SWAP_INTO: path.join(c.out, 'one') } });
    const original = await sha256File(path.join(ws.dir, 'links', 'alpha-1.0-py3-none-any.whl'));
    const swapped = await sha256File(swap);
    assert.notEqual(swapped, original);
    assertOneLineError(failed, 2, new RegExp(`wheel \\S+/wheels/alpha-1\\.0-py3-none-any\\.whl changed after it was validated: its sha256 is ${swapped}, the validated wheel's was ${original}`));
    assert.equal(existsSync(path.join(c.out, 'one', TARGETS.rpm)), false, 'no output');
    assert.deepEqual(await residue([c.out, c.tmp, c.cache]), []);
    assertSucceeded(await reqsetCli(args, { tmp: c.tmp }));
  });
});

/**
 * A python3 first on PATH for the build's rebuild check only: it names itself
 * as the interpreter (rebuild-check.ts asks for sys.executable) and hands
 * everything else to the real one. It fails each check once the package file
 * is in the run's staging directory under REQSET_TEST_OUT (at most 30 s later),
 * saying whether that file was made before or during the check, or never, and
 * writes the file's path to REQSET_TEST_RECORD.
 */
const FAKE_PYTHON = (real: string) => `#!/bin/sh
# Asked about itself, it names itself, so that the build starts the helper through it.
if [ "$1" = -c ]; then ${real} "$@" | sed "s#${real}#$0#g"; exit 0; fi
if [ "$2" != rebuild-wheels ]; then exec ${real} "$@"; fi
package() { for f in "$REQSET_TEST_OUT"/.*.tmp-*/packages/*.rpm; do [ -e "$f" ] && echo "$f" && return 0; done; return 1; }
while read -r request; do
  if package >/dev/null; then made=before; else made=during; fi
  n=0
  until package >/dev/null || [ $n -ge 600 ]; do sleep 0.05; n=$((n + 1)); done
  package >"$REQSET_TEST_RECORD" || made=never
  echo "{\\"error\\": \\"test: the check failed; the package was made $made the check\\"}"
done
`;

describe('the rebuild check fails after the package tool wrote the package', () => {
  for (const [jobs, made] of [['2', 'during'], ['1', 'before']] as const) {
    it(`--jobs ${jobs} (the package is made ${made} the check): exit 1 with the helper's message, no package left in the output, its staging or the cache`, async () => {
      const c = await caseDir(`check fails jobs ${jobs}`);
      await ws.writeReqset('one', '--no-index\n--find-links ../links\nalpha==1.0\n');
      const bin = path.join(c.dir, 'bin');
      await mkdir(bin);
      const real = (await run(['python3', '-c', 'import sys; print(sys.executable)'])).stdout.trim();
      await writeFile(path.join(bin, 'python3'), FAKE_PYTHON(real));
      await chmod(path.join(bin, 'python3'), 0o755);
      const record = path.join(c.dir, 'package-seen');
      // The last --jobs counts.
      const args = buildArgs('one', TARGETS.rpm, c.out, c.cache, '--quiet', '--jobs', jobs);
      const failed = await reqsetWith(args, { tmp: c.tmp, env: { PATH: `${bin}:${process.env.PATH}`, REQSET_TEST_OUT: path.join(c.out, 'one'), REQSET_TEST_RECORD: record } });
      assert.equal(failed.exitCode, 1, failed.stderr);
      // The helper's answer is quoted on the next line, as for every failed check.
      assert.match(failed.stderr, new RegExp(`^reqset: error: the runtime helper could not rebuild the wheel of \\S+/alpha-1\\.0-py3-none-any:\n {2}\\| test: the check failed; the package was made ${made} the check\n$`));
      assert.match(await readFile(record, 'utf8'), /\/one\/\.el9-py311\.tmp-\d+-\w{6}\/packages\/one-wheel-alpha-1\.0-1\.noarch\.rpm\n$/, 'the package was in the staging directory when the check failed');
      assert.equal(existsSync(path.join(c.out, 'one', TARGETS.rpm)), false, 'no output');
      assert.deepEqual(await filesIn(c.out), [], 'no package (nor wheel) left in the staging directory');
      assert.deepEqual(await filesIn(path.join(c.cache, 'packages')), [], 'nothing in the package cache');
      assert.deepEqual(await residue([c.out, c.tmp, c.cache]), []);
    });
  }
});
