/**
 * `reqset_runtime.py install-venv` / `remove-venv`: what an endpoint package's
 * scriptlets run to give an application its private virtualenv from the
 * unpacked wheel trees. Trees are made as wheel packages install them
 * (openWheel + extractTo) from the example reqset built offline with pip and
 * from the wheel corpus; everything runs with the real target interpreters.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, type RunResult } from '../../src/run.ts';
import { RUNTIME_HELPER, makeTempDir, parseJsonLine } from '../helpers/runtime-fixtures.ts';
import {
  PYTHON311,
  PYTHON313,
  PYTHON36,
  buildExampleWheels,
  corpusClosure,
  grepTree,
  helper,
  installVenv,
  leftovers,
  makeBoomWheel,
  makeFullWheel,
  makeTrees,
  recordProblems,
  sitePackages,
  snapshot,
} from '../helpers/venv-fixtures.ts';

/** A failure: exit code, nothing on stdout, exactly one "reqset-runtime: error:" line on stderr. */
function assertOneLineError(result: RunResult, exitCode: number, ...mentions: (string | RegExp)[]): void {
  assert.equal(result.exitCode, exitCode, `exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  const line = lines[0] as string;
  assert.match(line, /^reqset-runtime: error: /);
  for (const m of mentions) {
    if (typeof m === 'string') assert.ok(line.includes(m), `stderr should mention ${m}: ${line}`);
    else assert.match(line, m);
  }
}

const treeArgs = (trees: string[]) => trees.flatMap((t) => ['--tree', t]);
const byName = (trees: string[], prefix: string) => {
  const found = trees.find((t) => path.basename(t).startsWith(prefix));
  assert.ok(found, `a tree named ${prefix}*`);
  return found;
};

/** The staging and old directories of `venv` must not be named anywhere inside it. */
async function assertNoStagingPath(venv: string): Promise<void> {
  const name = path.basename(venv);
  assert.deepEqual(await grepTree(venv, `${name}.new-`), [], 'the staging path is written in the venv');
  assert.deepEqual(await grepTree(venv, `${name}.old-`), []);
}

let work: string;
let exampleTrees: string[];
let upgradeTrees: string[];
let exampleWheelsDir: string;
let boomTree: string;
let n = 0;

/** A fresh `<work>/<name>-<n>/venv` path (its parent does not exist yet). */
function freshVenv(name: string): string {
  return path.join(work, 'opt', `${name}-${++n}`, 'venv');
}

before(async () => {
  work = await makeTempDir('reqset-venv-');
  const wheelCache = path.join(work, 'wheel-cache');
  const base = await buildExampleWheels(work, { wheelCache });
  exampleWheelsDir = path.dirname(base[0] as string);
  exampleTrees = await makeTrees(base, path.join(work, 'trees'));
  const upgrade = await buildExampleWheels(work, { versions: { textfmt: '1.1.0' }, wheelCache });
  upgradeTrees = await makeTrees(upgrade, path.join(work, 'trees'));
  boomTree = (await makeTrees([await makeBoomWheel(path.join(work, 'crafted'))], path.join(work, 'trees')))[0] as string;
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('install-venv, native installer, the example closure on Debian 12\'s Python', () => {
  let venv: string;
  let site: string;
  let first: Awaited<ReturnType<typeof installVenv>>;

  before(async () => {
    venv = freshVenv('ex-app');
    site = sitePackages(venv, '3.11');
    first = await installVenv(PYTHON311, venv, exampleTrees, ['--script', 'an-example', '--check-import', 'an_example_pypi_project', '--check-import', 'tinystats']);
  });

  it('installs the closure, and the application\'s console script runs from the venv', async () => {
    assert.equal(first.venv, venv);
    assert.equal(first.installer, 'native');
    assert.deepEqual(first.dists, ['an-example-pypi-project==0.0.4', 'textfmt==1.0.0', 'tinystats==1.0.0', 'tinyvec==1.0.0']);
    assert.equal(first.replaced, false);
    assert.equal(first.swap, 'rename');
    assert.ok(first.requirements_checked >= 4, `requirements checked: ${first.requirements_checked}`);
    assert.deepEqual(first.imports_checked, ['an_example_pypi_project', 'tinystats']);
    const out = await run([path.join(venv, 'bin', 'an-example')], { env: { PATH: '/usr/bin:/bin' } });
    assert.match(out.stdout, /norm=5\.0 cosine=1\.0/);
    assert.match(out.stdout, /tinystats compiled against tinyvec 1\.0\.0/);
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
  });

  it('hard-links the trees\' files, and writes RECORD, INSTALLER and launchers of its own', async () => {
    const textfmt = byName(exampleTrees, 'textfmt-');
    const [installed, inTree] = await Promise.all([stat(path.join(site, 'textfmt', '__init__.py')), stat(path.join(textfmt, 'textfmt', '__init__.py'))]);
    assert.equal(installed.ino, inTree.ino, 'a hard link to the tree');
    assert.ok(first.linked > 0 && first.copied === 0, `linked ${first.linked}, copied ${first.copied}`);
    assert.ok(!existsSync(path.join(site, '.reqset-wheel.json')), 'the tree\'s own file is not installed');

    const { problems, rows } = await recordProblems(site);
    assert.deepEqual(problems, []);
    const appRows = rows.get('an_example_pypi_project-0.0.4.dist-info') ?? [];
    assert.ok(appRows.some((r) => r[0] === '../../../bin/an-example'), 'the launcher is in RECORD');
    assert.ok(appRows.some((r) => r[0] === 'an_example_pypi_project/__pycache__/cli.cpython-311.pyc'), '.pyc files are in RECORD');
    assert.deepEqual(appRows.at(-1), ['an_example_pypi_project-0.0.4.dist-info/RECORD', '', '']);
    assert.equal(await readFile(path.join(site, 'an_example_pypi_project-0.0.4.dist-info', 'INSTALLER'), 'utf8'), 'reqset\n');

    const launcher = await readFile(path.join(venv, 'bin', 'an-example'), 'utf8');
    assert.equal(launcher.split('\n')[0], `#!${venv}/bin/python`);
    assert.match(launcher, /^from an_example_pypi_project\.cli import main$/m);
    assert.match(launcher, /sys\.exit\(main\(\)\)/);
    assert.equal((await stat(path.join(venv, 'bin', 'an-example'))).mode & 0o777, 0o755);
  });

  it('names only the final path: activate scripts, pyvenv.cfg, launchers, RECORD and .pyc files', async () => {
    await assertNoStagingPath(venv);
    // The final path is there (a positive control for the grep above), .pyc included.
    const named = (await grepTree(venv, venv)).map((f) => path.relative(venv, f));
    for (const file of ['bin/activate', 'bin/an-example', 'pyvenv.cfg', 'lib/python3.11/site-packages/textfmt/__pycache__/__init__.cpython-311.pyc']) {
      assert.ok(named.includes(file), `${file} names ${venv}: ${named.join(', ')}`);
    }
    assert.match(await readFile(path.join(venv, 'bin', 'activate'), 'utf8'), new RegExp(`VIRTUAL_ENV=["']?${venv}["']?\n`));
    assert.match(await readFile(path.join(venv, 'pyvenv.cfg'), 'utf8'), /^home = \/usr\/bin$/m);
    assert.equal(existsSync(path.join(site, 'pip')), false, 'no pip in an application venv');
    // Traceback paths come from the .pyc: they are the final ones.
    const tb = await run([path.join(venv, 'bin', 'python'), '-c', 'import textfmt, traceback; print(textfmt.format_pairs.__code__.co_filename)']);
    assert.equal(tb.stdout.trim(), path.join(site, 'textfmt', '__init__.py'));
  });

  it('makes every directory world-readable', async () => {
    for (const [rel, what] of await snapshot(venv)) {
      if (what.startsWith('dir ')) assert.equal(what, 'dir 755', rel);
    }
  });

  it('passes its own consistency check (check-venv)', async () => {
    const result = await helper(PYTHON311, ['check-venv', '--venv', venv, '--check-import', 'textfmt']);
    assert.equal(result.exitCode, 0, result.stderr);
    const report = parseJsonLine<{ dists: string[]; requirements_checked: number; notes: string[] }>(result.stdout);
    assert.equal(report.dists.length, 4);
    assert.ok(report.requirements_checked >= 4);
  });

  it('re-running with the same trees gives an equivalent venv, reusing every .pyc', async () => {
    const before = await snapshot(venv);
    const again = await installVenv(PYTHON311, venv, exampleTrees, ['--script', 'an-example']);
    assert.equal(again.replaced, true);
    assert.equal(again.swap, 'exchange');
    assert.equal(again.compiled, 0);
    assert.equal(again.reused_pyc, first.compiled);
    assert.deepEqual(await snapshot(venv), before);
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
  });

  it('a failing --check-import leaves the previous venv untouched and working', async () => {
    const before = await snapshot(venv);
    const result = await helper(PYTHON311, ['install-venv', '--venv', venv, ...treeArgs([...exampleTrees, boomTree]), '--check-import', 'an_example_pypi_project', '--check-import', 'boom']);
    assertOneLineError(result, 1, 'check-import failed: import boom raised RuntimeError: boom on import');
    assert.deepEqual(await snapshot(venv), before);
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
    assert.match((await run([path.join(venv, 'bin', 'an-example')])).stdout, /norm=5\.0 cosine=1\.0/);
  });

  it('an unsatisfied or wrong-version requirement, or one distribution twice, fails the same way', async () => {
    const before = await snapshot(venv);
    const withoutStats = exampleTrees.filter((t) => !path.basename(t).startsWith('tinystats-'));
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', venv, ...treeArgs(withoutStats)]), 1, 'an-example-pypi-project 0.0.4 requires tinystats>=1.0, which is not installed');
    const [needsNewer] = await makeTrees([await makeFullWheel(path.join(work, 'crafted-needs'), { requires: ['textfmt>=9,!=9.1'] })], path.join(work, 'trees-needs'));
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', venv, ...treeArgs([...exampleTrees, needsNewer as string])]), 1, 'fullpkg 2.0.1 requires textfmt>=9,!=9.1, but textfmt 1.0.0 is installed');
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', venv, ...treeArgs(exampleTrees), '--script', 'no-such-tool']), 1, 'no tree provides the script no-such-tool');
    const twice = exampleTrees.find((t) => path.basename(t).startsWith('textfmt-')) as string;
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', venv, ...treeArgs([...exampleTrees, twice])]), 1, `two trees install textfmt: ${twice} and ${twice}`);
    assert.deepEqual(await snapshot(venv), before);
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
  });

  it('a corrupted tree (one changed byte) fails before anything changes', async () => {
    const textfmt = byName(exampleTrees, 'textfmt-');
    const damaged = path.join(work, 'damaged', path.basename(textfmt));
    await cp(textfmt, damaged, { recursive: true });
    const file = path.join(damaged, 'textfmt', '__init__.py');
    const data = await readFile(file);
    data[10] = data[10] === 0x41 ? 0x42 : 0x41;
    await rm(file);
    await writeFile(file, data);
    const trees = exampleTrees.map((t) => (t === textfmt ? damaged : t));
    const before = await snapshot(venv);
    const parentBefore = (await readdir(path.dirname(venv))).sort();
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', venv, ...treeArgs(trees)]), 1, 'textfmt/__init__.py: sha256 does not match RECORD');
    assert.deepEqual(await snapshot(venv), before);
    assert.deepEqual((await readdir(path.dirname(venv))).sort(), parentBefore);
    // Not even the parent of a new venv is created.
    const elsewhere = freshVenv('never');
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', elsewhere, ...treeArgs(trees)]), 1, 'does not match its wheel');
    assert.equal(existsSync(path.dirname(elsewhere)), false);
  });

  it('upgrade: a newer tree set replaces the venv, compiling only what changed; the old venv is gone', async () => {
    const upgraded = await installVenv(PYTHON311, venv, upgradeTrees, ['--script', 'an-example', '--check-import', 'an_example_pypi_project']);
    assert.equal(upgraded.replaced, true);
    assert.ok(upgraded.dists.includes('textfmt==1.1.0'));
    assert.ok(upgraded.compiled > 0 && upgraded.reused_pyc > 0, `compiled ${upgraded.compiled}, reused ${upgraded.reused_pyc}`);
    assert.equal(existsSync(path.join(site, 'textfmt-1.0.0.dist-info')), false);
    assert.ok(existsSync(path.join(site, 'textfmt-1.1.0.dist-info')));
    const out = await run([path.join(venv, 'bin', 'an-example')]);
    assert.match(out.stdout, /norm=5\.0 cosine=1\.0/);
    assert.match(out.stdout, /textfmt\s+\|?\s*1\.1\.0/);
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
    assert.deepEqual((await recordProblems(site)).problems, []);
    await assertNoStagingPath(venv);
  });
});

