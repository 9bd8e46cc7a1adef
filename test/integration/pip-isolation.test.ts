/**
 * What the wheels stage builds follows from the pin list and the command line
 * only: the user's PIP_* variables and pip.conf files (named by
 * PIP_CONFIG_FILE or in the user's config directory) change no wheel, while
 * the pins still reach the build requirements that pip installs itself; a pin
 * list that names an index gets its wheels from that index alone.
 * Every run has its own wheel cache, so each one really runs pip.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildExampleSdists } from '../../scripts/example-sdists.ts';
import * as api from '../../src/api.ts';
import { sha256File } from '../../src/fsutil.ts';
import { run } from '../../src/run.ts';
import { serveIndex, type IndexServer } from '../helpers/index-server.ts';
import { buildWheel } from '../helpers/make-wheel.ts';
import { makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';

/** Runs `fn` with these variables set (undefined: removed), then restores process.env. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return await fn();
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

describe('pip ignores the user\'s pip settings', () => {
  let ws: Workspace;
  /** A find-links directory with other textfmt and tinyvec 1.0.0 wheels than those built from the pinned sdists. */
  let decoys: string;
  /** Constraints that contradict the pins. */
  let contradicting: string;
  /** sha256 of every wheel of the plain run, by file name. */
  let plain: Record<string, string>;

  /**
   * Builds the wheelhouse with a fresh cache and these variables; the sha256
   * of each wheel by file name. CFLAGS=-g0: debug information holds pip's
   * random build directory, which would make any two compiled wheels differ.
   */
  const build = async (label: string, vars: Record<string, string | undefined> = {}): Promise<Record<string, string>> => {
    const options = { workspace: ws.dir, out: path.join(ws.dir, `out-${label}`), wheelCache: path.join(ws.dir, `cache-${label}`), jobs: 2 };
    const result = await withEnv({ CFLAGS: '-g0', ...vars }, () => api.wheels('ex', 'debian12', options));
    assert.ok(result.ok, JSON.stringify(result.problems));
    assert.equal(result.wheels.find((w) => w.name === 'textfmt')?.origin, 'built');
    const hashes = await Promise.all(result.wheels.map(async (w) => [w.filename, await sha256File(path.join(result.wheelsDir, w.filename))] as const));
    return Object.fromEntries(hashes);
  };

  /** A pip.conf that adds the decoys and the contradicting constraints. */
  const writePipConf = async (file: string) => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `[global]\nfind-links = ${decoys}\nconstraint = ${contradicting}\nindex-url = http://127.0.0.1:9/simple\n`);
    return file;
  };

  before(async () => {
    ws = await makeWorkspace();
    // tinyvec 1.1.0 next to the pinned 1.0.0: only the pins keep it out of tinystats' build.
    const newer = path.join(ws.dir, 'newer');
    await buildExampleSdists(path.join(ws.dir, 'newer-all'), { versions: { tinyvec: '1.1.0' } });
    await mkdir(newer);
    await copyFile(path.join(ws.dir, 'newer-all', 'tinyvec-1.1.0.tar.gz'), path.join(newer, 'tinyvec-1.1.0.tar.gz'));
    await ws.writeReqset('ex', `--no-index\n--find-links ../dist-src\n--find-links ../newer\n${reqsset3Pins()}\n`);

    decoys = path.join(ws.dir, 'decoys');
    await mkdir(decoys);
    // textfmt for pip wheel; tinyvec, preferred for its manylinux tag, for the build requirements pip installs.
    const textfmt = buildWheel({ name: 'textfmt', version: '1.0.0', files: { 'textfmt/__init__.py': 'DECOY = True\n' } });
    const tinyvec = buildWheel({ name: 'tinyvec', version: '1.0.0', tag: 'cp311-cp311-manylinux_2_17_x86_64', files: { 'tinyvec/__init__.py': 'DECOY = True\n' } });
    for (const decoy of [textfmt, tinyvec]) await writeFile(path.join(decoys, decoy.filename), decoy.buffer);
    contradicting = path.join(ws.dir, 'contradicting.txt');
    await writeFile(contradicting, 'textfmt==9.9.9\ntinyvec==1.1.0\n');
  });
  after(() => ws.cleanup());

  it('builds tinystats against the pinned tinyvec though a newer one is in the find-links', async () => {
    plain = await build('plain');
    const venv = path.join(ws.dir, 'venv');
    await run(['python3', '-m', 'venv', venv]);
    await run([path.join(venv, 'bin', 'python'), '-m', 'pip', 'install', '--isolated', '--no-index', '--find-links', path.join(ws.dir, 'out-plain', 'ex', 'debian12', 'wheels'), 'tinystats'], {
      env: { PIP_CONFIG_FILE: '/dev/null' },
    });
    const builtWith = await run([path.join(venv, 'bin', 'python'), '-c', 'import tinystats; print(tinystats.built_with_tinyvec)']);
    assert.equal(builtWith.stdout.trim(), '1.0.0');
  });

  it('PIP_* variables and the pip.conf of PIP_CONFIG_FILE change no wheel', async () => {
    const conf = await writePipConf(path.join(ws.dir, 'env-pip.conf'));
    const hostile = {
      PIP_FIND_LINKS: decoys,
      PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
      PIP_CONSTRAINT: contradicting,
      PIP_CONFIG_FILE: conf,
    };
    assert.deepEqual(await build('env', hostile), plain);
  });

  it('a pip.conf in the user\'s config directory changes no wheel', async () => {
    const home = path.join(ws.dir, 'home');
    await writePipConf(path.join(home, '.config', 'pip', 'pip.conf'));
    // No PIP_* variable at all: one would override the file's setting.
    const unset = Object.fromEntries(Object.keys(process.env).filter((name) => name.startsWith('PIP_')).map((name) => [name, undefined]));
    const user = { ...unset, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
    assert.deepEqual(await build('user', user), plain);
  });
});

