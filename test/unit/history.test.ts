/** The NEVR rules of src/packagers/history.ts, and reading a repository's history. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.ts';
import { decideNewBytes, decideVersion, emptyHistory, HISTORY_FILE, historyText, loadHistory, parseHistory, recordPublished, type HistoryEntry } from '../../src/packagers/history.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function entry(pep440: string, epoch: number, release: string, inputs: string): HistoryEntry {
  return { pep440, epoch, release, arch: 'noarch', inputs, sha256: inputs, file: `x-${pep440}-${release}.noarch.rpm` };
}

describe('decideVersion', () => {
  it('starts at release 1 and the PEP 440 epoch without history', () => {
    assert.deepEqual(decideVersion('1.0', A, []), { epoch: 0, release: '1', reason: 'first' });
    assert.deepEqual(decideVersion('2!1.0', A, []), { epoch: 2, release: '1', reason: 'first' });
  });

  it('keeps the version of unchanged inputs', () => {
    assert.deepEqual(decideVersion('1.0', A, [entry('1.0', 0, '1', A)]), { epoch: 0, release: '1', reason: 'unchanged', publishedSha256: A });
    assert.deepEqual(decideVersion('1.0.0', A, [entry('1.0', 0, '3', A), entry('0.9', 0, '1', B)]), { epoch: 0, release: '3', reason: 'unchanged', publishedSha256: A });
  });

  it('of two records of one version and release (a file publish replaced), takes the last', () => {
    const published = [entry('1.0', 0, '1', A), entry('1.0', 0, '1', B)];
    assert.deepEqual(decideVersion('1.0', B, published), { epoch: 0, release: '1', reason: 'unchanged', publishedSha256: B });
  });

  it('gives unchanged inputs that came out as other bytes the next release, at the same epoch', () => {
    const published = [entry('1.0', 0, '1', B), entry('1.1', 0, '1', C), entry('1.0', 1, '2', A)];
    const unchanged = decideVersion('1.0', A, published);
    assert.deepEqual(decideNewBytes('1.0', unchanged, published), { epoch: 1, release: '3', reason: 'new bytes' });
  });

  it('gives new content at a published version the next release', () => {
    assert.deepEqual(decideVersion('1.0', B, [entry('1.0', 0, '1', A)]), { epoch: 0, release: '2', reason: 'new content' });
    assert.deepEqual(decideVersion('1.0', C, [entry('1.0', 0, '1', A), entry('1.0', 0, '2', B)]), { epoch: 0, release: '3', reason: 'new content' });
  });

  it('a new content equal to an older release still goes up: that older one is below the newest', () => {
    assert.deepEqual(decideVersion('1.0', A, [entry('1.0', 0, '1', A), entry('1.0', 0, '2', B)]), { epoch: 0, release: '3', reason: 'new content' });
  });

  it('gives a higher version release 1', () => {
    assert.deepEqual(decideVersion('1.1', B, [entry('1.0', 0, '4', A)]), { epoch: 0, release: '1', reason: 'new version' });
  });

  it('gives a rollback the next epoch, and a release after every file of that version', () => {
    const published = [entry('1.0', 0, '1', A), entry('1.1', 0, '1', B)];
    assert.deepEqual(decideVersion('1.0', A, published), { epoch: 1, release: '2', reason: 'rollback' });
    assert.deepEqual(decideVersion('0.9', C, published), { epoch: 1, release: '1', reason: 'rollback' });
  });

  it('keeps an epoch once a rollback set it', () => {
    const published = [entry('1.0', 0, '1', A), entry('1.1', 0, '1', B), entry('1.0', 1, '2', A)];
    assert.deepEqual(decideVersion('1.0', A, published), { epoch: 1, release: '2', reason: 'unchanged', publishedSha256: A });
    assert.deepEqual(decideVersion('1.1', B, published), { epoch: 1, release: '2', reason: 'new version' }, '1:1.1-1 would have the file name of 1.1-1');
    assert.deepEqual(decideVersion('1.2', C, published), { epoch: 1, release: '1', reason: 'new version' });
  });

  it('adds a PEP 440 epoch to the one a rollback set', () => {
    const published = [entry('2.0', 0, '1', A), entry('1.0', 1, '1', B)];
    assert.deepEqual(decideVersion('1!1.0', C, published), { epoch: 2, release: '2', reason: 'new version' }, 'the file name of 1.0-1 is taken');
  });

  it('takes a release override, with the epoch history gives', () => {
    assert.deepEqual(decideVersion('1.0', A, [entry('1.0', 0, '1', A)], '7'), { epoch: 0, release: '7', reason: 'release override' });
  });

  it('refuses to continue a release it cannot count on', () => {
    assert.throws(() => decideVersion('1.0', B, [entry('1.0', 0, '1.el9', A)]), InputError);
  });
});

describe('history files', () => {
  it('round-trips and records each published file once', () => {
    let history = recordPublished(emptyHistory(), 'r-wheel-x', entry('1.0', 0, '1', A));
    history = recordPublished(history, 'r-wheel-x', entry('1.0', 0, '1', A));
    assert.equal(history.packages['r-wheel-x']?.length, 1);
    assert.deepEqual(parseHistory(historyText(history), 'h'), history);
  });

  it('a corrupt or foreign file is bad input naming it', () => {
    assert.throws(() => parseHistory('{', '/repo/reqset-history.json'), (e: unknown) => e instanceof InputError && /\/repo\/reqset-history\.json is not valid JSON/.test(e.message));
    assert.throws(() => parseHistory('{"format":"reqset-history","version":1,"packages":{"x":[{"pep440":"1.0"}]}}', 'h'), (e: unknown) => e instanceof InputError && /packages\.x\.0/.test(e.message));
    assert.throws(() => parseHistory('{"format":"other","version":1,"packages":{}}', 'h'), InputError);
  });

  it('a missing or empty directory has an empty history; a repository without one is an error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'reqset-history-'));
    try {
      assert.deepEqual(await loadHistory(path.join(dir, 'missing')), emptyHistory());
      assert.deepEqual(await loadHistory(dir), emptyHistory());
      await mkdir(path.join(dir, 'repodata'));
      await assert.rejects(loadHistory(dir), (e: unknown) => e instanceof InputError && /holds a repository \(repodata\/\) but no reqset-history\.json/.test(e.message));
      await writeFile(path.join(dir, HISTORY_FILE), historyText(recordPublished(emptyHistory(), 'p', entry('1.0', 0, '1', A))));
      assert.equal((await loadHistory(dir)).packages.p?.length, 1);
      assert.deepEqual((await readdir(dir)).sort(), ['repodata', HISTORY_FILE].sort(), 'reading writes nothing');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
