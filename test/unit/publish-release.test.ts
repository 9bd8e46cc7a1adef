import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debFileName, debianArch, field, formatStanza, packageStanza, parseStanzas, poolDir, releaseDate, releaseFile, releaseHashes } from '../../src/publish/release.ts';

const SHA = (c: string) => c.repeat(64);
const MD5 = (c: string) => c.repeat(32);

describe('apt Release file', () => {
  const release = releaseFile({
    origin: 'reqset',
    label: 'reqset',
    suite: 'bookworm',
    codename: 'bookworm',
    date: new Date(Date.UTC(2026, 10, 23, 4, 58, 21)),
    architectures: ['arm64', 'amd64'],
    components: ['main'],
    files: [
      { path: 'main/binary-amd64/Packages.gz', size: 2080, md5: MD5('b'), sha256: SHA('b') },
      { path: 'main/binary-amd64/Packages', size: 11217, md5: MD5('a'), sha256: SHA('a') },
    ],
  });

  it('has the fields apt needs, by-hash on, every index in MD5Sum and SHA256 (golden)', () => {
    assert.equal(
      release,
      [
        'Origin: reqset',
        'Label: reqset',
        'Suite: bookworm',
        'Codename: bookworm',
        'Date: Mon, 23 Nov 2026 04:58:21 UTC',
        'Architectures: amd64 arm64',
        'Components: main',
        'Acquire-By-Hash: yes',
        'MD5Sum:',
        ` ${MD5('a')} 11217 main/binary-amd64/Packages`,
        ` ${MD5('b')}  2080 main/binary-amd64/Packages.gz`,
        'SHA256:',
        ` ${SHA('a')} 11217 main/binary-amd64/Packages`,
        ` ${SHA('b')}  2080 main/binary-amd64/Packages.gz`,
        '',
      ].join('\n'),
    );
  });

  it('reads back the SHA256 section (to keep the previous by-hash files)', () => {
    assert.deepEqual(
      [...releaseHashes(release)],
      [
        ['main/binary-amd64/Packages', { sha256: SHA('a'), size: 11217 }],
        ['main/binary-amd64/Packages.gz', { sha256: SHA('b'), size: 2080 }],
      ],
    );
    // Also inside a clearsigned InRelease.
    const signed = `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${release}-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n`;
    assert.equal(releaseHashes(signed).size, 2);
  });

  it('dates are RFC 2822 in UTC with two-digit days', () => {
    assert.equal(releaseDate(new Date(Date.UTC(2024, 0, 5, 9, 7, 3))), 'Fri, 05 Jan 2024 09:07:03 UTC');
  });
});

describe('Packages stanzas', () => {
  const control = [
    'Package: demo-wheel-tinyvec',
    'Version: 1.0-1',
    'Architecture: amd64',
    'Maintainer: reqset <reqset@demo.invalid>',
    'Depends: demo-runtime, python3 (>= 3.11)',
    'Description: tinyvec 1.0.0 wheel',
    ' The wheel, unpacked.',
    ' .',
    ' Second paragraph.',
    '',
  ].join('\n');

  it('adds Filename, Size and hashes before Description, keeping continuation lines', () => {
    const stanza = packageStanza(control, { filename: 'pool/main/d/demo-wheel-tinyvec/demo-wheel-tinyvec_1.0-1_amd64.deb', size: 14196, md5: MD5('c'), sha256: SHA('d') });
    assert.equal(
      formatStanza(stanza),
      [
        'Package: demo-wheel-tinyvec',
        'Version: 1.0-1',
        'Architecture: amd64',
        'Maintainer: reqset <reqset@demo.invalid>',
        'Depends: demo-runtime, python3 (>= 3.11)',
        'Filename: pool/main/d/demo-wheel-tinyvec/demo-wheel-tinyvec_1.0-1_amd64.deb',
        'Size: 14196',
        `MD5sum: ${MD5('c')}`,
        `SHA256: ${SHA('d')}`,
        'Description: tinyvec 1.0.0 wheel',
        ' The wheel, unpacked.',
        ' .',
        ' Second paragraph.',
        '',
      ].join('\n'),
    );
    const [again] = parseStanzas(`${formatStanza(stanza)}\n${formatStanza(stanza)}`);
    assert.deepEqual(again, stanza);
    assert.equal(field(stanza, 'size'), '14196');
  });

  it('pool paths and file names follow Debian conventions', () => {
    assert.equal(poolDir('main', 'demo-runtime'), 'pool/main/d/demo-runtime');
    assert.equal(poolDir('main', 'libfoo'), 'pool/main/libf/libfoo');
    assert.equal(debFileName('demo-wheel-x', '1:2.0-1', 'all'), 'demo-wheel-x_2.0-1_all.deb');
    assert.equal(debianArch('x86_64'), 'amd64');
    assert.equal(debianArch('aarch64'), 'arm64');
  });
});