describe('a pin list\'s index is the only one pip reads', () => {
  let ws: Workspace;
  let index: IndexServer;
  /** Serves other alpha and beta 1.0 wheels than the pin list's index (a more specific tag, so pip would prefer them). */
  let decoyIndex: IndexServer;
  let decoys: string;

  const build = async (label: string, vars: Record<string, string | undefined> = {}) => {
    const options = { workspace: ws.dir, out: path.join(ws.dir, `out-${label}`), wheelCache: path.join(ws.dir, `cache-${label}`), jobs: 2 };
    const result = await withEnv(vars, () => api.wheels('ex', 'debian12', options));
    assert.ok(result.ok, JSON.stringify(result.problems));
    const hashes = await Promise.all(result.wheels.map(async (w) => [w.filename, await sha256File(path.join(result.wheelsDir, w.filename))] as const));
    return Object.fromEntries(hashes);
  };

  before(async () => {
    ws = await makeWorkspace();
    const files = path.join(ws.dir, 'index-files');
    decoys = path.join(ws.dir, 'decoys');
    await mkdir(files);
    await mkdir(decoys);
    for (const name of ['alpha', 'beta']) {
      const real = buildWheel({ name, version: '1.0', files: { [`${name}/__init__.py`]: 'REAL = True\n' } });
      const decoy = buildWheel({ name, version: '1.0', tag: 'cp311-none-any', files: { [`${name}/__init__.py`]: 'DECOY = True\n' } });
      await writeFile(path.join(files, real.filename), real.buffer);
      await writeFile(path.join(decoys, decoy.filename), decoy.buffer);
    }
    index = await serveIndex(files, { api: 'html' });
    decoyIndex = await serveIndex(decoys, { api: 'json' });
    await ws.writeReqset('ex', `--index-url ${index.origin}/simple/\nalpha==1.0\nbeta==1.0\n`);
  });
  after(async () => {
    await index.close();
    await decoyIndex.close();
    await ws.cleanup();
  });

  it('PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_CONSTRAINT and a pip.conf naming another index change no wheel', async () => {
    const plain = await build('plain');
    assert.deepEqual(Object.keys(plain).sort(), ['alpha-1.0-py3-none-any.whl', 'beta-1.0-py3-none-any.whl']);
    const conf = path.join(ws.dir, 'pip.conf');
    const contradicting = path.join(ws.dir, 'contradicting.txt');
    await writeFile(conf, `[global]\nindex-url = ${decoyIndex.origin}/simple/\nextra-index-url = ${decoyIndex.origin}/simple/\nfind-links = ${decoys}\n`);
    await writeFile(contradicting, 'alpha==9.9\n');
    const hostile = {
      PIP_INDEX_URL: `${decoyIndex.origin}/simple/`,
      PIP_EXTRA_INDEX_URL: `${decoyIndex.origin}/simple/`,
      PIP_FIND_LINKS: decoys,
      PIP_CONSTRAINT: contradicting,
      PIP_CONFIG_FILE: conf,
    };
    assert.deepEqual(await build('env', hostile), plain);
    assert.deepEqual(decoyIndex.requests, [], 'the decoy index was never asked');
  });
});
