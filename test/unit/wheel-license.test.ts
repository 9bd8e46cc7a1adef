/**
 * The license and home page read from METADATA: the header blocks below are
 * copied from wheels of ../shared/corpus/wheels (and two made-up edge cases).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyrightNotices, homePageOf, licenseFileMembers, licenseOf, licenseRef, parseCoreMetadata } from '../../src/wheels/metadata.ts';

const head = (fields: string) => `Metadata-Version: 2.4\nName: x\nVersion: 1.0\n${fields}\n\nbody\n`;

describe('the license of a wheel', () => {
  it('is License-Expression as written (Flask 3.1.3, numpy 2.4.6, packaging 26.2)', () => {
    assert.equal(parseCoreMetadata(head('License-Expression: BSD-3-Clause\nLicense-File: LICENSE.txt')).license, 'BSD-3-Clause');
    assert.equal(parseCoreMetadata(head('License-Expression: BSD-3-Clause AND 0BSD AND MIT AND Zlib AND CC0-1.0')).license, 'BSD-3-Clause AND 0BSD AND MIT AND Zlib AND CC0-1.0');
    assert.equal(parseCoreMetadata(head('License-Expression: Apache-2.0 OR BSD-2-Clause')).license, 'Apache-2.0 OR BSD-2-Clause');
  });

  it('else the classifiers mapped to SPDX ids (PyYAML 6.0.3 also says License: MIT; certifi License: MPL-2.0)', () => {
    assert.equal(parseCoreMetadata(head('License: MIT\nClassifier: License :: OSI Approved :: MIT License')).license, 'MIT');
    assert.equal(parseCoreMetadata(head('License: MPL-2.0\nClassifier: License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)')).license, 'MPL-2.0');
  });

  it('keeps an ambiguous or unknown classifier as a LicenseRef of its text (Jinja2 3.1.6: "BSD License")', () => {
    assert.equal(parseCoreMetadata(head('Classifier: Programming Language :: Python\nClassifier: License :: OSI Approved :: BSD License')).license, 'LicenseRef-BSD-License');
    assert.equal(licenseOf(undefined, ['License :: Other/Proprietary License'], undefined), 'LicenseRef-Other-Proprietary-License');
  });

  it('joins several classifiers with OR, and leaves out the ones naming no license', () => {
    const both = ['License :: OSI Approved :: MIT License', 'License :: OSI Approved :: Apache Software License', 'License :: OSI Approved'];
    assert.equal(licenseOf(undefined, both, undefined), 'Apache-2.0 OR MIT');
    assert.equal(licenseOf(undefined, ['License :: OSI Approved'], undefined), undefined);
  });

  it('else the License field when it is one short name (charset_normalizer 3.4.7: License: MIT), not a license text', () => {
    assert.equal(parseCoreMetadata(head('License: MIT\nLicense-File: LICENSE')).license, 'MIT');
    assert.equal(licenseOf(undefined, [], 'Copyright (c) 2020 Someone Permission is hereby granted, free of charge'), undefined);
    assert.equal(licenseOf(undefined, [], 'UNKNOWN'), undefined);
  });

  it('is undefined when nothing declares one; a LicenseRef is made of the characters SPDX allows', () => {
    assert.equal(parseCoreMetadata(head('Summary: s')).license, undefined);
    assert.equal(licenseRef('GNU GPL (v2), or "later"'), 'LicenseRef-GNU-GPL-v2-or-later');
    assert.equal(licenseRef('()'), 'LicenseRef-unknown');
  });

  it('ignores a License-Expression that is not one line of SPDX characters; of a repeated one, the first counts', () => {
    assert.equal(licenseOf('MIT; see LICENSE', ['License :: OSI Approved :: MIT License'], undefined), 'MIT');
    assert.equal(parseCoreMetadata(head('License-Expression: MIT\nLicense-Expression: BSD-3-Clause')).license, 'MIT');
  });
});

describe('the home page of a wheel', () => {
  it('is Home-page (PyYAML 6.0.3)', () => {
    const text = head('Home-page: https://pyyaml.org/\nProject-URL: Source Code, https://github.com/yaml/pyyaml');
    assert.equal(parseCoreMetadata(text).homePage, 'https://pyyaml.org/');
  });

  it('else Project-URL Homepage, Source, Repository in that order, labels compared as PEP 753 normalises them (numpy 2.4.6, Flask 3.1.3)', () => {
    assert.equal(homePageOf(undefined, ['documentation, https://numpy.org/doc/', 'source, https://github.com/numpy/numpy', 'homepage, https://numpy.org']), 'https://numpy.org');
    assert.equal(homePageOf(undefined, ['Changes, https://flask.palletsprojects.com/page/changes/', 'Source, https://github.com/pallets/flask/']), 'https://github.com/pallets/flask/');
    assert.equal(homePageOf(undefined, ['Repository, https://example.org/r', 'Home-Page, https://example.org/h']), 'https://example.org/h');
  });

  it('is undefined without such a label (charset_normalizer: Code, Documentation) or without an http(s) URL', () => {
    assert.equal(homePageOf(undefined, ['Code, https://github.com/jawah/charset_normalizer', 'Documentation, https://charset-normalizer.readthedocs.io/']), undefined);
    assert.equal(homePageOf('UNKNOWN', ['Source, git@github.com:x/y']), undefined);
  });
});

describe('the copyright statements of a wheel', () => {
  it('come from its license files: .dist-info/licenses/ (PEP 639) and the license-named .dist-info files before it', () => {
    const members = [
      'six.py',
      'six-1.17.0.dist-info/METADATA',
      'six-1.17.0.dist-info/LICENSE',
      // Directory entries, as charset_normalizer 3.5.3's wheel from PyPI lists one.
      'six-1.17.0.dist-info/licenses/',
      'six-1.17.0.dist-info/licenses/numpy/random/',
      'six-1.17.0.dist-info/licenses/numpy/random/LICENSE.md',
      'six-1.17.0.dist-info/licenses/COPYING',
      'six-1.17.0.dist-info/RECORD',
      'LICENSE',
    ];
    assert.deepEqual(licenseFileMembers(members), ['six-1.17.0.dist-info/LICENSE', 'six-1.17.0.dist-info/licenses/COPYING', 'six-1.17.0.dist-info/licenses/numpy/random/LICENSE.md']);
  });

  it('are the lines stating one, with a year or a name, once each; not the license terms nor a template (six 1.17.0, setuptools 65.5.0, click 8.4.0, numpy 2.4.6)', () => {
    const six = 'Copyright (c) 2010-2024 Benjamin Peterson\n\nPermission is hereby granted...\nThe above copyright notice and this permission notice shall be included in all\n';
    const setuptools = 'Copyright Jason R. Coombs\n\nTHE SOFTWARE IS PROVIDED "AS IS"... COPYRIGHT\nCOPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM\n';
    const click = 'Copyright 2014 Pallets\n\nRedistribution and use in source and binary forms...\n3.  Neither the name of the copyright holder nor the names of its\n';
    const gpl = '    Copyright (C) <year>  <name of author>\n   Copyright [yyyy] [name of copyright owner]\n  Copyright (C) 2010 - 2019 ridiculous_fish, <libdivide@ridiculousfish.com>\n \u00a9 2020 Someone\n';
    assert.deepEqual(copyrightNotices([six, setuptools, click, gpl, six]), [
      'Copyright (c) 2010-2024 Benjamin Peterson',
      'Copyright Jason R. Coombs',
      'Copyright 2014 Pallets',
      'Copyright (C) 2010 - 2019 ridiculous_fish, <libdivide@ridiculousfish.com>',
      '\u00a9 2020 Someone',
    ]);
  });
});
