/**
 * sdists served by an index (PEP 503 and PEP 691, on 127.0.0.1): fetched and
 * hash-checked by reqset first, their build requirements read, ordered after
 * and built at the reqset's pins (tinyapp records the helperlib it was built
 * with: the index also has a newer one), a build requirement the reqset does
 * not pin is exit 2 naming it unless the user allows the index to supply it
 * (its version then in the manifest), and a second run needs no index.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { InputError } from '../../src/errors.ts';
import type { ProgressEvent } from '../../src/progress.ts';
import { run } from '../../src/run.ts';
import type { WheelRecord } from '../../src/wheels/wheelhouse.ts';
import { serveIndex, type IndexServer } from '../helpers/index-server.ts';
import { makeWorkspace, type Workspace } from '../helpers/workspace.ts';
import { readWheelMember } from '../helpers/wheel-member.ts';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

/**
 * A setuptools sdist `<name>-<version>.tar.gz` in `dir`: its pyproject requires
 * `buildRequires` (no pyproject.toml when undefined), its setup.py runs `setupPy` first.
 */
async function sdist(dir: string, name: string, version: string, buildRequires: string[] | undefined, setupPy: string[] = []): Promise<void> {
  const root = path.join(dir, 'src', `${name}-${version}`);
  await mkdir(path.join(root, name), { recursive: true });
  await writeFile(path.join(root, name, '__init__.py'), `VERSION = ${JSON.stringify(version)}\n`);
  if (buildRequires) await writeFile(path.join(root, 'pyproject.toml'), `[build-system]\nrequires = ${JSON.stringify(buildRequires)}\nbuild-backend = "setuptools.build_meta"\n`);
  await writeFile(path.join(root, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`);
  await writeFile(path.join(root, 'setup.py'), [...setupPy, 'from setuptools import setup', `setup(name="${name}", version="${version}", packages=["${name}"])`, ''].join('\n'));
  await run(['tar', '--sort=name', '--mtime=2020-01-01', '--owner=0', '--group=0', '-C', path.join(dir, 'src'), '-czf', path.join(dir, `${name}-${version}.tar.gz`), `${name}-${version}`]);
}

/** tinyapp's setup.py writes the helperlib version of its build environment into the package. */
const RECORD_HELPERLIB = ['import helperlib, os', 'with open(os.path.join("tinyapp", "_built_with.py"), "w") as f:', '    f.write("HELPERLIB = %r\\n" % helperlib.VERSION)'];

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('sdists from an index', () => {
  let ws: Workspace;
  let files: string;
  const servers: IndexServer[] = [];
  const hashes: Record<string, string> = {};

  /** The pin list of an index; `skip` leaves pins out, `hash` overrides a file's --hash. */
  const pinList = (index: IndexServer, options: { skip?: string[]; hash?: Record<string, string> } = {}) => {
    const pins: [string, string, string][] = [
      ['setuptools', '65.5.0', 'setuptools-65.5.0-py3-none-any.whl'],
      ['wheel', '0.38.4', 'wheel-0.38.4-py3-none-any.whl'],
      ['helperlib', '1.0', 'helperlib-1.0.tar.gz'],
      ['tinyapp', '1.0', 'tinyapp-1.0.tar.gz'],
    ];
    const lines = pins.filter(([name]) => !options.skip?.includes(name)).map(([name, version, file]) => `${name}==${version} --hash=sha256:${options.hash?.[file] ?? hashes[file]}`);
    return `--index-url ${index.origin}/simple/\n${lines.join('\n')}\n`;
  };

  const cli = (args: string[]) => run(['node', '--import', TSX, CLI, ...args, '--workspace', ws.dir], { cwd: ws.dir, env: { NODE_OPTIONS: undefined }, allowFailure: true });

  /** The wheels of reqset `name` through the api, with every progress event. */
  const wheels = async (name: string, label: string, cache = ws.cache) => {
    const events: ProgressEvent[] = [];
    const job = await api.prepareJob(name, 'debian12', { workspace: ws.dir });
    const records = await api.buildJobWheels(job, path.join(ws.dir, `wheels-${label}`), { workspace: ws.dir, wheelCache: cache, jobs: 2, progress: (e) => events.push(e) });
    return { records: new Map(records.map((r) => [r.pin.name, r])), events };
  };

  before(async () => {
    ws = await makeWorkspace();
    files = path.join(ws.dir, 'index-files');
    await mkdir(files);
    await sdist(files, 'helperlib', '1.0', ['setuptools', 'wheel']);
    // A newer helperlib that pip would take for tinyapp's build if the pin did not hold.
    await sdist(files, 'helperlib', '2.0', ['setuptools', 'wheel']);
    await sdist(files, 'tinyapp', '1.0', ['setuptools', 'wheel', 'helperlib'], RECORD_HELPERLIB);
    await sdist(files, 'legacyapp', '1.0', undefined);
    // setuptools 65 asks for wheel only while building (get_requires_for_build_wheel).
    await sdist(files, 'dynapp', '1.0', ['setuptools']);
    for (const wheel of ['setuptools-65.5.0-py3-none-any.whl', 'wheel-0.38.4-py3-none-any.whl']) await copyFile(path.join(ws.dist, wheel), path.join(files, wheel));
    for (const file of ['setuptools-65.5.0-py3-none-any.whl', 'wheel-0.38.4-py3-none-any.whl', 'helperlib-1.0.tar.gz', 'tinyapp-1.0.tar.gz', 'dynapp-1.0.tar.gz']) {
      hashes[file] = sha256(await readFile(path.join(files, file)));
    }
  });
  after(async () => {
    for (const server of servers) await server.close();
    await ws.cleanup();
  });

  const serve = async (api: 'html' | 'json') => {
    const server = await serveIndex(files, { api });
    servers.push(server);
    return server;
  };

  it('builds them after and against their pinned build requirements, from a PEP 503 and a PEP 691 index; a second run needs no index', async () => {
    const html = await serve('html');
    await ws.writeReqset('app', pinList(html));
    const first = await wheels('app', 'html');
    const app = first.records.get('tinyapp') as WheelRecord;
    assert.equal(app.origin, 'built');
    assert.deepEqual(app.artifact, { from: `${html.origin}/files/tinyapp-1.0.tar.gz`, sha256: hashes['tinyapp-1.0.tar.gz'], hashCheckedBy: 'reqset' });
    assert.deepEqual(app.buildRequirements, ['setuptools', 'wheel', 'helperlib']);
    assert.equal((await readWheelMember(app.path, 'tinyapp/_built_with.py')).trim(), "HELPERLIB = '1.0'", 'built with the pinned helperlib, not the newer one');
    assert.match(await readWheelMember(app.path, 'tinyapp-1.0.dist-info/WHEEL'), /^Generator: bdist_wheel \(0\.38\.4\)$/m, 'built with the pinned wheel');
    assert.equal(first.records.get('helperlib')?.origin, 'built');
    assert.equal(first.records.get('setuptools')?.origin, 'collected');
    const at = (item: string, state: string) => first.events.findIndex((e) => e.item === item && e.state === state);
    assert.ok(at('helperlib==1.0', 'built') >= 0 && at('helperlib==1.0', 'built') < at('tinyapp==1.0', 'start'), 'tinyapp starts after helperlib is built');
    assert.ok(!html.requests.some((r) => r.path.startsWith('/files/helperlib-2.0')), 'the newer helperlib is never fetched');

    // The same pins from a JSON index: fetched again (another index), built wheels from the cache.
    const json = await serve('json');
    await ws.writeReqset('app', pinList(json));
    const second = await wheels('app', 'json');
    assert.ok(json.requests.some((r) => r.path === '/simple/tinyapp/' && r.type === 'application/vnd.pypi.simple.v1+json'));
    assert.equal(second.records.get('tinyapp')?.origin, 'cached');
    assert.equal(second.records.get('tinyapp')?.sha256, app.sha256);
    assert.deepEqual(second.records.get('tinyapp')?.artifact, { ...app.artifact, from: `${json.origin}/files/tinyapp-1.0.tar.gz` });

    // Nothing listens on the index any more: everything comes from the cache.
    await json.close();
    const started = Date.now();
    const offline = await wheels('app', 'offline');
    const elapsed = Date.now() - started;
    assert.deepEqual([...offline.records.values()].map((r) => [r.pin.name, r.origin, r.sha256]), [...second.records.values()].map((r) => [r.pin.name, r.origin, r.sha256]));
    assert.ok(elapsed < 10_000, `the offline run took ${elapsed} ms`);
  });

  it('a build requirement the reqset does not pin is exit 2 naming it, the pin and the sdist', async () => {
    const index = await serve('html');
    await ws.writeReqset('unpinned', pinList(index, { skip: ['wheel'] }));
    const result = await cli(['wheels', 'unpinned', '--out', path.join(ws.dir, 'out-unpinned'), '--wheel-cache', path.join(ws.dir, 'cache-unpinned')]);
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /reqsets\/unpinned\.txt:4: tinyapp==1\.0 cannot be built from tinyapp-1\.0\.tar\.gz: it requires a build requirement the reqset does not pin \(wheel\): pin it in the reqset, or pass --allow-unpinned-build-requirements/);
    assert.match(result.stderr, /helperlib==1\.0 cannot be built from helperlib-1\.0\.tar\.gz/);
  });

  it("an sdist without pyproject.toml has setuptools' implicit build requirements, which the reqset must pin", async () => {
    const index = await serve('json');
    await ws.writeReqset('legacy', `--index-url ${index.origin}/simple/\nsetuptools==65.5.0\nlegacyapp==1.0\n`);
    const result = await cli(['wheels', 'legacy', '--out', path.join(ws.dir, 'out-legacy'), '--wheel-cache', path.join(ws.dir, 'cache-legacy')]);
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /reqsets\/legacy\.txt:3: legacyapp==1\.0 cannot be built from legacyapp-1\.0\.tar\.gz: it requires a build requirement the reqset does not pin \(wheel\)/);
  });

  it('a build requirement the backend asks for only while building, not pinned: exit 2 naming it', async () => {
    const index = await serve('html');
    await ws.writeReqset('dynamic', `--index-url ${index.origin}/simple/\nsetuptools==65.5.0\ndynapp==1.0\n`);
    const result = await cli(['wheels', 'dynamic', '--out', path.join(ws.dir, 'out-dynamic'), '--wheel-cache', path.join(ws.dir, 'cache-dynamic')]);
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /reqsets\/dynamic\.txt:3: dynapp==1\.0 cannot be built from dynapp-1\.0\.tar\.gz: its build backend asked for a build requirement the reqset does not pin \(wheel\): pin it in the reqset, or pass --allow-unpinned-build-requirements/);
  });

  it('with --allow-unpinned-build-requirements pip takes it from the index and the manifest records its version', async () => {
    const index = await serve('json');
    // dynapp's backend asks for wheel while building: pip installs it in a second step, recorded too.
    await ws.writeReqset('allowed', `${pinList(index, { skip: ['wheel', 'helperlib', 'tinyapp'] })}dynapp==1.0 --hash=sha256:${hashes['dynapp-1.0.tar.gz']}\n`);
    const out = path.join(ws.dir, 'out-allowed');
    const result = await cli(['build', 'allowed', '--out', out, '--wheel-cache', path.join(ws.dir, 'cache-allowed'), '--allow-unpinned-build-requirements']);
    assert.equal(result.exitCode, 0, result.stderr);
    const manifest = JSON.parse(await readFile(path.join(out, 'allowed', 'debian12', 'manifest.json'), 'utf8')) as api.Manifest;
    const wheel = Object.fromEntries(manifest.pins.map((p) => [p.name, p.wheel]));
    assert.deepEqual(wheel.dynapp?.unpinnedBuildRequirements, ['wheel==0.38.4']);
    assert.equal(wheel.setuptools?.unpinnedBuildRequirements, undefined);
  });

  it('--only-binary leaves a pin that has only an sdist on the index nothing: exit 2 naming what the index has', async () => {
    const index = await serve('html');
    await ws.writeReqset('binary', `--only-binary :all:\n${pinList(index, { skip: ['setuptools', 'wheel', 'helperlib'] })}`);
    const result = await cli(['wheels', 'binary', '--out', path.join(ws.dir, 'out-binary'), '--wheel-cache', path.join(ws.dir, 'cache-binary')]);
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /reqsets\/binary\.txt:3: no distribution of tinyapp==1\.0 on http:\/\/127\.0\.0\.1:\d+\/simple\/tinyapp\/ fits the target: only tinyapp-1\.0\.tar\.gz \(sdists excluded by --only-binary\)/);
  });

  it('a --find-links URL naming one file is fetched as it is; an index option that is not a URL is exit 2 naming it', async () => {
    const index = await serve('html');
    await ws.writeReqset('direct', `--no-index\n--find-links ${index.origin}/files/setuptools-65.5.0-py3-none-any.whl\nsetuptools==65.5.0\n`);
    const { records } = await wheels('direct', 'direct', path.join(ws.dir, 'cache-direct'));
    assert.deepEqual(records.get('setuptools')?.artifact, { from: `${index.origin}/files/setuptools-65.5.0-py3-none-any.whl`, sha256: hashes['setuptools-65.5.0-py3-none-any.whl'], hashCheckedBy: 'none' });
    await ws.writeReqset('invalid', '--index-url http://[not-a-host/simple/\nsetuptools==65.5.0\n');
    await assert.rejects(wheels('invalid', 'invalid', path.join(ws.dir, 'cache-invalid')), (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.match(error.message, /http:\/\/\[not-a-host\/simple\/: fix the URL/);
      return true;
    });
  });

  it('an index sdist whose hash the pin list does not allow is exit 2 naming the pin and both hashes', async () => {
    const index = await serve('html');
    const wrong = 'e'.repeat(64);
    await ws.writeReqset('mismatch', pinList(index, { skip: ['setuptools', 'wheel', 'helperlib'], hash: { 'tinyapp-1.0.tar.gz': wrong } }));
    const result = await cli(['wheels', 'mismatch', '--out', path.join(ws.dir, 'out-mismatch'), '--wheel-cache', path.join(ws.dir, 'cache-mismatch')]);
    assert.equal(result.exitCode, 2, result.stderr);
    const got = hashes['tinyapp-1.0.tar.gz'] ?? '';
    assert.match(result.stderr, new RegExp(`reqsets/mismatch\\.txt:2: hash mismatch for tinyapp==1\\.0: http://127\\.0\\.0\\.1:\\d+/files/tinyapp-1\\.0\\.tar\\.gz has sha256:${got}, the pin list allows sha256:${wrong}`));
  });
});
