import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { checkPins, loadReqset, pinsForTarget, withCliIndexOptions } from '../../src/reqset/load.ts';
import { logicalLines, parsePinFile } from '../../src/reqset/parse.ts';
import { listFindLinks } from '../../src/wheels/locate.ts';

const parse = (text: string) => parsePinFile(text, 'r.txt');

describe('pin list lines', () => {
  it('joins continuations and strips comments, keeping the first line number', () => {
    assert.deepEqual(logicalLines('# header\n\nfoo==1.0 \\\n  --hash=sha256:ab # why\nbar==2 # trailing\n'), [
      { line: 3, text: 'foo==1.0    --hash=sha256:ab' },
      { line: 5, text: 'bar==2' },
    ]);
  });
  it('keeps a # that is part of a URL fragment-free token', () => {
    assert.deepEqual(logicalLines('--find-links ./dir#x'), [{ line: 1, text: '--find-links ./dir#x' }]);
  });
});

describe('parsing a pin file', () => {
  it('reads pins with extras, markers and hashes', () => {
    const h = 'a'.repeat(64);
    const parsed = parse(`requests[socks]==2.31.0 ; python_version >= "3.8" --hash=sha256:${h} --hash sha256:${'b'.repeat(64)}\n`);
    assert.deepEqual(parsed.problems, []);
    const [pin] = parsed.pins;
    assert.equal(pin?.version, '2.31.0');
    assert.deepEqual(pin?.requirement.extras, ['socks']);
    assert.equal(pin?.requirement.markerText, 'python_version >= "3.8"');
    assert.deepEqual(pin?.hashes, [`sha256:${h}`, `sha256:${'b'.repeat(64)}`]);
  });
  it('reads every supported option', () => {
    const parsed = parse('-r base.txt\n-c cons.txt\n--index-url https://i/simple\n--extra-index-url https://x/simple\n--find-links ./wheels\n-f other\n--no-index\n--only-binary :all:\n--no-binary foo\n');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.options.map((o) => o.kind),
      ['requirement-file', 'constraint-file', 'index-url', 'extra-index-url', 'find-links', 'find-links', 'no-index', 'only-binary', 'no-binary'],
    );
  });
  it('accepts --opt=value', () => {
    const parsed = parse('--find-links=../x\n');
    assert.deepEqual(parsed.options, [{ kind: 'find-links', value: '../x', line: 1 }]);
  });
  it('names file and line of an unknown option, with the fix', () => {
    const { problems } = parse('foo==1\n--pre\n');
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^r\.txt:2: unknown option --pre: pin lists support/);
  });
  it('reports a malformed line with the expected form', () => {
    const { problems } = parse('foo==1\nthis is not a requirement\n');
    assert.match(problems[0] ?? '', /^r\.txt:2: .*write "name==version"/);
  });
  it('rejects a URL requirement and a malformed hash', () => {
    const { problems } = parse('pkg @ https://x/pkg.whl\nfoo==1 --hash=md5:abc\n');
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /r\.txt:1: pkg is given as a URL/);
    assert.match(problems[1] ?? '', /r\.txt:2: malformed --hash/);
  });
  it('rejects an option on a requirement line other than --hash', () => {
    assert.match(parse('foo==1 --no-binary foo\n').problems[0] ?? '', /r\.txt:1: option --no-binary is not allowed on a requirement line/);
  });
  it('reports an option without its value', () => {
    assert.match(parse('--find-links\n').problems[0] ?? '', /r\.txt:1: option --find-links needs a value/);
  });
  it('collects all problems of a file at once', () => {
    assert.equal(parse('foo>=1\n--bogus\nbar baz\n').problems.length, 2 /* unpinned is judged later */);
  });
});