describe('install-venv details', () => {
  it('removes leftovers of a crashed run first', async () => {
    const venv = freshVenv('leftovers');
    await mkdir(path.join(`${venv}.new-crash1`, 'bin'), { recursive: true });
    await writeFile(path.join(`${venv}.new-crash1`, 'bin', 'x'), 'x');
    await mkdir(`${venv}.old-crash2`);
    await writeFile(`${venv}.unrelated`, 'keep me');
    // As the endpoint package's post-install calls it: the native installer ignores --wheelhouse.
    const report = await installVenv(PYTHON311, venv, exampleTrees, ['--installer', 'native', '--wheelhouse', path.join(work, 'no-wheelhouse')]);
    assert.equal(report.leftovers_removed, 2);
    assert.deepEqual((await readdir(path.dirname(venv))).sort(), ['venv', 'venv.unrelated']);
  });

  it('refuses to replace a directory that is not a virtualenv', async () => {
    const venv = freshVenv('not-a-venv');
    await mkdir(venv, { recursive: true });
    await writeFile(path.join(venv, 'precious.txt'), 'data');
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', venv, ...treeArgs(exampleTrees)]), 1, 'is not a virtualenv');
    assert.equal(await readFile(path.join(venv, 'precious.txt'), 'utf8'), 'data');
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
  });

  it('swaps with two renames where renameat2(RENAME_EXCHANGE) is not available', async () => {
    const venv = freshVenv('no-exchange');
    await installVenv(PYTHON311, venv, exampleTrees);
    const withoutExchange =
      'import sys; sys.path.insert(0, sys.argv[1])\nfrom reqset_runtime import cli, venv_swap\n' + 'venv_swap.exchange_paths = lambda a, b: False\nsys.exit(cli.main(sys.argv[2:]))';
    const result = await run([PYTHON311, '-c', withoutExchange, RUNTIME_HELPER, 'install-venv', '--venv', venv, ...treeArgs(upgradeTrees)]);
    const report = parseJsonLine<{ swap: string; replaced: boolean; dists: string[] }>(result.stdout);
    assert.equal(report.swap, 'rename-twice');
    assert.ok(report.replaced && report.dists.includes('textfmt==1.1.0'));
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
    assert.match((await run([path.join(venv, 'bin', 'an-example')])).stdout, /norm=5\.0/);
  });

  it('--copy --no-compile under umask 077: copies instead of linking, no .pyc, still world-readable', async () => {
    const venv = freshVenv('copy');
    const site = sitePackages(venv, '3.11');
    const argv = [PYTHON311, RUNTIME_HELPER, 'install-venv', '--venv', venv, ...treeArgs(exampleTrees), '--copy', '--no-compile'];
    const result = await run(['sh', '-c', 'umask 077 && exec "$@"', 'sh', ...argv]);
    const report = parseJsonLine<{ linked: number; copied: number; compiled: number }>(result.stdout);
    assert.equal(report.linked, 0);
    assert.ok(report.copied > 0);
    assert.equal(report.compiled, 0);
    const textfmt = byName(exampleTrees, 'textfmt-');
    assert.notEqual((await stat(path.join(site, 'textfmt', '__init__.py'))).ino, (await stat(path.join(textfmt, 'textfmt', '__init__.py'))).ino);
    const listing = await snapshot(venv);
    assert.deepEqual([...listing.keys()].filter((k) => k.includes('__pycache__')), []);
    for (const [rel, what] of listing) {
      if (what.startsWith('dir ')) assert.equal(what, 'dir 755', rel);
      if (what.startsWith('file ')) assert.match(what, /^file (644|755) /, rel);
    }
    assert.deepEqual((await recordProblems(site)).problems, []);
    assert.match((await run([path.join(venv, 'bin', 'an-example')])).stdout, /norm=5\.0/);
  });

  it('reports usage errors with exit 2', async () => {
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', 'relative/venv', '--tree', exampleTrees[0] as string]), 2, 'absolute');
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', freshVenv('usage')]), 2, '--tree');
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', freshVenv('usage'), '--tree', exampleTrees[0] as string, '--check-import', 'a b']), 2, 'not a module name');
    assertOneLineError(await helper(PYTHON311, ['remove-venv', '--venv', '/']), 2, '--venv');
    const help = await helper(PYTHON311, ['--help']);
    for (const command of ['install-venv', 'remove-venv', 'check-venv', 'rebuild-wheel']) assert.ok(help.stdout.includes(command));
    const installHelp = await helper(PYTHON311, ['install-venv', '--help']);
    for (const flag of ['--venv', '--tree', '--script', '--check-import', '--installer', '--wheelhouse', '--no-compile', '--copy']) assert.ok(installHelp.stdout.includes(flag), flag);
  });
});

