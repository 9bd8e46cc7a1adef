import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { parseWheelFilename, wheelFilenameOrThrow } from '../../src/python/tags.ts';

/** Assert that wheelFilenameOrThrow throws an InputError one of whose problems matches `pattern`, and that parseWheelFilename agrees. */
function rejects(filename: string, pattern: RegExp): void {
  assert.equal(parseWheelFilename(filename), undefined, filename);
  assert.throws(
    () => wheelFilenameOrThrow(filename),
    (error: unknown) => {
      assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
      assert.match(error.message, /is not a valid wheel file name/);
      assert.ok(
        error.problems.some((p) => pattern.test(p)),
        `no problem matches ${pattern}: ${JSON.stringify(error.problems)}`,
      );
      return true;
    },
  );
}

/** Both variants parse `filename`, to the same result. */
function parses(filename: string) {
  const parsed = parseWheelFilename(filename);
  assert.ok(parsed, filename);
  assert.deepEqual(wheelFilenameOrThrow(filename), parsed);
  return parsed;
}

describe('wheel file names (the binary distribution format spec)', () => {
  it("parses the spec's example", () => {
    assert.deepEqual(parses('distribution-1.0-1-py27-none-any.whl'), {
      filename: 'distribution-1.0-1-py27-none-any.whl',
      distribution: 'distribution',
      key: 'distribution',
      version: '1.0',
      build: '1',
      pythonTags: ['py27'],
      abiTags: ['none'],
      platformTags: ['any'],
      tags: ['py27-none-any'],
    });
  });
  it('parses a simple pure wheel, without a build tag', () => {
    const w = parses('requests-2.34.2-py3-none-any.whl');
    assert.equal(w.distribution, 'requests');
    assert.equal(w.version, '2.34.2');
    assert.equal(w.build, undefined);
    assert.ok(!('build' in w));
    assert.deepEqual(w.tags, ['py3-none-any']);
  });
  it('expands compressed tag sets', () => {
    const w = parses('six-1.17.0-py2.py3-none-any.whl');
    assert.deepEqual(w.pythonTags, ['py2', 'py3']);
    assert.deepEqual(w.tags, ['py2-none-any', 'py3-none-any']);
    const m = parses('MarkupSafe-3.0.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl');
    assert.deepEqual(m.tags, ['cp311-cp311-manylinux_2_17_x86_64', 'cp311-cp311-manylinux2014_x86_64']);
  });
  it('normalizes the key per PEP 503 and keeps the distribution as written', () => {
    const w = parses('Foo.Bar__baz-1.0-py3-none-any.whl');
    assert.equal(w.distribution, 'Foo.Bar__baz');
    assert.equal(w.key, 'foo-bar-baz');
    assert.equal(parses('charset_normalizer-3.4.0-py3-none-any.whl').key, 'charset-normalizer');
  });
  it('parses build tags that start with a digit', () => {
    const w = parses('pkg-1.0-1b-py3-none-any.whl');
    assert.equal(w.build, '1b');
    assert.equal(w.version, '1.0');
    assert.equal(parses('foo-1.0-2-py3-none-any.whl').build, '2');
  });
  it('accepts PEP 440 versions: local versions, epochs, pre/post/dev releases', () => {
    assert.equal(parses('pkg-1!2.0+local.1-py3-none-any.whl').version, '1!2.0+local.1');
    assert.equal(parses('pkg-1.0rc1.post2.dev3-py3-none-any.whl').version, '1.0rc1.post2.dev3');
    assert.equal(parses('cryptography-41.0.3-cp37-abi3-manylinux_2_28_x86_64.whl').abiTags[0], 'abi3');
  });
  it('rejects a build tag that does not start with a digit', () => rejects('pkg-1.0-b1-py3-none-any.whl', /build tag/));
  it('rejects the wrong number of parts', () => {
    rejects('pkg-1.0-py3-none.whl', /4 dash-separated parts/);
    rejects('a-b-1.0-1-py3-none-any.whl', /7 dash-separated parts/);
    rejects('foo-1.0.whl', /2 dash-separated parts/);
  });
  it('rejects other extensions', () => {
    rejects('pkg-1.0.tar.gz', /\.whl/);
    rejects('foo-1.0-py3-none-any.zip', /\.whl/);
  });
  it('rejects paths: a file name has no path separators', () => {
    rejects('../pkg-1.0-py3-none-any.whl', /path separator/);
    rejects('dir/pkg-1.0-py3-none-any.whl', /path separator/);
    rejects('..\\pkg-1.0-py3-none-any.whl', /path separator/);
  });
  it('rejects a version that is not PEP 440', () => {
    rejects('pkg-latest-py3-none-any.whl', /version.*PEP 440/);
    rejects('foo-notaversion-py3-none-any.whl', /version/);
  });
  it('rejects empty parts and bad names and tags', () => {
    rejects('pkg--py3-none-any.whl', /version/);
    rejects('-1.0-py3-none-any.whl', /distribution/);
    rejects('pkg_-1.0-py3-none-any.whl', /distribution/);
    rejects('pkg-1.0-py3-none-.whl', /platform tag/);
    rejects('pkg-1.0-py3..py2-none-any.whl', /python tag/);
    rejects('pkg-1.0-py3-no ne-any.whl', /abi tag/);
  });
  it('the two former parsers now agree (one was lenient about versions, the other about paths)', () => {
    // The wheel reader accepted a non-PEP 440 version; the locator a path (key "-/pkg").
    for (const filename of ['pkg-latest-py3-none-any.whl', '../pkg-1.0-py3-none-any.whl']) {
      assert.equal(parseWheelFilename(filename), undefined, filename);
      assert.throws(() => wheelFilenameOrThrow(filename), InputError, filename);
    }
  });
});