describe('checking pins', () => {
  const lines = (text: string, file = 'r.txt') => parsePinFile(text, file).pins;
  it('an unpinned line names its line number and the fix', () => {
    const { problems } = checkPins(lines('a==1\nb>=2\nc\n'), []);
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /^r\.txt:2: "b>=2" is not pinned exactly: write "b==<version>"/);
    assert.match(problems[1] ?? '', /^r\.txt:3: "c" is not pinned exactly/);
  });
  it('a duplicate pin names both lines', () => {
    const { problems } = checkPins(lines('a==1\nA==1\n'), []);
    assert.match(problems[0] ?? '', /r\.txt:2: A is pinned twice \(also at r\.txt:1\)/);
  });
  it('a conflicting pin names both versions', () => {
    const { problems } = checkPins(lines('a==1\na==2\n'), []);
    assert.match(problems[0] ?? '', /r\.txt:2: a==2 conflicts with a==1 at r\.txt:1: keep one version/);
  });
  it('the same name under different markers is not a duplicate', () => {
    const { problems, pins } = checkPins(lines('a==1; python_version < "3.10"\na==2; python_version >= "3.10"\n'), []);
    assert.deepEqual(problems, []);
    assert.equal(pins.length, 2);
  });
  it('a constraint file can supply the pin', () => {
    const { problems, pins } = checkPins(lines('a\n'), lines('a==3\n', 'c.txt'));
    assert.deepEqual(problems, []);
    assert.equal(pins[0]?.version, '3');
  });
  it('a pin that disagrees with a constraint is an error', () => {
    const { problems } = checkPins(lines('a==1\n'), lines('a==3\n', 'c.txt'));
    assert.match(problems[0] ?? '', /r\.txt:1: a==1 conflicts with the constraint a==3 at c\.txt:1/);
  });
  it('hash-checking mode needs a hash on every pin', () => {
    const { problems } = checkPins(lines(`a==1 --hash=sha256:${'a'.repeat(64)}\nb==2\n`), []);
    assert.match(problems[0] ?? '', /r\.txt:2: b has no --hash while other pins do/);
  });
  it('=== pins are exact', () => {
    const { problems, pins } = checkPins(lines('a===1.0-legacy\n'), []);
    assert.deepEqual(problems, []);
    assert.equal(pins[0]?.version, '1.0-legacy');
  });
});