describe('the binary distribution format on each target Python (pure trees)', () => {
  const pythons: [string, string][] = [['3.6', PYTHON36], ['3.11', PYTHON311], ['3.13', PYTHON313]];
  let fullTree: string;
  before(async () => {
    [fullTree] = (await makeTrees([await makeFullWheel(path.join(work, 'crafted-full'))], path.join(work, 'trees'))) as [string];
  });

  for (const [version, python] of pythons) {
    it(`Python ${version}: scripts, headers, data, purelib, entry points; then remove-venv`, async () => {
      const venv = freshVenv(`full-py${version}`);
      const site = sitePackages(venv, version);
      const trees = [byName(exampleTrees, 'textfmt-'), fullTree];
      // The C locale: Python 3.6 then has an ASCII file system encoding.
      const result = await helper(python, ['install-venv', '--venv', venv, ...treeArgs(trees), '--script', 'fullpkg', '--script', 'fullpkg-tool', '--check-import', 'fullpkg', '--check-import', 'fullpkg_extra'], { LC_ALL: 'C', LANG: 'C' });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stderr, '');
      const report = parseJsonLine<{ dists: string[]; python: string; notes: string[] }>(result.stdout);
      assert.deepEqual(report.dists, ['fullpkg==2.0.1', 'textfmt==1.0.0']);
      assert.ok(report.python.startsWith(`${version}.`));

      assert.equal((await run([path.join(venv, 'bin', 'fullpkg'), 'a', 'b'])).stdout, 'fullpkg main a b\n');
      const gui = await run([path.join(venv, 'bin', 'fullpkg-gui')], { allowFailure: true });
      assert.equal(gui.exitCode, 3);
      assert.equal(gui.stdout, 'fullpkg gui\n');
      const tool = await readFile(path.join(venv, 'bin', 'fullpkg-tool'), 'utf8');
      assert.equal(tool, `#!${venv}/bin/python\nimport sys\nprint("tool", sys.executable)\n`);
      assert.equal((await run([path.join(venv, 'bin', 'fullpkg-tool')])).stdout, `tool ${venv}/bin/python\n`);
      assert.equal((await run([path.join(venv, 'bin', 'fullpkg-sh')])).stdout, 'shell script\n');
      for (const script of ['fullpkg', 'fullpkg-gui', 'fullpkg-tool', 'fullpkg-sh']) assert.equal((await stat(path.join(venv, 'bin', script))).mode & 0o777, 0o755, script);
      assert.equal(await readFile(path.join(venv, 'include', 'site', `python${version}`, 'fullpkg', 'fullpkg.h'), 'utf8'), '#define FULLPKG 1\n');
      assert.equal(await readFile(path.join(venv, 'share', 'fullpkg', 'readme.txt'), 'utf8'), 'data file\n');
      assert.ok(existsSync(path.join(site, 'fullpkg_extra.py')));
      assert.equal(existsSync(path.join(site, 'fullpkg-2.0.1.data')), false);

      const { problems, rows } = await recordProblems(site);
      assert.deepEqual(problems, []);
      const paths = (rows.get('fullpkg-2.0.1.dist-info') ?? []).map((r) => r[0]);
      for (const p of ['../../../bin/fullpkg', '../../../bin/fullpkg-gui', '../../../bin/fullpkg-tool', '../../../bin/fullpkg-sh', `../../../include/site/python${version}/fullpkg/fullpkg.h`, '../../../share/fullpkg/readme.txt', 'fullpkg_extra.py', 'fullpkg/__init__.py', 'fullpkg-2.0.1.dist-info/INSTALLER']) {
        assert.ok(paths.includes(p), `RECORD lists ${p}`);
      }
      await assertNoStagingPath(venv);
      assert.ok((await grepTree(path.join(venv, 'bin'), `${venv}/bin/python`)).length >= 3);

      const removed = await helper(python, ['remove-venv', '--venv', venv]);
      assert.equal(removed.exitCode, 0, removed.stderr);
      assert.deepEqual(parseJsonLine(removed.stdout), { venv, removed: true, leftovers_removed: 0 });
      assert.deepEqual(await readdir(path.dirname(venv)), []);
      const again = await helper(python, ['remove-venv', '--venv', venv]);
      assert.equal(again.exitCode, 0, again.stderr);
      assert.deepEqual(parseJsonLine(again.stdout), { venv, removed: false, leftovers_removed: 0 });
    });
  }
});

