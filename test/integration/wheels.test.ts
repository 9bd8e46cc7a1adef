/**
 * The wheels stage against the real pip: the example reqset builds offline,
 * build requirements pinned in the reqset are built first and used, an
 * unchanged pin is never rebuilt, hashes are verified, failures are clear.
 */
import assert from 'node:assert/strict';
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { InputError, ToolError } from '../../src/errors.ts';
import { sha256File } from '../../src/fsutil.ts';
import type { ProgressEvent } from '../../src/progress.ts';
import { run } from '../../src/run.ts';
import { makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';

describe('wheels stage with pip', () => {
  let ws: Workspace;
  let events: ProgressEvent[];
  const options = () => ({ workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2, progress: (e: ProgressEvent) => events.push(e) });

  before(async () => {
    ws = await makeWorkspace();
    await ws.writeReqset('ex', `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
  });
  after(() => ws.cleanup());

  it('builds the example reqset offline, compiled extension against its pinned C-API build requirement', async () => {
    events = [];
    const result = await api.wheels('ex', 'debian12', options());
    assert.ok(result.ok);
    const files = (await readdir(result.wheelsDir)).sort();
    assert.deepEqual(files, [
      'an_example_pypi_project-0.0.4-py3-none-any.whl',
      'setuptools-65.5.0-py3-none-any.whl',
      'textfmt-1.0.0-py3-none-any.whl',
      'tinystats-1.0.0-cp311-cp311-linux_x86_64.whl',
      'tinyvec-1.0.0-cp311-cp311-linux_x86_64.whl',
      'wheel-0.38.4-py3-none-any.whl',
    ]);
    const origin = Object.fromEntries(result.wheels.map((w) => [w.name, w.origin]));
    assert.deepEqual(origin, { setuptools: 'collected', wheel: 'collected', textfmt: 'built', tinyvec: 'built', tinystats: 'built', an_example_pypi_project: 'built' });
    // tinystats waited for tinyvec: its build started only after tinyvec was done.
    const at = (item: string, state: string) => events.findIndex((e) => e.item === item && e.state === state);
    assert.ok(at('tinyvec==1.0.0', 'built') < at('tinystats==1.0.0', 'start'), 'tinystats must start after tinyvec is built');

    // The application runs from these wheels, with tinystats compiled against the pinned tinyvec.
    const venv = path.join(ws.dir, 'venv');
    await run(['python3', '-m', 'venv', venv]);
    await run([path.join(venv, 'bin', 'pip'), 'install', '--no-index', '--find-links', result.wheelsDir, 'an_example_pypi_project']);
    const out = await run([path.join(venv, 'bin', 'an-example')]);
    assert.match(out.stdout, /norm=5\.0 cosine=1\.0/);
    const builtWith = await run([path.join(venv, 'bin', 'python'), '-c', 'import tinystats; print(tinystats.built_with_tinyvec)']);
    assert.equal(builtWith.stdout.trim(), '1.0.0');
  });

  it('a second run rebuilds nothing and gives the same wheels', async () => {
    const before = await Promise.all((await readdir(path.join(ws.out, 'ex', 'debian12', 'wheels'))).sort().map((f) => sha256File(path.join(ws.out, 'ex', 'debian12', 'wheels', f))));
    events = [];
    const result = await api.wheels('ex', 'debian12', options());
    assert.ok(result.wheels.every((w) => w.origin === 'cached' || w.origin === 'collected'));
    assert.equal(events.filter((e) => e.state === 'start').length, 0, 'no pip build started');
    const now = await Promise.all((await readdir(result.wheelsDir)).sort().map((f) => sha256File(path.join(result.wheelsDir, f))));
    assert.deepEqual(now, before);
  });

  it('another target with the same builder reuses the cached wheels', async () => {
    const result = await api.check('ex', 'el9-py311', options());
    assert.ok(result.ok, JSON.stringify(result.problems));
    assert.ok(result.wheels.every((w) => w.origin !== 'built'));
  });

  it('a changed build requirement rebuilds what was compiled against it', async () => {
    const other = await makeWorkspace({ versions: { tinyvec: '1.1.0' }, cache: ws.cache });
    try {
      await other.writeReqset('ex', `--no-index\n--find-links ../dist-src\n${reqsset3Pins({ tinyvec: '1.1.0' })}\n`);
      const result = await api.check('ex', 'debian12', { ...options(), workspace: other.dir, out: other.out });
      const origin = Object.fromEntries(result.wheels.map((w) => [w.name, w.origin]));
      assert.equal(origin.tinyvec, 'built');
      assert.equal(origin.tinystats, 'built', 'tinystats is rebuilt against tinyvec 1.1.0');
      assert.equal(origin.textfmt, 'cached');
    } finally {
      await other.cleanup();
    }
  });

  it('verifies pinned hashes and names the pin on a mismatch', async () => {
    const wheel = path.join(ws.dist, 'setuptools-65.5.0-py3-none-any.whl');
    const good = await sha256File(wheel);
    await ws.writeReqset('hashed', `--no-index\n--find-links ../dist-src\nsetuptools==65.5.0 --hash=sha256:${good}\nwheel==0.38.4 --hash=sha256:${'0'.repeat(64)}\n`);
    await assert.rejects(api.check('hashed', 'debian12', options()), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /hashed\.txt:4: hash mismatch for wheel==0\.38\.4: wheel-0\.38\.4-py3-none-any\.whl has sha256:[0-9a-f]{64}/);
      return true;
    });
  });

  it('a local --find-links directory that does not exist is one input error, before any build', async () => {
    await ws.writeReqset('nowhere', `--no-index\n--find-links ../nowhere\n${reqsset3Pins()}\n`);
    events = [];
    await assert.rejects(api.check('nowhere', 'debian12', options()), (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.equal(error.exitCode, 2);
      assert.deepEqual(error.problems, [
        `reqsets/nowhere.txt:2: --find-links ${path.join(ws.dir, 'nowhere')} does not exist: create it with the wheels and sdists of the pins (the pin list's comments may say how), or fix the path, which is relative to reqsets/nowhere.txt`,
      ]);
      return true;
    });
    assert.equal(events.filter((e) => e.state === 'start').length, 0, 'no pip build started');
  });

  it('a compiled wheel cannot be built with a Python other than the target\'s', async () => {
    await assert.rejects(api.check('ex', 'el9', { ...options(), python: 'python3', wheelCache: path.join(ws.dir, 'cache-el9') }), (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.match(error.message, /tinyvec==1\.0\.0 builds a compiled wheel \(tinyvec-1\.0\.0-cp311-cp311-linux_x86_64\.whl\) with Python 3\.11, but el9 has Python 3\.9/);
      return true;
    });
  });

  it('a failing build shows the tail of pip\'s log and where the full log is', async () => {
    const broken = path.join(ws.dir, 'broken');
    await run(['mkdir', '-p', path.join(broken, 'brokenpkg-1.0')]);
    await writeFile(path.join(broken, 'brokenpkg-1.0', 'setup.py'), 'raise SystemExit("this sdist is broken on purpose")\n');
    await run(['tar', '-C', broken, '-czf', path.join(broken, 'brokenpkg-1.0.tar.gz'), 'brokenpkg-1.0']);
    await copyFile(path.join(ws.dist, 'setuptools-65.5.0-py3-none-any.whl'), path.join(broken, 'setuptools-65.5.0-py3-none-any.whl'));
    await copyFile(path.join(ws.dist, 'wheel-0.38.4-py3-none-any.whl'), path.join(broken, 'wheel-0.38.4-py3-none-any.whl'));
    await ws.writeReqset('broken', '--no-index\n--find-links ../broken\nsetuptools==65.5.0\nwheel==0.38.4\nbrokenpkg==1.0\n');
    await assert.rejects(api.wheels('broken', 'debian12', options()), (error: unknown) => {
      assert.ok(error instanceof ToolError, String(error));
      assert.match(error.message, /pip could not build brokenpkg==1\.0 \(exit code 1\)/);
      assert.match(error.message, /this sdist is broken on purpose/);
      assert.match(error.message, /full log: .*brokenpkg-1\.0\.log/);
      return true;
    });
    // Nothing was written half-way.
    const left = await readdir(path.join(ws.out, 'broken'), { recursive: true, withFileTypes: true });
    assert.deepEqual(left.filter((e) => !e.isDirectory()).map((e) => e.name), []);
  });
});
