/**
 * The wheel cache does not trust what it finds: every reuse checks the
 * entry's recorded sha256, and a bad or incomplete entry (flipped bytes, the
 * wheel gone, another wheel swapped in, no or unreadable metadata, an entry of
 * an older reqset without a sha256) is removed, reported once as a warning
 * naming the entry, and the wheel is built again; the run after that reuses
 * the new entry.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { main } from '../../src/cli/main.ts';
import { sha256File } from '../../src/fsutil.ts';
import { type BuildInputs, WheelCache } from '../../src/wheels/cache.ts';
import type { ProgressEvent } from '../../src/progress.ts';
import { makeWheel } from '../helpers/make-wheel.ts';
import { makeWorkspace, type Workspace } from '../helpers/workspace.ts';

const ITEM = 'textfmt==1.0.0';
const WHEEL = 'textfmt-1.0.0-py3-none-any.whl';

describe('wheel cache entries are verified on every reuse', () => {
  let ws: Workspace;
  /** The cache entry of textfmt's wheel. */
  let entry: string;
  let builtSha: string;

  const runWheels = async () => {
    const events: ProgressEvent[] = [];
    const result = await api.wheels('tx', 'debian12', { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2, progress: (e) => events.push(e) });
    const wheel = result.wheels.find((w) => w.name === 'textfmt');
    assert.ok(wheel);
    const file = path.join(result.wheelsDir, wheel.filename);
    const textfmt = { ...wheel, path: file, sha256: await sha256File(file) };
    return { result, events, textfmt, warnings: events.filter((e) => e.state === 'warning') };
  };

  /** The entry directories of the cache whose inputs.json names `key`. */
  const entriesOf = async (key: string) => {
    const root = path.join(ws.cache, 'wheels');
    const found: string[] = [];
    for (const file of await readdir(root, { recursive: true })) {
      if (path.basename(file) !== 'inputs.json') continue;
      const inputs = JSON.parse(await readFile(path.join(root, file), 'utf8')) as { key: string };
      if (inputs.key === key) found.push(path.join(root, path.dirname(file)));
    }
    return found;
  };

  /** After a run that found the entry bad: it warned once, naming the entry, rebuilt, and the next run reuses the cache. */
  const assertRebuiltThenCached = async (why: RegExp) => {
    const rebuilt = await runWheels();
    assert.equal(rebuilt.textfmt.origin, 'built', 'the bad entry is not reused');
    assert.equal(rebuilt.warnings.length, 1, JSON.stringify(rebuilt.warnings));
    const [warning] = rebuilt.warnings;
    assert.equal(warning?.stage, 'wheels');
    assert.equal(warning?.item, ITEM);
    assert.ok(warning?.detail?.includes(entry), `the warning names the cache entry ${entry}: ${warning?.detail}`);
    assert.match(warning?.detail ?? '', why);
    assert.ok(rebuilt.events.some((e) => e.item === ITEM && e.state === 'start'), 'pip ran again');
    assert.deepEqual(await entriesOf('textfmt'), [entry], 'one entry, in the same place');
    // Nothing is left behind next to the entry (staging or discarded directories).
    assert.deepEqual((await readdir(path.dirname(entry))).sort(), [path.basename(entry)]);

    const again = await runWheels();
    assert.equal(again.textfmt.origin, 'cached');
    assert.deepEqual(again.warnings, []);
    assert.equal(again.events.filter((e) => e.state === 'start').length, 0, 'no pip build started');
    assert.equal(again.textfmt.sha256, rebuilt.textfmt.sha256);
    return rebuilt;
  };

  before(async () => {
    ws = await makeWorkspace();
    await ws.writeReqset('tx', '--no-index\n--find-links ../dist-src\nsetuptools==65.5.0\nwheel==0.38.4\ntextfmt==1.0.0\n');
    const first = await runWheels();
    assert.equal(first.textfmt.origin, 'built');
    assert.deepEqual(first.warnings, []);
    builtSha = first.textfmt.sha256;
    const entries = await entriesOf('textfmt');
    assert.equal(entries.length, 1);
    entry = entries[0] ?? '';
    assert.deepEqual((await readdir(entry)).sort(), ['entry.json', 'inputs.json', WHEEL]);
    assert.deepEqual(JSON.parse(await readFile(path.join(entry, 'entry.json'), 'utf8')), { file: WHEEL, sha256: builtSha });
    const second = await runWheels();
    assert.equal(second.textfmt.origin, 'cached');
    assert.deepEqual(second.warnings, []);
    await cp(entry, path.join(ws.dir, 'good-entry'), { recursive: true });
  });
  // Each test starts from the sound entry, whatever the one before left.
  beforeEach(async () => {
    await rm(entry, { recursive: true, force: true });
    await cp(path.join(ws.dir, 'good-entry'), entry, { recursive: true });
  });
  after(() => ws.cleanup());

  it('flipped bytes in a cached wheel: warned, rebuilt, then cached again', async () => {
    const wheel = path.join(entry, WHEEL);
    const bytes = await readFile(wheel);
    for (const at of [Math.floor(bytes.length / 3), Math.floor(bytes.length / 2)]) bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    await writeFile(wheel, bytes);
    await assertRebuiltThenCached(/sha256/);
  });

  it('the wheel deleted, its metadata left: warned, rebuilt, then cached again', async () => {
    await rm(path.join(entry, WHEEL));
    await assertRebuiltThenCached(/missing/);
  });

  it('a different valid wheel swapped in under the same name: detected, rebuilt, then cached again', async () => {
    const impostor = await makeWheel(path.join(ws.dir, 'impostor'), { name: 'textfmt', version: '1.0.0', files: { 'textfmt/__init__.py': 'IMPOSTOR = True\n' } });
    await writeFile(path.join(entry, WHEEL), await readFile(impostor));
    const impostorSha = await sha256File(impostor);
    const rebuilt = await assertRebuiltThenCached(/sha256/);
    assert.notEqual(rebuilt.textfmt.sha256, impostorSha);
  });

  it('a different valid wheel swapped in under another name: detected, rebuilt, then cached again', async () => {
    await rm(path.join(entry, WHEEL));
    await makeWheel(entry, { name: 'textfmt', version: '1.0.0', build: '1', files: { 'textfmt/__init__.py': 'IMPOSTOR = True\n' } });
    await assertRebuiltThenCached(/textfmt-1\.0\.0-1-py3-none-any\.whl/);
  });

  it('an entry of an older reqset (no recorded sha256) is rebuilt once', async () => {
    await rm(path.join(entry, 'entry.json'));
    await assertRebuiltThenCached(/entry\.json/);
  });

  it('unreadable metadata or more than one wheel: the entry is discarded', async () => {
    await writeFile(path.join(entry, 'entry.json'), '{"file": ');
    await assertRebuiltThenCached(/unreadable entry\.json/);
    await writeFile(path.join(entry, 'inputs.json'), 'not json');
    await assertRebuiltThenCached(/unreadable inputs\.json/);
    await makeWheel(entry, { name: 'textfmt', version: '1.0.0', build: '2' });
    await assertRebuiltThenCached(/more than one wheel/);
  });

  it('a truncated wheel verdict is a miss: the wheels are validated again and their verdicts written again', async () => {
    const root = path.join(ws.cache, 'verdicts');
    const verdicts = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.json')).map((f) => path.join(root, f));
    assert.ok(verdicts.length >= 3, `a verdict per wheel: ${verdicts.join(' ')}`);
    for (const file of verdicts) await writeFile(file, '{"facts": ');
    const again = await runWheels();
    assert.equal(again.textfmt.sha256, builtSha);
    for (const file of verdicts) assert.doesNotThrow(() => JSON.parse(readFileSync(file, 'utf8')), `${file} written again`);
  });

  it('on the command line: exit 0 and one warning line naming the entry', async () => {
    await rm(path.join(entry, WHEEL));
    const captured = { stdout: '', stderr: '' };
    const stream = (name: 'stdout' | 'stderr') =>
      ({ isTTY: false, write: (text: string) => ((captured[name] += text), true) }) as unknown as NodeJS.WriteStream;
    const code = await main(['wheels', 'tx', '--target', 'debian12', '--workspace', ws.dir, '--out', ws.out, '--wheel-cache', ws.cache, '--jobs', '2'], {
      stdout: stream('stdout'),
      stderr: stream('stderr'),
    });
    assert.equal(code, 0, captured.stderr);
    const warnings = captured.stderr.split('\n').filter((line) => /^wheels: warning\b/.test(line));
    assert.equal(warnings.length, 1, captured.stderr);
    assert.ok(warnings[0]?.includes(`${ITEM}  discarded a bad wheel cache entry, building again: ${entry}`), warnings[0]);
    assert.match(captured.stderr, /^wheels: built .* textfmt==1\.0\.0/m);
    assert.match(captured.stdout, /1 built/);
  });
});