describe('install-venv --installer pip', () => {
  it('with the wheelhouse: the app runs, pip check is clean, no staging path anywhere', async () => {
    const venv = freshVenv('pip-app');
    const report = await installVenv(PYTHON311, venv, exampleTrees, ['--installer', 'pip', '--wheelhouse', exampleWheelsDir, '--script', 'an-example', '--check-import', 'an_example_pypi_project']);
    assert.equal(report.installer, 'pip');
    assert.ok(report.dists.some((d) => d.startsWith('pip==')));
    assert.match((await run([path.join(venv, 'bin', 'an-example')])).stdout, /norm=5\.0 cosine=1\.0/);
    const check = await run([path.join(venv, 'bin', 'python'), '-m', 'pip', 'check']);
    assert.match(check.stdout, /No broken requirements found/);
    const ours = await helper(PYTHON311, ['check-venv', '--venv', venv]);
    assert.equal(ours.exitCode, 0, ours.stderr);
    await assertNoStagingPath(venv);
    assert.equal((await readFile(path.join(venv, 'bin', 'pip'), 'utf8')).split('\n')[0]?.startsWith(`#!${venv}/bin/python`), true);
    assert.deepEqual((await recordProblems(sitePackages(venv, '3.11'))).problems, []);
    assert.equal(await readFile(path.join(sitePackages(venv, '3.11'), 'textfmt-1.0.0.dist-info', 'INSTALLER'), 'utf8'), 'pip\n');
    assert.equal(existsSync(path.join(sitePackages(venv, '3.11'), 'textfmt-1.0.0.dist-info', 'direct_url.json')), false);
  });

  it('without a wheelhouse it rebuilds the wheels from the trees; a missing wheel in a given wheelhouse is an error', async () => {
    const venv = freshVenv('pip-nowh');
    await installVenv(PYTHON311, venv, exampleTrees, ['--installer', 'pip']);
    assert.match((await run([path.join(venv, 'bin', 'an-example')])).stdout, /norm=5\.0/);
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
    const empty = path.join(work, 'empty-wheelhouse');
    await mkdir(empty, { recursive: true });
    const before = await snapshot(venv);
    assertOneLineError(await helper(PYTHON311, ['install-venv', '--venv', venv, ...treeArgs(exampleTrees), '--installer', 'pip', '--wheelhouse', empty]), 1, 'textfmt-1.0.0-py3-none-any.whl');
    assert.deepEqual(await snapshot(venv), before);
    assert.deepEqual(await leftovers(path.dirname(venv), 'venv'), []);
  });
});

