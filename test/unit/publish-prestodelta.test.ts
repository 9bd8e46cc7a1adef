import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drpmFileName, formatEvr, parsePrestodelta, prestodeltaXml, type PrestoPackage } from '../../src/publish/prestodelta.ts';
import { parsePrimary, parseRepomd } from '../../src/publish/repomd.ts';

const TEXTFMT: PrestoPackage = {
  name: 'demo-wheel-textfmt',
  epoch: '0',
  version: '1.1',
  release: '2',
  arch: 'noarch',
  deltas: [
    {
      old: { epoch: '0', version: '1.0', release: '1' },
      filename: 'drpms/demo-wheel-textfmt-1.0-1_1.1-2.noarch.drpm',
      sequence: 'demo-wheel-textfmt-1.0-1-f80d30e2418bfa55aef8b7aa63a8dab70191',
      size: 4545,
      sha256: '73e785790e0414b5e53f81feef7dc4fa299b6970cd223d57d6f368777317aaf7',
    },
  ],
};

// What createrepo_c 0.17 --deltas wrote for the same pair (checked by hand once; reqset writes it itself).
const GOLDEN = `<?xml version="1.0" encoding="UTF-8"?>
<prestodelta>
  <newpackage name="demo-wheel-textfmt" epoch="0" version="1.1" release="2" arch="noarch">
    <delta oldepoch="0" oldversion="1.0" oldrelease="1">
      <filename>drpms/demo-wheel-textfmt-1.0-1_1.1-2.noarch.drpm</filename>
      <sequence>demo-wheel-textfmt-1.0-1-f80d30e2418bfa55aef8b7aa63a8dab70191</sequence>
      <size>4545</size>
      <checksum type="sha256">73e785790e0414b5e53f81feef7dc4fa299b6970cd223d57d6f368777317aaf7</checksum>
    </delta>
  </newpackage>
</prestodelta>
`;

describe('prestodelta.xml', () => {
  it('is written in the shape createrepo_c wrote', () => {
    assert.equal(prestodeltaXml([TEXTFMT]), GOLDEN);
  });

  it('sorts packages, keeps delta order, skips packages without deltas and escapes', () => {
    const other: PrestoPackage = { ...TEXTFMT, name: 'a&b', arch: 'x86_64', deltas: [{ ...TEXTFMT.deltas[0]!, filename: 'drpms/a<b>.drpm' }] };
    const empty: PrestoPackage = { ...TEXTFMT, name: 'zzz', deltas: [] };
    const xml = prestodeltaXml([TEXTFMT, empty, other]);
    assert.ok(xml.indexOf('name="a&amp;b"') < xml.indexOf('name="demo-wheel-textfmt"'));
    assert.match(xml, /<filename>drpms\/a&lt;b&gt;\.drpm<\/filename>/);
    assert.doesNotMatch(xml, /zzz/);
    assert.deepEqual(parsePrestodelta(xml), [other, TEXTFMT]);
  });

  it('an empty list is a valid empty document', () => {
    assert.equal(prestodeltaXml([]), '<?xml version="1.0" encoding="UTF-8"?>\n<prestodelta>\n</prestodelta>\n');
    assert.deepEqual(parsePrestodelta(prestodeltaXml([])), []);
  });

  it('parses what it writes, and skips incomplete deltas', () => {
    assert.deepEqual(parsePrestodelta(GOLDEN), [TEXTFMT]);
    const broken = GOLDEN.replace(/<size>4545<\/size>/, '');
    assert.deepEqual(parsePrestodelta(broken), [{ ...TEXTFMT, deltas: [] }]);
  });

  it('names delta files as createrepo_c did, with epochs when not 0', () => {
    const v = (epoch: string, version: string, release: string) => ({ epoch, version, release });
    assert.equal(drpmFileName('foo', 'x86_64', v('0', '1.0', '1'), v('0', '1.1', '2')), 'foo-1.0-1_1.1-2.x86_64.drpm');
    assert.equal(drpmFileName('foo', 'noarch', v('0', '1.0', '1'), v('1', '0.5', '1')), 'foo-1.0-1_1:0.5-1.noarch.drpm');
    assert.equal(formatEvr(v('', '2', '3')), '2-3');
  });

  it('names the deltas the repository history makes: a rebuild at the next release, a rollback at the next epoch', () => {
    const v = (epoch: string, version: string, release: string) => ({ epoch, version, release });
    assert.equal(drpmFileName('r-wheel-lib', 'noarch', v('0', '1.1', '1'), v('0', '1.1', '2')), 'r-wheel-lib-1.1-1_1.1-2.noarch.drpm', 'same version, inputs changed');
    assert.equal(drpmFileName('r-wheel-lib', 'noarch', v('0', '2.0', '1'), v('1', '1.0', '1')), 'r-wheel-lib-2.0-1_1:1.0-1.noarch.drpm', 'a rollback to 1.0 after 2.0');
    assert.equal(drpmFileName('r-wheel-lib', 'noarch', v('1', '1.0', '1'), v('1', '1.0', '2')), 'r-wheel-lib-1:1.0-1_1:1.0-2.noarch.drpm');
    assert.equal(formatEvr(v('1', '1.0', '2')), '1:1.0-2');
  });
});

describe('repodata parsers', () => {
  const REPOMD = `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1795409798</revision>
  <data type="primary">
    <checksum type="sha256">79a3</checksum>
    <open-checksum type="sha256">8592</open-checksum>
    <location href="repodata/79a3-primary.xml.gz"/>
    <timestamp>1795409798</timestamp>
    <size>805</size>
    <open-size>1899</open-size>
  </data>
  <data type="prestodelta">
    <checksum type="sha256">c0fc</checksum>
    <location href="repodata/c0fc-prestodelta.xml.gz"/>
    <size>326</size>
  </data>
</repomd>`;

  it('reads the data records of repomd.xml', () => {
    assert.deepEqual(parseRepomd(REPOMD), [
      { type: 'primary', href: 'repodata/79a3-primary.xml.gz', checksum: { type: 'sha256', value: '79a3' }, openChecksum: { type: 'sha256', value: '8592' }, size: 805, openSize: 1899 },
      { type: 'prestodelta', href: 'repodata/c0fc-prestodelta.xml.gz', checksum: { type: 'sha256', value: 'c0fc' }, size: 326 },
    ]);
  });

  it('reads name, EVR, arch, checksum, location, file time and size from primary.xml', () => {
    const primary = `<metadata xmlns="http://linux.duke.edu/metadata/common" packages="1">
<package type="rpm">
  <name>demo-wheel-textfmt</name>
  <arch>noarch</arch>
  <version epoch="0" ver="1.1" rel="2"/>
  <checksum type="sha256" pkgid="YES">abc123</checksum>
  <summary>x &amp; y</summary>
  <time file="1795409798" build="315532800"/>
  <size package="10149" installed="6000" archive="6404"/>
  <location href="Packages/demo-wheel-textfmt-1.1-2.noarch.rpm"/>
  <format><rpm:provides><rpm:entry name="demo-wheel-textfmt" flags="EQ" epoch="0" ver="1.1" rel="2"/></rpm:provides></format>
</package>
</metadata>`;
    assert.deepEqual(parsePrimary(primary), [
      { name: 'demo-wheel-textfmt', arch: 'noarch', epoch: '0', version: '1.1', release: '2', sha256: 'abc123', href: 'Packages/demo-wheel-textfmt-1.1-2.noarch.rpm', fileTime: 1795409798, size: 10149 },
    ]);
  });
});
