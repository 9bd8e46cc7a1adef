/**
 * rpmlint and lintian on every package of the bundled example reqset
 * reqsset3 (reqsets/reqsset3.txt, specs/an_example_pypi_project.yml), built
 * offline for el9-py311 and debian12: no errors, and only the warnings
 * test/helpers/lint.ts lists with their reasons, each still occurring.
 *
 * The wheels are built with the targets' interpreter, /usr/bin/python3.11:
 * a Python built with a run path of its own (pyenv's, with --enable-shared)
 * gives every compiled extension that run path (rpmlint
 * binary-or-shlib-defines-rpath, lintian custom-library-search-path).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { debianPython, REPO_ROOT } from '../helpers/env.ts';
import { lintFiles } from '../helpers/lint.ts';

const REQSET = 'reqsset3';

describe('rpmlint and lintian on the packages of the example reqset reqsset3', () => {
  let out = '';
  const files: Record<string, string[]> = {};

  before(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'reqset-lint-'));
    for (const target of ['el9-py311', 'debian12']) {
      const build = await api.buildTarget(REQSET, target, { workspace: REPO_ROOT, out, wheelCache: path.join(out, 'wheels'), jobs: 2, python: debianPython() });
      files[target] = api.manifestPackages(build.manifest).map((p) => path.join(build.outDir, p.path));
    }
  });
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('rpmlint: every RPM, no errors, only the warnings of the table', async () => {
    const rpms = files['el9-py311'] ?? [];
    assert.equal(rpms.length, 9, 'runtime, pins, six wheels, the endpoint');
    assert.deepEqual(await lintFiles(REQSET, 'rpmlint', rpms), []);
  });

  it('lintian: every .deb, no errors, only the warnings of the table; nothing left in TMPDIR', async () => {
    const debs = files.debian12 ?? [];
    assert.equal(debs.length, 9, 'runtime, pins, six wheels, the endpoint');
    const tmp = await mkdtemp(path.join(out, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      assert.deepEqual(await lintFiles(REQSET, 'lintian', debs), []);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    assert.deepEqual(await readdir(tmp), [], 'lintian\'s ELF index (mldbm-elf-*) went with its temporary directory');
  });
});