describe('the numpy + Flask closure of the wheel corpus', () => {
  let trees: string[];
  before(async () => {
    trees = await makeTrees((await corpusClosure()).wheels, path.join(work, 'corpus-trees'));
  });

  it('native: numpy and flask import and run, RECORD is right, no staging path', async () => {
    const venv = freshVenv('corpus');
    const report = await installVenv(PYTHON311, venv, trees, ['--script', 'flask', '--check-import', 'numpy', '--check-import', 'flask']);
    assert.equal(report.not_compiled, 0);
    assert.match((await run([path.join(venv, 'bin', 'flask'), '--version'])).stdout, /Flask 3\.1\.3/);
    const norm = await run([path.join(venv, 'bin', 'python'), '-c', 'import numpy; print(numpy.linalg.norm([3.0, 4.0]))']);
    assert.equal(norm.stdout.trim(), '5.0');
    assert.deepEqual((await recordProblems(sitePackages(venv, '3.11'))).problems, []);
    await assertNoStagingPath(venv);
    // numpy's bundled libraries keep their place and mode.
    const libs = (await readdir(path.join(sitePackages(venv, '3.11'), 'numpy.libs'))).filter((f) => f.endsWith('.so') || f.includes('.so.'));
    assert.ok(libs.length > 0);
    const again = await installVenv(PYTHON311, venv, trees, ['--check-import', 'numpy']);
    assert.equal(again.compiled, 0);
    assert.equal(again.reused_pyc, report.compiled);
    const removed = await helper(PYTHON311, ['remove-venv', '--venv', venv]);
    assert.equal(removed.exitCode, 0, removed.stderr);
    assert.equal(existsSync(venv), false);
  });

  it('pip installer: pip check is clean, no staging path', async () => {
    const venv = freshVenv('corpus-pip');
    await installVenv(PYTHON311, venv, trees, ['--installer', 'pip', '--check-import', 'numpy', '--check-import', 'flask']);
    assert.match((await run([path.join(venv, 'bin', 'python'), '-m', 'pip', 'check'])).stdout, /No broken requirements found/);
    await assertNoStagingPath(venv);
    assert.deepEqual((await recordProblems(sitePackages(venv, '3.11'))).problems, []);
  });
});

