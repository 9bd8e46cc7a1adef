/**
 * The changelog entry of a package version and the Debian copyright file
 * (src/packagers/changelog.ts), and the version an entry compares with
 * (history.ts publishedBefore).
 */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { changelogLines, debianChangelogText, debianCopyrightText, debianDocFiles, pinListSource, rpmChangelogText } from '../../src/packagers/changelog.ts';
import { publishedBefore, type HistoryEntry } from '../../src/packagers/history.ts';
import type { PackagePlan } from '../../src/packagers/packager.ts';

const entry = (pep440: string, release: string, epoch = 0, sources?: Record<string, string>): HistoryEntry => ({
  pep440,
  epoch,
  release,
  arch: 'noarch',
  inputs: 'a'.repeat(64),
  sha256: 'b'.repeat(64),
  file: `x-${pep440}-${release}.noarch.rpm`,
  ...(sources ? { sources } : {}),
});

const plan = (overrides: Partial<PackagePlan> = {}): PackagePlan => ({
  kind: 'wheel',
  name: 'rs-wheel-six',
  pep440: '1.17.0',
  release: '1',
  arch: 'noarch',
  summary: 's',
  description: 'd',
  license: 'MIT',
  requires: [],
  scriptletRequires: [],
  contents: ['/opt/rs/wheels/six'],
  ownedDirs: [],
  ghostFiles: [],
  privateLibraries: [],
  scriptlets: {},
  ...overrides,
});

describe('the version an entry compares with', () => {
  const published = [entry('1.0', '1'), entry('1.0', '2'), entry('2.0', '1'), entry('0.9', '1', 1)];

  it('is the highest published below the version, by epoch, version and release', () => {
    assert.equal(publishedBefore(published, { epoch: 0, pep440: '2.0', release: '1' })?.release, '2');
    assert.equal(publishedBefore(published, { epoch: 0, pep440: '1.0', release: '2' })?.release, '1');
    assert.equal(publishedBefore(published, { epoch: 0, pep440: '1.0', release: '1' }), undefined);
    assert.equal(publishedBefore(published, { epoch: 1, pep440: '1.0', release: '1' })?.epoch, 1, 'a rollback compares with the epoch-1 version');
  });

  it('stays the same when the version itself and later ones are published: a rebuild writes the same entry', () => {
    const version = { epoch: 0, pep440: '2.0', release: '1' };
    const before = publishedBefore(published, version);
    assert.equal(publishedBefore([...published, entry('2.0', '1'), entry('3.0', '1')], version), before);
  });
});

describe('the lines of an entry', () => {
  const pins = pinListSource([
    { name: 'Six', version: '1.17.0' },
    { name: 'click', version: '8.4.0' },
    { name: 'idna', version: '3.13' },
  ]);

  it('name what a wheel package ships, and say first build without a previous version', () => {
    assert.deepEqual(changelogLines({ ships: 'the wheel six-1.17.0-py3-none-any.whl' }, undefined), ['First build: ships the wheel six-1.17.0-py3-none-any.whl']);
    assert.deepEqual(changelogLines({ ships: 'the wheel six-1.17.0-py3-none-any.whl' }, entry('1.16', '1')), ['Ships the wheel six-1.17.0-py3-none-any.whl']);
    assert.deepEqual(changelogLines({ pinsSource: 'pins', pins }, undefined), ['First build']);
  });

  it('list the pins added, removed and moved since the previous version, by name (names compared normalised)', () => {
    assert.equal(pins, 'Six==1.17.0 click==8.4.0 idna==3.13');
    const previous = entry('1.0', '1', 0, { pins: 'six==1.16.0 idna==3.13 Flask==3.1.3' });
    assert.deepEqual(changelogLines({ pinsSource: 'pins', pins }, previous), ['Added click 8.4.0', 'Removed flask 3.1.3', 'six 1.16.0 -> 1.17.0']);
  });

  it('say so when the pins are the same, or when the previous version recorded none', () => {
    assert.deepEqual(changelogLines({ pinsSource: 'closure', pins }, entry('1.0', '1', 0, { closure: pins })), ['Rebuilt with the same pins']);
    assert.deepEqual(changelogLines({ pinsSource: 'closure', pins }, entry('1.0', '1', 0, { pins })), ['Rebuilt; the previous version records no pin list to compare with']);
  });
});

