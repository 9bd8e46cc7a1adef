import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberState } from '../../src/wheels/reader.ts';
import { parentFileProblems } from '../../src/wheels/validate/members.ts';

describe('parentFileProblems', () => {
  const states = (...names: string[]) => names.map((name) => ({ member: { name, isDirectory: name.endsWith('/') } }) as MemberState);
  it('reports each file that is also a parent once, shortest first, at the first member under it', () => {
    assert.deepEqual(parentFileProblems(states('a', 'a/b', 'a/b/c/d', 'a/b/x', 'a/b/c')), [
      'member "a": is a file, but member "a/b" needs it to be a directory',
      'member "a/b": is a file, but member "a/b/c/d" needs it to be a directory',
      'member "a/b/c": is a file, but member "a/b/c/d" needs it to be a directory',
    ]);
  });
  it('takes empty segments and absolute names as they are', () => {
    assert.deepEqual(parentFileProblems(states('', '/x', 'p/', 'p//q')), ['member "": is a file, but member "/x" needs it to be a directory']);
    assert.deepEqual(parentFileProblems(states('p/', 'p/', 'p//q', 'p/')), []);
  });
});
