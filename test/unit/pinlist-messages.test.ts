/**
 * Pin-list messages for lines pip accepts but reqset cannot package (VCS/URL,
 * editable), files that are not UTF-8, and long lists of problems.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatProblems, InputError, MAX_LISTED_PROBLEMS } from '../../src/errors.ts';
import { loadReqset } from '../../src/reqset/load.ts';
import { decodePinFile, parsePinFile } from '../../src/reqset/parse.ts';

const parse = (text: string) => parsePinFile(text, 'r.txt');

describe('pin-list lines reqset cannot package', () => {
  it('a VCS requirement is not read as a package named git', () => {
    const { problems, pins } = parse('git+https://github.com/benjaminp/six.git#egg=six\n');
    assert.deepEqual(pins, []);
    assert.deepEqual(problems, [
      'r.txt:1: "git+https://github.com/benjaminp/six.git#egg=six": VCS/URL requirements cannot be pinned by version: build the wheel, add it with --find-links and pin "six==<version>"',
    ]);
  });
  it('a bare URL or a local path names the fix', () => {
    const { problems } = parse('https://example.org/six-1.17.0-py2.py3-none-any.whl\n./vendor/six\n');
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /^r\.txt:1: "https:\/\/example\.org\/six-1\.17\.0-py2\.py3-none-any\.whl": VCS\/URL requirements cannot be pinned by version: build the wheel, add it with --find-links/);
    assert.match(problems[1] ?? '', /^r\.txt:2: "\.\/vendor\/six": local path requirements cannot be pinned by version/);
  });
  it('an editable install is named, not an unknown option', () => {
    const { problems } = parse('-e .\n--editable=git+https://x/y.git#egg=y\n');
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /^r\.txt:1: editable installs cannot be packaged: build a wheel of "\."/);
    assert.match(problems[1] ?? '', /^r\.txt:2: editable installs cannot be packaged: build a wheel/);
    assert.doesNotMatch(problems.join('\n'), /unknown option/);
  });
});

describe('pin-file encodings', () => {
  const text = 'six==1.17.0\nidna==3.7\n';
  it('UTF-8 is read, a UTF-8 byte-order mark dropped', () => {
    assert.deepEqual(decodePinFile(Buffer.from(text), 'r.txt'), { content: text });
    assert.deepEqual(decodePinFile(Buffer.from(`\uFEFF${text}`), 'r.txt'), { content: text });
  });
  it('UTF-16 with either byte-order mark, or without one, is one problem', () => {
    const expected = { problem: 'r.txt: not UTF-8 text (it looks like UTF-16): save it as UTF-8' };
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le.subarray(2)).swap16();
    assert.deepEqual(decodePinFile(le, 'r.txt'), expected);
    assert.deepEqual(decodePinFile(Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'r.txt'), expected);
    assert.deepEqual(decodePinFile(Buffer.from(text, 'utf16le'), 'r.txt'), expected);
  });
  it('Latin-1 names the line', () => {
    const latin1 = Buffer.from('six==1.17.0\n# caf\u00e9\nidna==3.7\n', 'latin1');
    assert.deepEqual(decodePinFile(latin1, 'r.txt'), { problem: 'r.txt: not UTF-8 text (line 2 has bytes that are not UTF-8, e.g. Latin-1 or Windows-1252): save it as UTF-8' });
  });
});

describe('long lists of problems', () => {
  it('an InputError lists the first problems and counts the rest, keeping them all', () => {
    const problems = Array.from({ length: 10_000 }, (_, i) => `r.txt:${i + 1}: bad`);
    const error = new InputError('r.txt: 10000 problems in the pin list', problems);
    const lines = error.message.split('\n');
    assert.equal(lines.length, 1 + MAX_LISTED_PROBLEMS + 1);
    assert.equal(MAX_LISTED_PROBLEMS, 20);
    assert.equal(lines[20], '  - r.txt:20: bad');
    assert.equal(lines.at(-1), '  ... and 9980 more problems');
    assert.equal(error.problems.length, 10_000);
  });
  it('a short list is shown whole', () => {
    assert.equal(formatProblems('s', ['a', 'b']), 's\n  - a\n  - b');
    assert.equal(formatProblems('s', Array.from({ length: 21 }, () => 'p')).split('\n').at(-1), '  ... and 1 more problem');
  });
});

describe('loading a pin list that is not UTF-8, or has many problems', () => {
  let ws: string;
  before(async () => {
    ws = await mkdtemp(path.join(tmpdir(), 'reqset-pinmsg-'));
    await mkdir(path.join(ws, 'reqsets'));
    const lines = 'six==1.17.0\nidna==3.7\nrequests==2.32.3\n';
    await writeFile(path.join(ws, 'reqsets', 'wide.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines, 'utf16le')]));
    await writeFile(path.join(ws, 'reqsets', 'top.txt'), 'six==1.17.0\n-r wide.txt\n');
    await writeFile(path.join(ws, 'reqsets', 'dups.txt'), 'six==1.17.0\n'.repeat(10_000));
  });
  after(() => rm(ws, { recursive: true, force: true }));

  it('names the encoding once, also in an included file', async () => {
    for (const name of ['wide', 'top']) {
      await assert.rejects(loadReqset(ws, name), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.deepEqual(error.problems, ['reqsets/wide.txt: not UTF-8 text (it looks like UTF-16): save it as UTF-8']);
        return true;
      });
    }
  });
  it('10,000 duplicate lines are one short message', async () => {
    await assert.rejects(loadReqset(ws, 'dups'), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.problems.length, 9_999);
      const lines = error.message.split('\n');
      assert.equal(lines[0], 'reqsets/dups.txt: 9999 problems in the pin list');
      assert.equal(lines.length, 22);
      assert.equal(lines[1], '  - reqsets/dups.txt:2: six is pinned twice (also at reqsets/dups.txt:1): remove one of the lines');
      assert.equal(lines[21], '  ... and 9979 more problems');
      return true;
    });
  });
});