describe('the consistency check\'s PEP 440 and PEP 508 evaluation', () => {
  /** Evaluates a table with the helper's functions, and with pip's vendored `packaging` where there is one. */
  const TABLE_SCRIPT = String.raw`
import json, sys
sys.path.insert(0, sys.argv[1])
from reqset_runtime.pep440 import parse_specifier, specifier_matches
from reqset_runtime.pep508 import evaluate_marker, marker_environment
versions = ['0.9', '1', '1.0', '1.0.0', '1.0a1', '1.0b2', '1.0rc1', '1.0c2', '1.0.post1', '1.0-3', '1.0.dev3', '1.0a1.dev1',
            '1.0+local.1', '1.0+abc', '1.0.1', '1.1', '2.0', '2.0rc1', '2.0.post0', '1!0.5', '1.0.0.0.1', '10.0', '1.0.POST2']
specs = ['==1.0', '==1.0.0', '==1.0+local.1', '!=1.0', '>=1.0', '>1.0', '<2.0', '<=2.0', '~=1.0', '~=1.0.0', '==1.*',
         '!=1.0.*', '>1.0.post0', '<2.0rc2', '>=1.0a1', '===1.0', '>=1.0,<2.0', '==1!0.5', '>=1.0.dev0', '<1.0', '>1.0a1',
         '~=2.0rc1', '== 1.0', '>=0.9, !=1.0.*, <10']
markers = ['python_version >= "3.6"', 'python_version < "3"', 'python_version > "3.10"', 'python_version ~= "3.8"',
           'sys_platform == "linux" and platform_machine == "x86_64"',
           '(os_name == "nt" or os_name == "posix") and python_full_version >= "3.6.0"',
           'extra == "socks"', 'extra == "So_cks"', '"linux" in sys_platform', 'sys_platform not in "win32 cygwin"',
           'platform_python_implementation != "PyPy" or extra == "x"', 'implementation_name == "cpython"',
           "python_version<'3.8' and extra=='test'", 'os.name == "posix"']
ours = {'specs': [], 'markers': []}
for v in versions:
    for s in specs:
        ours['specs'].append([v, s, specifier_matches(parse_specifier(s), v)])
env = marker_environment()
for m in markers:
    for extra in ('', 'socks', 'test'):
        env['extra'] = extra
        ours['markers'].append([m, extra, evaluate_marker(m, env)])
theirs = None
try:
    from pip._vendor.packaging.specifiers import SpecifierSet
    from pip._vendor.packaging.markers import Marker
    theirs = {'specs': [[v, s, SpecifierSet(s).contains(v, prereleases=True)] for v, s, _ in ours['specs']],
              'markers': [[m, e, Marker(m).evaluate({'extra': e})] for m, e, _ in ours['markers']]}
except ImportError:
    pass
print(json.dumps({'ours': ours, 'theirs': theirs}))
`;
  type Table = { specs: [string, string, boolean][]; markers: [string, string, boolean][] };
  const evaluate = async (python: string) => JSON.parse((await run([python, '-c', TABLE_SCRIPT, RUNTIME_HELPER])).stdout) as { ours: Table; theirs: Table | null };

  it('agrees with packaging on versions, specifiers and markers, on Python 3.11 and 3.6', async () => {
    const py311 = await evaluate(PYTHON311);
    assert.ok(py311.theirs, 'pip\'s vendored packaging is importable with Debian\'s python3.11');
    const differ = (ours: [string, string, boolean][], theirs: [string, string, boolean][]) => ours.filter((row, i) => row[2] !== theirs[i]?.[2]);
    assert.deepEqual(differ(py311.ours.specs, py311.theirs.specs), []);
    assert.deepEqual(differ(py311.ours.markers, py311.theirs.markers), []);
    assert.ok(py311.ours.specs.some((r) => r[2]) && py311.ours.specs.some((r) => !r[2]));
    const py36 = await evaluate(PYTHON36);
    assert.deepEqual(differ(py36.ours.specs, py311.theirs.specs), [], 'Python 3.6 evaluates specifiers the same way');
  });
});

