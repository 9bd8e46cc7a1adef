import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpythonAbi, incompatibility, isPureWheel, parseWheelFilename, tagPreference, type TagTarget } from '../../src/python/tags.ts';

const el8: TagTarget = { pythonVersion: '3.6', glibc: '2.28', arch: 'x86_64' };
const el9: TagTarget = { pythonVersion: '3.9', glibc: '2.34', arch: 'x86_64' };
const el9py311: TagTarget = { pythonVersion: '3.11', glibc: '2.34', arch: 'x86_64' };
const debian12: TagTarget = { pythonVersion: '3.11', glibc: '2.36', arch: 'x86_64' };

const wheel = (filename: string) => {
  const parsed = parseWheelFilename(filename);
  assert.ok(parsed, filename);
  return parsed;
};

describe('wheel filenames', () => {
  it('parses compressed tag sets', () => {
    const w = wheel('MarkupSafe-3.0.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.manylinux_2_28_x86_64.whl');
    assert.equal(w.key, 'markupsafe');
    assert.equal(w.version, '3.0.3');
    assert.deepEqual(w.platformTags, ['manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux_2_28_x86_64']);
  });
  it('parses a build tag', () => assert.equal(wheel('foo-1.0-2-py3-none-any.whl').build, '2'));
  it('parses multi-python tags', () => assert.deepEqual(wheel('six-1.17.0-py2.py3-none-any.whl').pythonTags, ['py2', 'py3']));
  for (const bad of ['foo-1.0.whl', 'foo-1.0-py3-none.whl', 'foo-notaversion-py3-none-any.whl', 'foo-1.0-py3-none-any.zip']) {
    it(`rejects ${bad}`, () => assert.equal(parseWheelFilename(bad), undefined));
  }
  it('knows pure wheels', () => {
    assert.ok(isPureWheel(wheel('a-1-py3-none-any.whl')));
    assert.ok(!isPureWheel(wheel('a-1-cp311-cp311-linux_x86_64.whl')));
  });
  it('CPython 3.6 and 3.7 ABI tags carry the m flag', () => {
    assert.equal(cpythonAbi('3.6'), 'cp36m');
    assert.equal(cpythonAbi('3.7'), 'cp37m');
    assert.equal(cpythonAbi('3.8'), 'cp38');
    assert.equal(cpythonAbi('3.11'), 'cp311');
  });
});

describe('compatibility with a target', () => {
  const fits: [string, TagTarget][] = [
    ['a-1-py3-none-any.whl', el8],
    ['a-1-py2.py3-none-any.whl', el9],
    ['a-1-py36-none-any.whl', el9],
    ['a-1-cp39-cp39-manylinux_2_17_x86_64.whl', el9],
    ['a-1-cp39-cp39-manylinux2014_x86_64.whl', el9],
    ['a-1-cp39-cp39-manylinux1_x86_64.whl', el9],
    ['a-1-cp36-cp36m-manylinux_2_28_x86_64.whl', el8],
    ['a-1-cp37-abi3-manylinux_2_17_x86_64.whl', el9py311],
    ['a-1-cp311-cp311-manylinux_2_34_x86_64.whl', el9py311],
    ['a-1-cp311-cp311-linux_x86_64.whl', debian12],
    ['a-1-cp311-cp311-manylinux_2_36_x86_64.whl', debian12],
  ];
  for (const [filename, target] of fits) {
    it(`${filename} fits python ${target.pythonVersion} glibc ${target.glibc}`, () => assert.equal(incompatibility(wheel(filename), target), undefined));
  }
  const misfits: [string, TagTarget, RegExp][] = [
    ['numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl', el9, /built for cp311-cp311; the target has CPython 3\.9/],
    ['a-1-cp311-cp311-manylinux_2_34_x86_64.whl', { ...el8, pythonVersion: '3.11' }, /manylinux_2_34_x86_64 needs glibc 2\.34, the target has glibc 2\.28/],
    ['a-1-cp311-cp311-manylinux_2_39_x86_64.whl', debian12, /needs glibc 2\.39, the target has glibc 2\.36/],
    ['a-1-cp311-cp311-manylinux_2_17_aarch64.whl', debian12, /is for aarch64, not x86_64/],
    ['a-1-cp311-cp311-musllinux_1_1_x86_64.whl', debian12, /needs musl libc/],
    ['a-1-cp311-cp311-win_amd64.whl', debian12, /is not a Linux platform/],
    ['a-1-cp312-abi3-manylinux_2_17_x86_64.whl', debian12, /built for cp312-abi3/],
    ['a-1-py312-none-any.whl', debian12, /built for py312-none/],
    ['a-1-py2-none-any.whl', debian12, /built for py2-none/],
    ['a-1-cp36-cp36-manylinux1_x86_64.whl', el8, /built for cp36-cp36/],
  ];
  for (const [filename, target, why] of misfits) {
    it(`${filename} does not fit python ${target.pythonVersion} glibc ${target.glibc}`, () => assert.match(incompatibility(wheel(filename), target) ?? '', why));
  }
  it('prefers a compiled wheel to a pure one, and any compatible one to an incompatible one', () => {
    const ranked = ['a-1-py3-none-any.whl', 'a-1-cp311-cp311-manylinux_2_17_x86_64.whl', 'a-1-cp312-cp312-manylinux_2_17_x86_64.whl']
      .map(wheel)
      .sort((x, y) => tagPreference(x, debian12) - tagPreference(y, debian12))
      .map((w) => w.filename);
    assert.deepEqual(ranked, ['a-1-cp311-cp311-manylinux_2_17_x86_64.whl', 'a-1-py3-none-any.whl', 'a-1-cp312-cp312-manylinux_2_17_x86_64.whl']);
  });
});
