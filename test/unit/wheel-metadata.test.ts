import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import {
  decodeRecordHash,
  normalizeName,
  normalizeVersionText,
  parseCoreMetadata,
  parseCsv,
  parseEntryPoints,
  parseHeaders,
  parseRecord,
  parseWheelFile,
} from '../../src/wheels/metadata.ts';
import { resolveMtime } from '../../src/wheels/extract.ts';
import { FAKE_ROOT, isInsideRoot, memberNameProblems } from '../../src/wheels/validate/members.ts';
import { formatZipInfo, type ZipInfo } from '../../src/wheels/zipinfo.ts';
import { crc32, decodeDosTime, dosDate, dosTime } from '../../src/wheels/zip.ts';

/** Assert that fn throws an InputError one of whose problems matches `pattern`. */
function throwsProblem(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.ok(
      error.problems.some((p) => pattern.test(p)),
      `no problem matches ${pattern}: ${JSON.stringify(error.problems)}`,
    );
    return true;
  });
}

const META = ['Metadata-Version: 2.1', 'Name: demo-pkg', 'Version: 1.2.3'];

describe('names', () => {
  it('normalizes names per PEP 503', () => {
    assert.equal(normalizeName('Foo.Bar__baz-_-qux'), 'foo-bar-baz-qux');
    assert.equal(normalizeName('charset_normalizer'), normalizeName('Charset-Normalizer'));
  });
  it('folds versions for comparison', () => {
    assert.equal(normalizeVersionText('1.0_RC1'), normalizeVersionText('1.0-rc1'));
    assert.notEqual(normalizeVersionText('1.0'), normalizeVersionText('1.1'));
  });
});

describe('parseHeaders', () => {
  it('unfolds continuation lines and stops at the blank line', () => {
    const h = parseHeaders('A: one\nB: two\n  more\n\tand more\n\nC: body\n');
    assert.deepEqual(
      h.map((f) => [f.name, f.value]),
      [
        ['A', 'one'],
        ['B', 'two more and more'],
      ],
    );
  });
  it('handles CRLF line endings', () => {
    assert.deepEqual(
      parseHeaders('A: 1\r\nB: 2\r\n\r\nbody').map((f) => f.value),
      ['1', '2'],
    );
  });
  it('ends the header block at a line that is not a header, like Python', () => {
    assert.deepEqual(
      parseHeaders('A: 1\nnot a header\nB: 2\n').map((f) => f.name),
      ['A'],
    );
  });
  it('keeps colons in values', () => {
    assert.equal(parseHeaders('Project-URL: Home, https://x.org:8080/a\n')[0]?.value, 'Home, https://x.org:8080/a');
  });
});

