/**
 * Build hooks: the BUILD_PACKAGES* lists are read without running the file,
 * strictly; hooks are matched by PEP 503 name; only a package with a hook
 * gets the hook's sha256 in its cache key; the runner passes values through
 * the environment and "$@", never through shell text.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOOK_RUNNER, hookCommand, hookKeyInputs, hookPackagesFor, loadHooks, parseHookPackages } from '../../src/builders/hooks.ts';
import { InputError } from '../../src/errors.ts';
import { sha256 } from '../../src/fsutil.ts';
import { run } from '../../src/run.ts';
import { cacheKey, type BuildInputs } from '../../src/wheels/cache.ts';

describe('hook BUILD_PACKAGES parsing', () => {
  it('reads the three lists, quoted, single-quoted or one bare word, with comments', () => {
    const text = [
      '#!/bin/bash',
      '# BUILD_PACKAGES="commented-out"',
      'BUILD_PACKAGES="libyaml-dev  pkg-config"   # for the C extension',
      "export BUILD_PACKAGES_RPM='libyaml-devel'",
      'BUILD_PACKAGES_DEB=libffi-dev',
      'pre_build() {',
      '  export FOO="$BUILD_PACKAGES"',
      '}',
    ].join('\n');
    assert.deepEqual(parseHookPackages(text, 'h.sh'), { all: ['libyaml-dev', 'pkg-config'], deb: ['libffi-dev'], rpm: ['libyaml-devel'] });
  });

  it('no lists is fine', () => {
    assert.deepEqual(parseHookPackages('pre_build() { export X=1; }\n', 'h.sh'), { all: [], deb: [], rpm: [] });
  });

  it('rejects what it cannot read without running the file, every problem with file:line at once', () => {
    const text = [
      'BUILD_PACKAGES="$(cat list)"',
      '  BUILD_PACKAGES_DEB="indented"',
      'BUILD_PACKAGES_APK="musl-dev"',
      'BUILD_PACKAGES_RPM="gcc"',
      'BUILD_PACKAGES_RPM="make"',
      'BUILD_PACKAGES+=" more"',
    ].join('\n');
    assert.throws(
      () => parseHookPackages(text, 'pkg.sh'),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.problems.length, 5, error.message);
        assert.match(error.problems[0] ?? '', /^pkg\.sh:1: BUILD_PACKAGES must be a literal list/);
        assert.match(error.problems[1] ?? '', /^pkg\.sh:2: BUILD_PACKAGES is read without running the hook/);
        assert.match(error.problems[2] ?? '', /^pkg\.sh:3: unknown variable BUILD_PACKAGES_APK/);
        assert.match(error.problems[3] ?? '', /^pkg\.sh:5: BUILD_PACKAGES_RPM is set twice/);
        assert.match(error.problems[4] ?? '', /^pkg\.sh:6: /);
        return true;
      },
    );
  });

  it('rejects version relations and shell metacharacters in names', () => {
    assert.throws(() => parseHookPackages('BUILD_PACKAGES="libfoo-dev (>= 1.0)"\n', 'x.sh'), /not system package names: \(>=, 1\.0\)/);
    assert.throws(() => parseHookPackages("BUILD_PACKAGES='a;rm -rf /'\n", 'x.sh'), /not system package names/);
  });

  it('the packages of a builder family: the common list plus that family\'s, sorted, once', () => {
    const hook = { key: 'x', file: '/h/x.sh', sha256: 'f', packages: { all: ['pkg-config', 'b'], deb: ['libyaml-dev', 'b'], rpm: ['libyaml-devel'] } };
    assert.deepEqual(hookPackagesFor(hook, 'deb'), ['b', 'libyaml-dev', 'pkg-config']);
    assert.deepEqual(hookPackagesFor(hook, 'rpm'), ['b', 'libyaml-devel', 'pkg-config']);
  });
});

describe('loading hooks', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reqset-hooks-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('matches by PEP 503 name and hashes the file', async () => {
    const hooks = path.join(dir, 'ok');
    await mkdir(hooks);
    await writeFile(path.join(hooks, 'PyYAML.sh'), 'BUILD_PACKAGES_DEB="libyaml-dev"\n');
    await writeFile(path.join(hooks, 'zope.interface.sh'), 'pre_build() { :; }\n');
    await writeFile(path.join(hooks, 'notes.txt'), 'not a hook\n');
    const loaded = await loadHooks(hooks);
    assert.deepEqual([...loaded.keys()], ['pyyaml', 'zope-interface']);
    assert.equal(loaded.get('pyyaml')?.sha256, sha256('BUILD_PACKAGES_DEB="libyaml-dev"\n'));
    assert.deepEqual(loaded.get('pyyaml')?.packages.deb, ['libyaml-dev']);
    assert.equal(loaded.get('zope-interface')?.file, path.join(hooks, 'zope.interface.sh'));
  });

  it('no hooks directory: no hooks', async () => {
    assert.equal((await loadHooks(path.join(dir, 'missing'))).size, 0);
  });

  it('two files for one package, bad names and bad lists are reported together', async () => {
    const hooks = path.join(dir, 'bad');
    await mkdir(hooks);
    await writeFile(path.join(hooks, 'Foo_Bar.sh'), '\n');
    await writeFile(path.join(hooks, 'foo-bar.sh'), '\n');
    await writeFile(path.join(hooks, '-x.sh'), '\n');
    await writeFile(path.join(hooks, 'y.sh'), 'BUILD_PACKAGES=$X\n');
    await assert.rejects(loadHooks(hooks), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.problems.length, 3, error.message);
      assert.match(error.message, /"-x" is not a distribution name/);
      assert.match(error.message, /Foo_Bar\.sh is the hook of foo-bar too/);
      assert.match(error.message, /y\.sh:1: BUILD_PACKAGES must be a literal list/);
      return true;
    });
  });
});

describe('hooks in the cache key', () => {
  const inputs = (extra: Record<string, string>): BuildInputs => ({ key: 'p', version: '1', builder: 'b', source: 's', buildDependencies: {}, extra });
  const hook = (content: string) => ({ key: 'p', file: '/h/p.sh', sha256: sha256(content), packages: { all: [], deb: [], rpm: [] } });

  it('a package without a hook keeps the key it had before hooks existed', () => {
    assert.deepEqual(hookKeyInputs(undefined), {});
    assert.equal(cacheKey(inputs(hookKeyInputs(undefined))), cacheKey(inputs({})));
  });

  it('the hook content changes the key of its package', () => {
    const a = cacheKey(inputs(hookKeyInputs(hook('pre_build() { export A=1; }'))));
    const b = cacheKey(inputs(hookKeyInputs(hook('pre_build() { export A=2; }'))));
    assert.notEqual(a, b);
    assert.notEqual(a, cacheKey(inputs({})));
    assert.equal(a, cacheKey(inputs(hookKeyInputs(hook('pre_build() { export A=1; }')))));
  });
});

describe('the hook runner', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reqset-hookrun-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const context = { distribution: 'Pkg', version: '1.0', target: 'debian12', format: 'deb' as const, python: '/usr/bin/python3', wheelDir: '/w' };

  async function runHook(body: string, argv: string[]) {
    const file = path.join(dir, `h${Math.random().toString(36).slice(2)}.sh`);
    await writeFile(file, body);
    const command = hookCommand({ key: 'pkg', file, sha256: 'x', packages: { all: [], deb: [], rpm: [] } }, argv, context);
    assert.deepEqual(command.argv.slice(0, 4), ['bash', '-c', HOOK_RUNNER, 'reqset-hook'], 'a constant program; the command follows as "$@"');
    return run(command.argv, { env: command.env, allowFailure: true });
  }

  it('pre_build runs first in the same shell, then the command with its arguments untouched', async () => {
    const result = await runHook('pre_build() { export SEEN="from hook"; }\n', ['bash', '-c', 'printf "%s|" "$SEEN" "$@" "$REQSET_DISTRIBUTION" "$REQSET_TARGET" "$WHEEL_DIR"', 'argv0', 'a b', '$(touch pwned)', "'q'"]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, "from hook|a b|$(touch pwned)|'q'|Pkg|debian12|/w|");
  });

  it('build() replaces the command and gets it as "$@"', async () => {
    const result = await runHook('build() { echo "custom:" "$@"; }\n', ['echo', 'default']);
    assert.equal(result.stdout.trim(), 'custom: echo default');
  });

  it('a failing pre_build or top-level line stops the build', async () => {
    const failing = await runHook('pre_build() { false; echo after; }\n', ['echo', 'built']);
    assert.notEqual(failing.exitCode, 0);
    assert.doesNotMatch(failing.stdout, /built|after/);
    const top = await runHook('false\n', ['echo', 'built']);
    assert.notEqual(top.exitCode, 0);
    assert.doesNotMatch(top.stdout, /built/);
  });

  it('without pre_build or build the command just runs', async () => {
    const result = await runHook('BUILD_PACKAGES="x"\n', ['echo', 'plain']);
    assert.equal(result.stdout.trim(), 'plain');
  });
});
