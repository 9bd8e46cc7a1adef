/**
 * `check` on real third-party wheels from ../shared/corpus (a missing corpus
 * fails the suite, naming it): the requests and Flask closures fit Python 3.11
 * targets, numpy's cp311 wheel does not fit el9, a manylinux_2_34 wheel does
 * not fit el8, and a removed pin is named with who needs it.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { makeWheel } from '../helpers/make-wheel.ts';
import { CORPUS } from '../helpers/workspace.ts';
import { corpusWheelsDir } from '../helpers/env.ts';

const REQUESTS = ['requests==2.34.2', 'urllib3==2.7.0', 'idna==3.13', 'certifi==2026.5.20', 'charset_normalizer==3.4.7'];
const FLASK = ['Flask==3.1.3', 'Werkzeug==3.1.8', 'Jinja2==3.1.6', 'MarkupSafe==3.0.3', 'itsdangerous==2.2.0', 'click==8.4.0', 'blinker==1.9.0'];

describe('check against the wheel corpus', () => {
  before(() => corpusWheelsDir());
  let ws: string;
  const write = (name: string, pins: string[]) => writeFile(path.join(ws, 'reqsets', `${name}.txt`), `--no-index\n--find-links ${CORPUS}\n${pins.join('\n')}\n`);
  const options = () => ({ workspace: ws, wheelCache: path.join(ws, 'cache') });

  before(async () => {
    ws = await mkdtemp(path.join(tmpdir(), 'reqset-corpus-'));
    await mkdir(path.join(ws, 'reqsets'));
    await write('web', [...REQUESTS, ...FLASK]);
    await write('sci', ['numpy==2.4.6']);
    await write('partial', FLASK.filter((p) => !p.startsWith('MarkupSafe')));
  });
  after(() => rm(ws, { recursive: true, force: true }));

  for (const target of ['debian12', 'el9-py311']) {
    it(`the requests and Flask closures pass on ${target}`, async () => {
      const result = await api.check('web', target, options());
      assert.deepEqual(result.problems, []);
      assert.ok(result.ok);
      assert.equal(result.wheels.length, REQUESTS.length + FLASK.length);
      assert.ok(result.wheels.every((w) => w.origin === 'collected'));
    });
  }

  it('numpy cp311 is rejected for el9 (Python 3.9) with the reason', async () => {
    const result = await api.check('sci', 'el9', options());
    assert.equal(result.ok, false);
    const platform = result.problems.find((p) => p.kind === 'platform');
    assert.match(platform?.message ?? '', /numpy==2\.4\.6: numpy-2\.4\.6-cp311-cp311-manylinux_2_27_x86_64\.manylinux_2_28_x86_64\.whl cannot be installed on el9: built for cp311-cp311; the target has CPython 3\.9/);
    assert.ok(result.problems.some((p) => p.kind === 'python' && /requires Python >=3\.11/.test(p.message)));
  });

  it('removing MarkupSafe names it and who needs it', async () => {
    const result = await api.check('partial', 'debian12', options());
    const missing = result.problems.filter((p) => p.kind === 'missing');
    assert.deepEqual(missing.map((p) => [p.distribution, p.requiredBy]).sort(), [
      ['markupsafe', 'flask'],
      ['markupsafe', 'jinja2'],
      ['markupsafe', 'werkzeug'],
    ]);
    for (const p of missing) assert.match(p.message, /requires (markupsafe|MarkupSafe)>=\d[^,]*, but markupsafe is not pinned: add "(markupsafe|MarkupSafe)==<version>" to the pin list/);
  });

  it('a manylinux_2_34 wheel is rejected for el8 (glibc 2.28)', async () => {
    const links = path.join(ws, 'new-glibc');
    await makeWheel(links, { name: 'fastthing', version: '1.0', tag: 'cp36-cp36m-manylinux_2_34_x86_64', files: { 'fastthing/__init__.py': '' }, rootIsPurelib: false });
    await writeFile(path.join(ws, 'reqsets', 'glibc.txt'), `--no-index\n--find-links ${links}\nfastthing==1.0\n`);
    const result = await api.check('glibc', 'el8', options());
    assert.deepEqual(result.problems.map((p) => p.kind), ['platform']);
    assert.match(result.problems[0]?.message ?? '', /fastthing-1\.0-cp36-cp36m-manylinux_2_34_x86_64\.whl cannot be installed on el8: manylinux_2_34_x86_64 needs glibc 2\.34, the target has glibc 2\.28/);
  });
});