describe('parseCoreMetadata', () => {
  it('parses the required and optional fields', () => {
    const m = parseCoreMetadata(
      [...META, 'Summary: A demo', 'Requires-Python: >=3.9', 'Requires-Dist: idna (>=2.5)', 'Requires-Dist: pysocks; extra == "socks"', 'Provides-Extra: socks', '', 'Body'].join('\n'),
    );
    assert.deepEqual(m, {
      metadataVersion: '2.1',
      name: 'demo-pkg',
      version: '1.2.3',
      summary: 'A demo',
      requiresPython: '>=3.9',
      requiresDist: ['idna (>=2.5)', 'pysocks; extra == "socks"'],
      providesExtra: ['socks'],
    });
  });
  it('leaves optional fields out when absent', () => {
    const m = parseCoreMetadata(META.join('\n'));
    assert.equal('summary' in m, false);
    assert.equal('requiresPython' in m, false);
    assert.deepEqual(m.requiresDist, []);
    assert.deepEqual(m.providesExtra, []);
  });
  it('is case-insensitive about field names', () => {
    const m = parseCoreMetadata('metadata-version: 2.1\nNAME: x\nversion: 1\nrequires-dist: y\n');
    assert.equal(m.name, 'x');
    assert.deepEqual(m.requiresDist, ['y']);
  });
  it('ignores Requires-Dist lines in the body', () => {
    const m = parseCoreMetadata([...META, '', 'Requires-Dist: not-a-header'].join('\n'));
    assert.deepEqual(m.requiresDist, []);
  });
  it('unfolds a multi-line Summary', () => {
    assert.equal(parseCoreMetadata([...META, 'Summary: first', '    second'].join('\n')).summary, 'first second');
  });
  it('reports every missing required field at once', () => {
    assert.throws(
      () => parseCoreMetadata('Summary: nothing else\n'),
      (e: unknown) => e instanceof InputError && e.problems.length === 3,
    );
  });
  it('rejects a duplicate Name', () => {
    throwsProblem(() => parseCoreMetadata([...META, 'Name: other'].join('\n')), /Name appears 2 times/);
  });
  it('rejects an invalid name', () => {
    throwsProblem(() => parseCoreMetadata('Metadata-Version: 2.1\nName: -bad-\nVersion: 1\n'), /not a valid distribution name/);
  });
  it('rejects a malformed Metadata-Version', () => {
    throwsProblem(() => parseCoreMetadata('Metadata-Version: two\nName: x\nVersion: 1\n'), /MAJOR\.MINOR/);
  });
  it('rejects an empty Requires-Dist', () => {
    throwsProblem(() => parseCoreMetadata([...META, 'Requires-Dist:'].join('\n')), /Requires-Dist #1 is empty/);
  });
});

describe('parseWheelFile', () => {
  const WHEEL = 'Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n\n';
  it('parses the fields', () => {
    assert.deepEqual(parseWheelFile(WHEEL), {
      wheelVersion: '1.0',
      rootIsPurelib: true,
      tags: ['py2-none-any', 'py3-none-any'],
      generator: 'bdist_wheel (0.43.0)',
    });
  });
  it('parses Root-Is-Purelib false and a Build', () => {
    const w = parseWheelFile('Wheel-Version: 1.0\nRoot-Is-Purelib: False\nTag: cp311-cp311-linux_x86_64\nBuild: 2\n');
    assert.equal(w.rootIsPurelib, false);
    assert.equal(w.build, '2');
  });
  it('rejects a newer major Wheel-Version', () => {
    throwsProblem(() => parseWheelFile('Wheel-Version: 2.0\nRoot-Is-Purelib: true\n'), /not supported/);
  });
  it('accepts a newer minor Wheel-Version', () => {
    assert.equal(parseWheelFile('Wheel-Version: 1.9\nRoot-Is-Purelib: true\n').wheelVersion, '1.9');
  });
  it('requires Wheel-Version and Root-Is-Purelib', () => {
    throwsProblem(() => parseWheelFile('Tag: py3-none-any\n'), /Wheel-Version is missing/);
    throwsProblem(() => parseWheelFile('Wheel-Version: 1.0\n'), /Root-Is-Purelib is missing/);
  });
  it('rejects a bad Root-Is-Purelib', () => {
    throwsProblem(() => parseWheelFile('Wheel-Version: 1.0\nRoot-Is-Purelib: yes\n'), /true or false/);
  });
  it('rejects a malformed tag', () => {
    throwsProblem(() => parseWheelFile('Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3\n'), /python-abi-platform/);
  });
});

describe('parseEntryPoints', () => {
  it('parses groups, keeps key case and strips whitespace', () => {
    const ep = parseEntryPoints('[console_scripts]\nFlask = flask.cli:main\n\n[gui_scripts]\ngui=app:run [extra]\n[flask.commands]\nroutes = flask.cli:routes_command\n');
    assert.deepEqual(ep, {
      console_scripts: { Flask: 'flask.cli:main' },
      gui_scripts: { gui: 'app:run [extra]' },
      'flask.commands': { routes: 'flask.cli:routes_command' },
    });
  });
  it('always has console_scripts and gui_scripts', () => {
    assert.deepEqual(parseEntryPoints(''), { console_scripts: {}, gui_scripts: {} });
  });
  it('skips comments', () => {
    assert.deepEqual(parseEntryPoints('# c\n; c\n[console_scripts]\n# x = y\na = b:c\n').console_scripts, { a: 'b:c' });
  });
  it('splits on the first "="', () => {
    assert.equal(parseEntryPoints('[g]\nk = m:f [a=b]\n').g?.k, 'm:f [a=b]');
  });
  it('keeps a __proto__ group as data, not as the prototype', () => {
    const ep = parseEntryPoints('[__proto__]\npolluted = x:y\n');
    assert.equal(Object.getPrototypeOf(ep), Object.prototype);
    assert.deepEqual(Object.keys(ep), ['console_scripts', 'gui_scripts', '__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
  it('rejects an entry outside a section', () => {
    throwsProblem(() => parseEntryPoints('a = b:c\n'), /outside any \[group\]/);
  });
  it('rejects a line without "="', () => {
    throwsProblem(() => parseEntryPoints('[console_scripts]\njust-a-name\n'), /line 2: expected "name = value"/);
  });
  it('rejects a duplicate name in a group', () => {
    throwsProblem(() => parseEntryPoints('[console_scripts]\na = x:y\na = x:z\n'), /defined twice/);
  });
  it('rejects a malformed section header and an empty value', () => {
    throwsProblem(() => parseEntryPoints('[console_scripts\n'), /malformed section/);
    throwsProblem(() => parseEntryPoints('[console_scripts]\na =\n'), /no object reference/);
  });
});

describe('parseCsv', () => {
  it('splits plain rows with CRLF and LF', () => {
    assert.deepEqual(
      parseCsv('a,b,c\r\nd,e,f\n').rows.map((r) => r.fields),
      [
        ['a', 'b', 'c'],
        ['d', 'e', 'f'],
      ],
    );
  });
  it('handles quoted fields with commas, quotes and newlines', () => {
    const { rows, problems } = parseCsv('"a,1","say ""hi""","x\ny"\nnext,,\n');
    assert.deepEqual(problems, []);
    assert.deepEqual(rows, [
      { fields: ['a,1', 'say "hi"', 'x\ny'], line: 1 },
      { fields: ['next', '', ''], line: 3 },
    ]);
  });
  it('skips blank lines and handles a missing final newline', () => {
    assert.deepEqual(
      parseCsv('a,b,c\n\n\nd,e,f').rows.map((r) => r.line),
      [1, 4],
    );
  });
  it('keeps an empty quoted field as a row', () => {
    assert.deepEqual(parseCsv('""\n').rows[0]?.fields, ['']);
  });
  it('reports an unterminated quote and junk after a closing quote', () => {
    assert.match(parseCsv('"abc,d,e\n').problems[0] ?? '', /unterminated/);
    assert.match(parseCsv('"a"b,c,d\n').problems[0] ?? '', /after a closing quote/);
  });
});

describe('parseRecord', () => {
  const digest = createHash('sha256').update('x').digest('base64url');
  it('parses rows with hash and size, and RECORD without', () => {
    const rows = parseRecord(`pkg/__init__.py,sha256=${digest},1\npkg-1.0.dist-info/RECORD,,\n`);
    assert.deepEqual(rows, [
      { path: 'pkg/__init__.py', hash: `sha256=${digest}`, size: 1, line: 1 },
      { path: 'pkg-1.0.dist-info/RECORD', hash: '', line: 2 },
    ]);
  });
  it('parses quoted paths containing commas', () => {
    assert.equal(parseRecord(`"pkg/a,b.txt",sha256=${digest},1\n`)[0]?.path, 'pkg/a,b.txt');
  });
  it('rejects rows with the wrong number of fields', () => {
    throwsProblem(() => parseRecord('a,b\n'), /line 1: expected 3 fields/);
    throwsProblem(() => parseRecord(`a,sha256=${digest},1,extra\n`), /found 4/);
  });
  it('rejects a bad size', () => {
    throwsProblem(() => parseRecord(`a,sha256=${digest},-1\n`), /not a non-negative integer/);
    throwsProblem(() => parseRecord(`a,sha256=${digest},12kb\n`), /not a non-negative integer/);
  });
  it('rejects a malformed hash field', () => {
    throwsProblem(() => parseRecord('a,sha256:abc,1\n'), /algorithm=urlsafe-base64-digest/);
  });
  it('rejects an empty path', () => {
    throwsProblem(() => parseRecord(',,\n'), /empty path/);
  });
  it('reports every bad line', () => {
    assert.throws(
      () => parseRecord('a\nb\nc,,\n'),
      (e: unknown) => e instanceof InputError && e.problems.length === 2,
    );
  });
});

describe('decodeRecordHash', () => {
  const data = Buffer.from('hello');
  it('decodes sha256, sha384 and sha512', () => {
    for (const alg of ['sha256', 'sha384', 'sha512']) {
      const digest = createHash(alg).update(data).digest();
      // RECORD's spelling: urlsafe base64 without padding.
      const decoded = decodeRecordHash(`${alg}=${digest.toString('base64url')}`);
      assert.ok(typeof decoded !== 'string', String(decoded));
      assert.equal(decoded.algorithm, alg);
      assert.ok(decoded.digest.equals(digest));
    }
  });
  it('tolerates padding', () => {
    const digest = createHash('sha256').update(data).digest('base64');
    const decoded = decodeRecordHash(`sha256=${digest.replace(/\+/g, '-').replace(/\//g, '_')}`);
    assert.ok(typeof decoded !== 'string');
  });
  it('rejects md5 and sha1 as too weak', () => {
    assert.match(decodeRecordHash(`md5=${createHash('md5').update(data).digest('base64url')}`) as string, /too weak/);
    assert.match(decodeRecordHash(`sha1=${createHash('sha1').update(data).digest('base64url')}`) as string, /too weak/);
  });
  it('rejects unknown algorithms', () => {
    assert.match(decodeRecordHash('crc32=AAAA') as string, /not supported/);
  });
  it('rejects a digest of the wrong length or alphabet', () => {
    assert.match(decodeRecordHash('sha256=AAAA') as string, /not a valid sha256 digest/);
    assert.match(decodeRecordHash('sha256=ab+/') as string, /not urlsafe base64/);
  });
});

describe('member name safety', () => {
  it('accepts ordinary names', () => {
    for (const name of ['pkg/__init__.py', 'pkg/', 'pkg-1.0.dist-info/METADATA', 'a/b/c/d.txt', 'spaces in name.txt', 'ünïcode/ok.py']) {
      assert.deepEqual(memberNameProblems(name), [], name);
    }
  });
  const bad: Array<[string, RegExp]> = [
    ['../evil', /"\.\." segment/],
    ['/etc/passwd', /absolute path/],
    ['pkg/../../x', /"\.\." segment/],
    ['C:/Windows/x', /drive letter/],
    ['c:x', /drive letter/],
    ['pkg\\..\\..\\x', /backslash/],
    ['a//b', /empty segment/],
    ['./a', /"\." segment/],
    ['a\0b', /NUL/],
    ['a\nb', /control character/],
    ['', /empty name/],
  ];
  for (const [name, pattern] of bad) {
    it(`rejects ${JSON.stringify(name)}`, () => {
      const problems = memberNameProblems(name);
      assert.ok(problems.some((p) => pattern.test(p)), JSON.stringify(problems));
    });
  }
  it('flags a name that resolves outside the root, even into a sibling with the same prefix', () => {
    const sibling = `../${FAKE_ROOT.slice(1)}-evil/x`;
    assert.ok(memberNameProblems(sibling).some((p) => /resolves outside/.test(p)));
  });
  it('isInsideRoot is not fooled by a sibling prefix', () => {
    assert.equal(isInsideRoot('/root', '/root-evil/x', '/'), false);
    assert.equal(isInsideRoot('/root', '/rootx', '/'), false);
    assert.equal(isInsideRoot('/root', '/root', '/'), false);
    assert.equal(isInsideRoot('/root', '/root/x', '/'), true);
    assert.equal(isInsideRoot('/root/', '/root/x/y', '/'), true);
  });
});

describe('zip details', () => {
  it('decodes DOS date and time like Python', () => {
    // 2020-01-02 03:04:06
    const date = ((2020 - 1980) << 9) | (1 << 5) | 2;
    const time = (3 << 11) | (4 << 5) | 3;
    assert.deepEqual(decodeDosTime(date, time), [2020, 1, 2, 3, 4, 6]);
    assert.deepEqual(decodeDosTime(0x21, 0), [1980, 1, 1, 0, 0, 0]);
  });
  it('encodes DOS date and time back (two-second resolution)', () => {
    assert.deepEqual(decodeDosTime(dosDate([2020, 1, 2, 3, 4, 6]), dosTime([2020, 1, 2, 3, 4, 6])), [2020, 1, 2, 3, 4, 6]);
    assert.deepEqual(decodeDosTime(dosDate([2107, 12, 31, 23, 59, 59]), dosTime([2107, 12, 31, 23, 59, 59])), [2107, 12, 31, 23, 59, 58]);
  });
  it('computes CRC-32 as zip does, also continued over chunks', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
    assert.equal(crc32(Buffer.from('56789'), crc32(Buffer.from('1234'))), 0xcbf43926);
  });
  it('formats ZIPINFO with fixed key order, 2-space indentation, ASCII and a trailing newline', () => {
    const info: ZipInfo = {
      format: 1,
      filename: 'p-1.0-py3-none-any.whl',
      sha256: 'ab',
      size: 10,
      comment: '',
      members: [
        // keys deliberately out of order: the output must not depend on it
        { comment: '', localExtra: '', extra: '', internalAttr: 1, attr: 1, flags: 2048, needed: 20, madeBy: 788, time: [1980, 1, 1, 0, 0, 0], method: 8, name: 'p/é.py' },
      ],
    };
    const text = formatZipInfo(info);
    assert.ok(text.endsWith('}\n'));
    assert.ok(/^[\x00-\x7f]*$/.test(text), 'ASCII only');
    assert.ok(text.includes('"name": "p/\\u00e9.py"'));
    assert.deepEqual(Object.keys(JSON.parse(text)), ['format', 'filename', 'sha256', 'size', 'comment', 'members']);
    assert.deepEqual(Object.keys(JSON.parse(text).members[0]), ['name', 'method', 'time', 'madeBy', 'needed', 'flags', 'attr', 'internalAttr', 'extra', 'localExtra', 'comment']);
    assert.equal(JSON.parse(text).members[0].name, 'p/é.py');
    assert.ok(text.startsWith('{\n  "format": 1,\n'));
  });
  it('resolves the extraction mtime', () => {
    const saved = process.env.SOURCE_DATE_EPOCH;
    try {
      delete process.env.SOURCE_DATE_EPOCH;
      assert.equal(resolveMtime().toISOString(), '1980-01-01T00:00:00.000Z', 'the README\'s rule: SOURCE_DATE_EPOCH or 1980-01-01');
      process.env.SOURCE_DATE_EPOCH = '1700000000';
      assert.equal(resolveMtime().getTime(), 1700000000 * 1000);
      assert.equal(resolveMtime(new Date(5000)).getTime(), 5000);
      process.env.SOURCE_DATE_EPOCH = 'yesterday';
      assert.throws(() => resolveMtime(), InputError);
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = saved;
    }
  });
});
