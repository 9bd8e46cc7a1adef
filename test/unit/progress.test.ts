import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgress } from '../../src/progress.ts';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, columns: 80, write: (text: string) => (chunks.push(text), true) };
}

describe('progress', () => {
  it('on a terminal, shows what runs on a status line and prints a line per finished package', () => {
    const out = stream(true);
    const progress = createProgress(out);
    progress({ stage: 'wheels', item: 'tinyvec==1.0.0', state: 'start' });
    assert.match(out.chunks.join(''), /… tinyvec==1\.0\.0 0\.0s$/);
    progress({ stage: 'wheels', item: 'tinyvec==1.0.0', state: 'built', elapsedMs: 2500, detail: 'tinyvec-1.0.0-cp311-cp311-linux_x86_64.whl' });
    const text = out.chunks.join('');
    assert.ok(text.includes('\r\x1b[K'), 'the status line is cleared before the result line');
    assert.match(text, /wheels: built +2\.5s {2}tinyvec==1\.0\.0 {2}tinyvec-1\.0\.0-cp311-cp311-linux_x86_64\.whl\n$/);
  });
  it('without a terminal, prints plain lines only, no escapes and no status line', () => {
    const out = stream(false);
    const progress = createProgress(out);
    progress({ stage: 'wheels', item: 'a==1', state: 'start' });
    progress({ stage: 'wheels', item: 'a==1', state: 'failed', elapsedMs: 100 });
    assert.deepEqual(out.chunks, ['wheels: failed       0.1s  a==1\n']);
  });
  it('prints nothing with quiet', () => {
    const out = stream(true);
    const progress = createProgress(out, { quiet: true });
    progress({ stage: 'wheels', item: 'a==1', state: 'start' });
    progress({ stage: 'wheels', item: 'a==1', state: 'cached', elapsedMs: 1 });
    assert.deepEqual(out.chunks, []);
  });
});