describe('loading a reqset from a workspace', () => {
  let ws: string;
  before(async () => {
    ws = await mkdtemp(path.join(tmpdir(), 'reqset-ws-'));
    await mkdir(path.join(ws, 'reqsets', 'common'), { recursive: true });
    await writeFile(path.join(ws, 'reqsets', 'app.txt'), '--find-links ../wheels\n-r common/base.txt\n-c common/cons.txt\nflask\nclick==8.1.7 ; python_version >= "3.7"\nclick==7.1.2 ; python_version < "3.7"\n');
    await writeFile(path.join(ws, 'reqsets', 'common', 'base.txt'), '--find-links local\n--no-index\nsix==1.16.0\n');
    await writeFile(path.join(ws, 'reqsets', 'common', 'cons.txt'), 'flask==3.0.0\n');
    await writeFile(path.join(ws, 'reqsets', 'broken.txt'), 'a>=1\n-r missing.txt\n--bogus\nb==1\nb==2\n');
    await writeFile(path.join(ws, 'reqsets', 'loop.txt'), '-r loop.txt\na==1\n');
  });
  after(() => rm(ws, { recursive: true, force: true }));

  it('resolves relative --find-links against the file that names them', async () => {
    const reqset = await loadReqset(ws, 'app');
    assert.deepEqual(reqset.index.findLinks, [path.join(ws, 'wheels'), path.join(ws, 'reqsets', 'common', 'local')]);
    assert.equal(reqset.index.noIndex, true);
    assert.deepEqual(
      reqset.pins.map((p) => `${p.key}==${p.version}`),
      // A file's own pins first, then those of the files it includes.
      ['flask==3.0.0', 'click==8.1.7', 'click==7.1.2', 'six==1.16.0'],
    );
  });
  it('a local --find-links directory that does not exist is one input error per directory, naming where it is named', async () => {
    const reqset = await loadReqset(ws, 'app');
    const index = withCliIndexOptions(reqset.index, { findLinks: [path.join(ws, 'cli-links')] });
    await assert.rejects(listFindLinks(index.findLinks, index.findLinksNamedAt), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.exitCode, 2);
      assert.deepEqual(error.problems, [
        `reqsets/app.txt:1: --find-links ${path.join(ws, 'wheels')} does not exist: create it with the wheels and sdists of the pins (the pin list's comments may say how), or fix the path, which is relative to reqsets/app.txt`,
        `reqsets/common/base.txt:1: --find-links ${path.join(ws, 'reqsets', 'common', 'local')} does not exist: create it with the wheels and sdists of the pins (the pin list's comments may say how), or fix the path, which is relative to reqsets/common/base.txt`,
        `--find-links ${path.join(ws, 'cli-links')} (command line) does not exist: create it with the wheels and sdists of the pins, or fix the path`,
      ]);
      return true;
    });
    await mkdir(path.join(ws, 'wheels'));
    await mkdir(path.join(ws, 'reqsets', 'common', 'local'));
    await mkdir(path.join(ws, 'cli-links'));
    try {
      await writeFile(path.join(ws, 'wheels', 'six-1.16.0-py2.py3-none-any.whl'), '');
      assert.deepEqual(await listFindLinks(index.findLinks, index.findLinksNamedAt), [path.join(ws, 'wheels', 'six-1.16.0-py2.py3-none-any.whl')]);
    } finally {
      for (const dir of ['wheels', 'reqsets/common/local', 'cli-links']) await rm(path.join(ws, dir), { recursive: true });
    }
  });
  it('selects pins for a target by their markers', async () => {
    const reqset = await loadReqset(ws, 'app');
    const env = { python_version: '3.6', python_full_version: '3.6.8' } as never;
    const pins = pinsForTarget(reqset, { ...(env as object), sys_platform: 'linux' } as never, 'el8');
    assert.deepEqual(pins.map((p) => `${p.key}==${p.version}`), ['flask==3.0.0', 'click==7.1.2', 'six==1.16.0']);
  });
  it('reports every problem of every file at once', async () => {
    await assert.rejects(loadReqset(ws, 'broken'), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.exitCode, 2);
      const text = error.problems.join('\n');
      assert.match(text, /broken\.txt:1: "a>=1" is not pinned exactly/);
      assert.match(text, /broken\.txt:2: missing\.txt does not exist/);
      assert.match(text, /broken\.txt:3: unknown option --bogus/);
      assert.match(text, /broken\.txt:5: b==2 conflicts with b==1/);
      assert.equal(error.problems.length, 4);
      return true;
    });
  });
  it('reports an include cycle', async () => {
    await assert.rejects(loadReqset(ws, 'loop'), /included again from itself/);
  });
  it('names a missing reqset and where it looked', async () => {
    await assert.rejects(loadReqset(ws, 'nope'), /no reqset "nope": .*reqsets\/nope\.txt does not exist/);
  });
  it('rejects an invalid reqset name', async () => {
    await assert.rejects(loadReqset(ws, 'Bad_Name'), /invalid reqset name/);
  });
  it('command-line index options add to and override the file', async () => {
    const reqset = await loadReqset(ws, 'app');
    const merged = withCliIndexOptions(reqset.index, { findLinks: ['extra'], indexUrl: 'https://mirror/simple' });
    assert.equal(merged.findLinks.at(-1), path.resolve('extra'));
    assert.equal(merged.indexUrl, 'https://mirror/simple');
    assert.equal(merged.noIndex, false);
    assert.equal(withCliIndexOptions({ ...reqset.index, noIndex: false }, { noIndex: true }).noIndex, true);
  });
});
