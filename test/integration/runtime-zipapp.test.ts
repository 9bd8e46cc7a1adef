/**
 * The runtime helper's package and the zipapp the runtime package ships:
 * the same bytes on every build, lint-clean, valid Python 3.6 syntax, and
 * runnable with the standard library only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../../src/run.ts';
import { RUNTIME_PACKAGE, RUNTIME_SOURCE_DIR, runtimeZipapp } from '../../src/runtime/zipapp.ts';
import { pyflakesPython, targetPython } from '../helpers/env.ts';
import { RUNTIME_HELPER } from '../helpers/runtime-fixtures.ts';

const work = await mkdtemp(path.join(tmpdir(), 'reqset-runtime-zipapp-'));
after(() => rm(work, { recursive: true, force: true }));

const PACKAGE_DIR = path.join(RUNTIME_SOURCE_DIR, RUNTIME_PACKAGE);
const modules = async () => (await readdir(PACKAGE_DIR)).filter((f) => f.endsWith('.py')).sort().map((f) => path.join(PACKAGE_DIR, f));

/** Each member of a zip as Python's zipfile sees it: name, method, date_time, mode. */
const LIST_SCRIPT = String.raw`
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    print(json.dumps([[i.filename, i.compress_type, list(i.date_time), i.external_attr >> 16] for i in z.infolist()]))
`;

describe('the runtime zipapp', () => {
  it('is the same bytes on every build', async () => {
    const [first, second] = [await runtimeZipapp(), await runtimeZipapp()];
    assert.ok(first.equals(second));
  });

  it('holds __main__.py then every module of the package, stored, at one fixed time and mode', async () => {
    const listed = JSON.parse((await run(['python3', '-c', LIST_SCRIPT, RUNTIME_HELPER])).stdout) as [string, number, number[], number][];
    const expected = ['__main__.py', ...(await modules()).map((m) => `${RUNTIME_PACKAGE}/${path.basename(m)}`)];
    assert.deepEqual(listed.map(([name]) => name), expected);
    for (const [name, method, time, mode] of listed) assert.deepEqual([method, time, mode], [0, [1980, 1, 1, 0, 0, 0], 0o100644], name);
  });

  it('runs with the standard library only (python -I -S) on Python 3.6 and 3.13', async () => {
    const importAll = `import sys; sys.path.insert(0, sys.argv[1])\n${(await modules()).map((m) => `import ${RUNTIME_PACKAGE}.${path.basename(m, '.py')}`).join('\n').replace(`import ${RUNTIME_PACKAGE}.__init__\n`, '')}`;
    for (const python of [targetPython('3.6'), targetPython('3.13')]) {
      assert.match((await run([python, '-I', '-S', RUNTIME_HELPER, '--help'])).stdout, /rebuild-wheel/);
      await run([python, '-I', '-S', '-c', importAll, RUNTIME_HELPER]);
    }
  });
});

describe('the runtime helper\'s sources', () => {
  it('pyflakes finds nothing', async () => {
    const result = await run([pyflakesPython(), '-m', 'pyflakes', path.join(RUNTIME_SOURCE_DIR, '__main__.py'), PACKAGE_DIR], { allowFailure: true });
    assert.equal(result.stdout + result.stderr, '');
    assert.equal(result.exitCode, 0);
  });

  it('every module compiles with the real Python 3.6 (py_compile)', async () => {
    const script = 'import os, py_compile, sys\nfor i, f in enumerate(sys.argv[2:]):\n    py_compile.compile(f, cfile=os.path.join(sys.argv[1], "%d.pyc" % i), doraise=True)';
    const files = [path.join(RUNTIME_SOURCE_DIR, '__main__.py'), ...(await modules())];
    const result = await run([targetPython('3.6'), '-c', script, work, ...files], { allowFailure: true });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal((await readdir(work)).length, files.length);
  });
});