describe('remove-venv', () => {
  it('removes the venv and leftovers, is idempotent, and refuses what is not a venv', async () => {
    const venv = freshVenv('remove');
    await installVenv(PYTHON311, venv, [byName(exampleTrees, 'textfmt-')]);
    await mkdir(`${venv}.new-zz9`);
    const first = await helper(PYTHON311, ['remove-venv', '--venv', venv]);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.deepEqual(parseJsonLine(first.stdout), { venv, removed: true, leftovers_removed: 1 });
    assert.deepEqual(await readdir(path.dirname(venv)), []);
    const second = await helper(PYTHON311, ['remove-venv', '--venv', venv]);
    assert.deepEqual(parseJsonLine(second.stdout), { venv, removed: false, leftovers_removed: 0 });
    const noParent = freshVenv('remove-none');
    assert.deepEqual(parseJsonLine((await helper(PYTHON311, ['remove-venv', '--venv', noParent])).stdout), { venv: noParent, removed: false, leftovers_removed: 0 });
    assert.equal(existsSync(path.dirname(noParent)), false);

    await mkdir(venv);
    await writeFile(path.join(venv, 'precious.txt'), 'data');
    assertOneLineError(await helper(PYTHON311, ['remove-venv', '--venv', venv]), 1, 'is not a virtualenv');
    assert.ok((await lstat(path.join(venv, 'precious.txt'))).isFile());
  });
});
