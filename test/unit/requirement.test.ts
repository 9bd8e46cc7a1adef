import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidName, normalizeName } from '../../src/python/names.ts';
import { exactPin, parseRequirement } from '../../src/python/requirement.ts';

describe('PEP 503 names', () => {
  for (const [raw, normal] of [
    ['Flask', 'flask'],
    ['charset_normalizer', 'charset-normalizer'],
    ['zope.interface', 'zope-interface'],
    ['Foo__Bar--baz..qux', 'foo-bar-baz-qux'],
    ['an_example_pypi_project', 'an-example-pypi-project'],
  ]) {
    it(`${raw} -> ${normal}`, () => assert.equal(normalizeName(raw as string), normal));
  }
  it('validates names', () => {
    assert.ok(isValidName('a'));
    assert.ok(isValidName('A.b-c_d9'));
    assert.ok(!isValidName('-a'));
    assert.ok(!isValidName('a-'));
    assert.ok(!isValidName('a b'));
  });
});

describe('PEP 508 requirements', () => {
  it('parses name, extras, specifier and marker', () => {
    const r = parseRequirement('Requests[Socks, security] (>=2.0, <3) ; python_version < "3.12"');
    assert.equal(r.name, 'Requests');
    assert.equal(r.key, 'requests');
    assert.deepEqual(r.extras, ['socks', 'security']);
    assert.equal(r.specifier, '>=2.0,<3');
    assert.equal(r.markerText, 'python_version < "3.12"');
    assert.ok(r.marker);
  });
  it('parses a bare name', () => {
    const r = parseRequirement('six');
    assert.equal(r.specifier, '');
    assert.deepEqual(r.extras, []);
    assert.equal(r.marker, undefined);
  });
  it('parses an exact pin', () => assert.equal(parseRequirement('numpy==2.4.6').specifier, '==2.4.6'));
  it('parses a URL requirement', () => assert.equal(parseRequirement('pkg @ https://example.org/pkg.whl').url, 'https://example.org/pkg.whl'));
  it('keeps a semicolon inside a quoted marker string', () => {
    assert.equal(parseRequirement('a==1; platform_version == "x;y"').markerText, 'platform_version == "x;y"');
  });
  for (const bad of ['', '==1.0', 'foo==', 'foo>=>1', 'foo[bar', 'foo; python_version <', 'foo==1.0 bar']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseRequirement(bad)));
  }
});

describe('exact pins', () => {
  for (const [spec, version] of [
    ['==1.0', '1.0'],
    ['==1.0.post1', '1.0.post1'],
    ['==2!1.0', '2!1.0'],
    ['==1.0+local.1', '1.0+local.1'],
    ['===1.0-weird', '1.0-weird'],
    ['>=1.0', undefined],
    ['==1.*', undefined],
    ['==1.0,<2', undefined],
    ['', undefined],
    ['~=1.0', undefined],
  ] as const) {
    it(`${JSON.stringify(spec)} -> ${version}`, () => assert.equal(exactPin(spec), version));
  }
});
