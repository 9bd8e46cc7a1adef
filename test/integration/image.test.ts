/**
 * Wheelhouse images: `<out>/<reqset>/<target>/image/` gets a FROM-scratch
 * Containerfile and the wheels as its build context; with podman the image
 * holds exactly the wheels under /wheels (podman create + export | tar t),
 * and a multi-stage build can COPY them out.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engineRun } from '../../src/builders/engine.ts';
import { InputError } from '../../src/errors.ts';
import { run } from '../../src/run.ts';
import { wheelhouseImage } from '../../src/image/index.ts';
import { buildExampleSdists } from '../../scripts/example-sdists.ts';
import { ENGINE_STATE, requirePodman, testBase, testEngine } from '../helpers/podman.ts';

const WHEELS = ['setuptools-65.5.0-py3-none-any.whl', 'wheel-0.38.4-py3-none-any.whl'];

/** The two bootstrap wheels the example script collects: real wheels, no pip build needed. */
async function exampleWheels(dir: string): Promise<string> {
  const out = path.join(dir, 'example-dist');
  await buildExampleSdists(out);
  return out;
}

describe('wheelhouse image', { timeout: 10 * 60_000 }, () => {
  let dir: string;
  let wheelsDir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reqset-image-'));
    wheelsDir = path.join(dir, 'dist', 'demo', 'debian12', 'wheels');
    await mkdir(wheelsDir, { recursive: true });
    const examples = await exampleWheels(dir);
    for (const w of WHEELS) await copyFile(path.join(examples, w), path.join(wheelsDir, w));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes the Containerfile and the build context (engine none)', async () => {
    const result = await wheelhouseImage({ reqset: 'demo', target: 'debian12', wheelsDir, outDir: path.join(dir, 'dist'), engine: 'none' });
    assert.equal(result.dir, path.join(dir, 'dist', 'demo', 'debian12', 'image'));
    assert.equal(result.tag, 'localhost/demo-wheelhouse:debian12');
    assert.equal(result.engine, 'none');
    assert.equal(result.id, undefined);
    assert.deepEqual(result.wheels, WHEELS);
    const text = await readFile(result.containerfile, 'utf8');
    assert.match(text, /^FROM scratch$/m);
    assert.match(text, /^COPY wheels\/ \/wheels\/$/m);
    assert.match(text, /^LABEL io\.reqset\.reqset="demo" io\.reqset\.target="debian12"/m);
    assert.deepEqual((await readdir(path.join(result.dir, 'wheels'))).sort(), WHEELS);
    assert.equal((await stat(path.join(result.dir, 'wheels', WHEELS[0] ?? ''))).ino, (await stat(path.join(wheelsDir, WHEELS[0] ?? ''))).ino, 'hard links, not copies');
    assert.match(await readFile(path.join(result.dir, 'README.md'), 'utf8'), /COPY --from=localhost\/demo-wheelhouse:debian12 \/wheels \/wheels/);
    assert.match(result.buildCommand, /^podman build -t localhost\/demo-wheelhouse:debian12 --timestamp \d+ --layers=false -f /);
  });

  it('no wheels, or a bad tag, is bad input', async () => {
    await assert.rejects(wheelhouseImage({ reqset: 'demo', target: 'el9', wheelsDir: path.join(dir, 'nothing'), outDir: dir, engine: 'none' }), (e: unknown) => e instanceof InputError && /no wheels: make them first \(reqset wheels demo --target el9\)/.test(e.message));
    await assert.rejects(wheelhouseImage({ reqset: 'demo', target: 'debian12', wheelsDir, outDir: dir, engine: 'none', tag: 'Not A Tag' }), InputError);
  });
});

describe('wheelhouse image built with podman', { timeout: 10 * 60_000 }, () => {
  let dir: string;
  const tag = 'localhost/reqset-test-demo-wheelhouse:debian12';
  let id: string | undefined;
  before(async () => {
    await requirePodman();
    dir = await mkdtemp(path.join(tmpdir(), 'reqset-image-'));
    await mkdir(path.join(dir, 'wheels'));
    const examples = await exampleWheels(dir);
    for (const w of WHEELS) await copyFile(path.join(examples, w), path.join(dir, 'wheels', w));
  });
  after(async () => {
    const engine = await testEngine();
    await engineRun(engine, ['rmi', '--force', id ?? tag], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  });

  it('holds exactly the wheels, and a multi-stage build copies them out', async () => {
    const result = await wheelhouseImage({ reqset: 'demo', target: 'debian12', wheelsDir: path.join(dir, 'wheels'), outDir: path.join(dir, 'dist'), engine: 'podman', tag, stateDir: ENGINE_STATE });
    assert.equal(result.engine, 'podman');
    assert.ok(result.id);
    id = result.id;
    const again = await wheelhouseImage({ reqset: 'demo', target: 'debian12', wheelsDir: path.join(dir, 'wheels'), outDir: path.join(dir, 'dist'), engine: 'podman', tag, stateDir: ENGINE_STATE });
    assert.equal(again.id, result.id, 'the same wheels give the same image (fixed timestamps)');
    const engine = await testEngine();
    const container = (await engineRun(engine, ['create', '--pull=never', tag, '/none'])).stdout.trim();
    try {
      const tarball = path.join(dir, 'export.tar');
      await engineRun(engine, ['export', '-o', tarball, container]);
      const listed = (await run(['tar', '-tf', tarball])).stdout.split('\n').filter(Boolean).map((l) => l.replace(/^\.\//, ''));
      assert.deepEqual(listed.sort(), ['wheels/', ...WHEELS.map((w) => `wheels/${w}`)], 'exactly the wheels, nothing else');
    } finally {
      await engineRun(engine, ['rm', '--force', container], { allowFailure: true });
    }

    // Multi-stage use, as the README says.
    const consumer = path.join(dir, 'consumer');
    await mkdir(consumer);
    await writeFile(path.join(consumer, 'Containerfile'), `FROM ${tag} AS wheels\nFROM ${await testBase()}\nCOPY --from=wheels /wheels /wheels\nRUN ls /wheels > /listing\n`);
    const consumerTag = 'localhost/reqset-test-demo-consumer';
    try {
      await engineRun(engine, ['build', '--pull=never', '-t', consumerTag, consumer]);
      const listing = await engineRun(engine, ['run', '--rm', '--pull=never', '--network=none', consumerTag, 'cat', '/listing']);
      assert.deepEqual(listing.stdout.trim().split('\n'), WHEELS);
    } finally {
      await engineRun(engine, ['rmi', '--force', consumerTag], { allowFailure: true });
    }
  });
});