describe('the texts of an entry', () => {
  const epoch = 1764806400; // Thu, 04 Dec 2025 00:00:00 UTC

  it('RPM: a %changelog entry dated SOURCE_DATE_EPOCH, no earlier than rpm takes', () => {
    assert.equal(rpmChangelogText(['First build'], { epoch, packager: 'reqset <reqset@rs.invalid>', evr: '1:1.0-2' }), '* Thu Dec 04 2025 reqset <reqset@rs.invalid> - 1:1.0-2\n- First build');
    assert.match(rpmChangelogText(['x'], { epoch: 315532800, packager: 'p', evr: '1-1' }), /^\* Mon Jan 01 1990 p - 1-1\n/, 'rpmbuild drops entries before 1990: the default 1980-01-01 is dated 1990-01-01');
  });

  it('Debian: deb-changelog(5), long lines wrapped at words, gzip without name or time', () => {
    const p = plan({ changelog: [`First build: ships the wheel ${'x'.repeat(60)}.whl and a few more words to wrap`] });
    const text = debianChangelogText(p, { epoch, maintainer: 'reqset <reqset@rs.invalid>', version: '1.17.0-1' });
    assert.equal(
      text,
      'rs-wheel-six (1.17.0-1) unstable; urgency=medium\n\n' +
        '  * First build: ships the wheel\n' +
        `    ${'x'.repeat(60)}.whl and a few\n` +
        '    more words to wrap\n\n' +
        ' -- reqset <reqset@rs.invalid>  Thu, 04 Dec 2025 00:00:00 +0000\n',
    );
    const gz = debianDocFiles(p, { epoch, maintainer: 'm <m@x.invalid>', version: '1.17.0-1' }).files['changelog.Debian.gz'];
    assert.equal(gz.readUInt32LE(4), 0, 'no time in the gzip header');
    assert.equal(gz[3], 0, 'no file name in the gzip header');
    assert.equal(gz[8], 2, 'maximum compression (lintian: changelog-not-compressed-with-max-compression)');
    assert.equal(gunzipSync(gz).toString(), debianChangelogText(p, { epoch, maintainer: 'm <m@x.invalid>', version: '1.17.0-1' }));
  });

  it('Debian copyright: DEP-5 with the wheel license (and/or as DEP-5 writes them), its statements, and common-licenses where Debian has the text', () => {
    const p = plan({ license: 'Apache-2.0 OR BSD-2-Clause', upstream: 'packaging', url: 'https://github.com/pypa/packaging', copyright: ['Copyright (c) Donald Stufft and individual contributors.', 'Copyright 2014 X'] });
    assert.equal(
      debianCopyrightText(p),
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n' +
        'Upstream-Name: packaging\n' +
        'Source: https://github.com/pypa/packaging\n\n' +
        'Files: *\n' +
        'Copyright: Copyright (c) Donald Stufft and individual contributors.\n' +
        ' Copyright 2014 X\n' +
        'License: Apache-2.0 or BSD-2-Clause\n' +
        ' The license texts are the license files of the packaging wheel, in its\n' +
        ' .dist-info directory, which this package ships.\n' +
        ' On Debian systems, the full text of Apache-2.0 is in\n' +
        ' /usr/share/common-licenses/Apache-2.0.\n',
    );
  });

  it('Debian copyright of reqset\'s own packages, and GNU ids mapped to their common-licenses names', () => {
    assert.match(debianCopyrightText(plan({ license: 'MIT' })), /^Upstream-Name: reqset$[^]*^Copyright: the reqset authors$[^]*^License: MIT\n reqset, which wrote this package, is under the MIT license\.\n$/m);
    assert.match(debianCopyrightText(plan({ license: 'GPL-2.0-or-later AND LGPL-2.1-only', upstream: 'x' })), /common-licenses\/GPL-2\.[^]*common-licenses\/LGPL-2\.1\./);
  });
});