describe('WheelCache.store between concurrent jobs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reqset-wheel-cache-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const inputs: BuildInputs = { key: 'demo', version: '1.0', builder: 'python3 3.11.2', source: 'sdist:0', buildDependencies: {}, extra: {} };

  it('jobs storing the same key at once all get a sound entry', async () => {
    const cache = new WheelCache(path.join(dir, 'race'));
    const wheels = await Promise.all([1, 2, 3, 4].map((n) => makeWheel(path.join(dir, `job${n}`), { name: 'demo', version: '1.0', files: { 'demo.py': `JOB = ${n}\n` } })));
    const stored = await Promise.all(wheels.map((wheel) => cache.store('ab'.repeat(32), wheel, inputs)));
    assert.equal(new Set(stored).size, 1, 'every job uses the entry that won');
    const found = await cache.lookup('ab'.repeat(32));
    assert.ok(found.hit);
    assert.equal(found.path, stored[0]);
    assert.deepEqual(await readdir(path.join(dir, 'race', 'wheels', 'ab')), ['ab'.repeat(32)]);
  });

  it('a bad entry in the way of a store is replaced', async () => {
    const cache = new WheelCache(path.join(dir, 'replace'));
    const key = 'cd'.repeat(32);
    const wheel = await makeWheel(path.join(dir, 'replace-src'), { name: 'demo', version: '1.0' });
    const entryDir = path.join(dir, 'replace', 'wheels', 'cd', key);
    // What an older reqset left: a wheel and inputs.json, no recorded sha256.
    await makeWheel(entryDir, { name: 'demo', version: '1.0', files: { 'demo.py': 'OLD = 1\n' } });
    await writeFile(path.join(entryDir, 'inputs.json'), JSON.stringify(inputs));
    const stored = await cache.store(key, wheel, inputs);
    assert.equal(stored, path.join(entryDir, path.basename(wheel)));
    assert.equal(await sha256File(stored), await sha256File(wheel));
    const found = await cache.lookup(key);
    assert.ok(found.hit);
    assert.deepEqual((await readdir(path.dirname(entryDir))).sort(), [key]);
  });

  it('a killed run\'s staging (a store, a verdict) is removed by the next store beside it', async () => {
    const cache = new WheelCache(path.join(dir, 'swept'));
    const key = 'ef'.repeat(32);
    const dead = spawnSync('true').pid;
    assert.ok(dead);
    const wheels = path.join(dir, 'swept', 'wheels', 'ef');
    const verdicts = path.join(dir, 'swept', 'verdicts', 'ef');
    await mkdir(path.join(wheels, `.${key}.tmp-${dead}-AbC123`), { recursive: true });
    await mkdir(path.join(verdicts, `.${key}.json.tmp-${dead}-AbC123`), { recursive: true });
    await cache.store(key, await makeWheel(path.join(dir, 'swept-src'), { name: 'demo', version: '1.0' }), inputs);
    await cache.verdicts.write(key, { ok: true });
    assert.deepEqual(await readdir(wheels), [key]);
    assert.deepEqual(await readdir(verdicts), [`${key}.json`]);
    assert.deepEqual(await cache.verdicts.read(key), { ok: true });
  });
});
