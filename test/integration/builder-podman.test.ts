/**
 * `--builder podman`: the example reqset's C extensions (tinyvec, and
 * tinystats compiled against the pinned tinyvec) built with pip inside the
 * debian12 builder image, offline (--network=none), every path mapped to the
 * same path; the wheels work in a debootstrapped Debian 12 root; the image ID
 * is in the cache key; a missing image or engine is one clear error.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { makeBuilder } from '../../src/builders/builder.ts';
import { ToolError } from '../../src/errors.ts';
import type { ProgressEvent } from '../../src/progress.ts';
import { buildWheels, requirePodman, TEST_BASE, TEST_BUILDER_IMAGE, testBuilderImage } from '../helpers/podman.ts';
import { freshRoot } from '../helpers/target-root.ts';
import { makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';


describe('wheels built in the builder image with podman', { timeout: 40 * 60_000 }, () => {
  let ws: Workspace;
  before(async () => {
    await requirePodman();
    await testBuilderImage();
    ws = await makeWorkspace();
    await ws.writeReqset('ex', `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
  });
  after(() => ws?.cleanup());

  it('builds the C extensions inside the image, and they run on Debian 12', async () => {
    const events: ProgressEvent[] = [];
    const wheelsDir = path.join(ws.dir, 'wheels-podman');
    const wheels = await buildWheels(ws, 'ex', wheelsDir, { builder: 'podman', builderImage: TEST_BUILDER_IMAGE, events });
    const origin = Object.fromEntries(wheels.map((w) => [w.pin.key, w.origin]));
    assert.deepEqual(origin, { setuptools: 'collected', wheel: 'collected', textfmt: 'built', tinyvec: 'built', tinystats: 'built', 'an-example-pypi-project': 'built' });
    const tinystats = wheels.find((w) => w.pin.key === 'tinystats');
    assert.equal(tinystats?.filename, 'tinystats-1.0.0-cp311-cp311-linux_x86_64.whl');

    // The cache entries record where they were built: the image, by ID, and its interpreter.
    const image = await testBuilderImage();
    const inputs = await Promise.all(
      (await readdir(path.join(ws.cache, 'wheels'), { recursive: true })).filter((f) => f.endsWith('inputs.json')).map(async (f) => JSON.parse(await readFile(path.join(ws.cache, 'wheels', f), 'utf8')) as { key: string; builder: string }),
    );
    assert.equal(inputs.length, 4);
    for (const entry of inputs) assert.equal(entry.builder, `podman:${image.id} /usr/bin/python3.11 3.11.2`, entry.key);
    // The pip log names the podman command: no network, the work directory read-write, the rest read-only.
    const log = await readFile(path.join(ws.cache, 'logs', 'ex', 'debian12', 'tinystats-1.0.0.log'), 'utf8');
    const command = log.split('\n')[0] ?? '';
    assert.match(command, /podman (--runtime \S+ )?run --rm --pull=never --security-opt label=disable --network=none /);
    assert.match(command, new RegExp(`--mount type=bind,source=${wheelsDir},target=${wheelsDir},readonly`));
    const work = /--workdir (\S+) /.exec(command)?.[1] ?? '';
    assert.match(work, /\/reqset-pip-\d+-\w+$/);
    assert.ok(command.includes(`--mount type=bind,source=${work},target=${work} `), 'the work directory, read-write');
    assert.match(command, /--env PIP_CONFIG_FILE --env PIP_CONSTRAINT --env PYTHONHASHSEED --env SOURCE_DATE_EPOCH [0-9a-f]{64} \/usr\/bin\/python3\.11 -m pip wheel --no-deps --isolated /);

    // A Debian 12 root with nothing but python3 and venv runs the application from these wheels.
    const root = await freshRoot();
    try {
      await mkdir(path.join(root.dir, 'wheels'));
      for (const w of wheels) await copyFile(w.path, path.join(root.dir, 'wheels', w.filename));
      await root.exec(['python3', '-m', 'venv', '/venv']);
      await root.exec(['/venv/bin/pip', 'install', '--no-index', '--find-links', '/wheels', 'an_example_pypi_project']);
      const out = await root.exec(['/venv/bin/an-example']);
      assert.match(out.stdout, /norm=5\.0 cosine=1\.0/);
      const builtWith = await root.exec(['/venv/bin/python', '-c', 'import tinystats; print(tinystats.built_with_tinyvec)']);
      assert.equal(builtWith.stdout.trim(), '1.0.0');
    } finally {
      await root.cleanup();
    }
  });

  it('a second run with the same image rebuilds nothing; the local builder does not reuse container wheels', async () => {
    const events: ProgressEvent[] = [];
    const again = await buildWheels(ws, 'ex', path.join(ws.dir, 'wheels-again'), { builder: 'podman', builderImage: TEST_BUILDER_IMAGE, events });
    assert.ok(again.every((w) => w.origin !== 'built'));
    assert.equal(events.filter((e) => e.state === 'start').length, 0);
    const local = await buildWheels(ws, 'ex', path.join(ws.dir, 'wheels-local'), { builder: 'local' });
    assert.equal(local.find((w) => w.pin.key === 'tinyvec')?.origin, 'built', 'another builder, another cache key');
  });

  it('--builder-base makes the image when it is missing or stale (here: up to date, not rebuilt)', async () => {
    const events: ProgressEvent[] = [];
    const wheels = await buildWheels(ws, 'ex', path.join(ws.dir, 'wheels-base'), { builder: 'podman', builderImage: TEST_BUILDER_IMAGE, builderBase: TEST_BASE, events });
    assert.ok(wheels.every((w) => w.origin !== 'built'));
    assert.equal(events.filter((e) => e.stage === 'builder').length, 0, 'the image was up to date');
  });

  it('a missing builder image is one error that says how to make it', async () => {
    const missing = 'localhost/reqset-test-no-such-image';
    await assert.rejects(buildWheels(ws, 'ex', path.join(ws.dir, 'wheels-missing'), { builder: 'podman', builderImage: missing, cache: path.join(ws.dir, 'cache-missing') }), (error: unknown) => {
      assert.ok(error instanceof ToolError, String(error));
      assert.doesNotMatch(error.message, /wheels failed/);
      assert.match(error.message, /^the builder image localhost\/reqset-test-no-such-image of target debian12 is not in podman's image store/);
      assert.match(error.message, /pass --builder-base IMAGE here to have reqset make it/);
      assert.match(error.message, /podman build -t localhost\/reqset-test-no-such-image --build-arg BASE=docker\.io\/library\/debian:bookworm -f \S+docker\/debian12\/Containerfile \S+docker\/debian12/);
      return true;
    });
  });

  it('an image without the target interpreter is refused before any build', async () => {
    const target = (await api.prepareJob('ex', 'debian12', { workspace: ws.dir })).target;
    const builder = makeBuilder({ kind: 'podman', target, image: TEST_BUILDER_IMAGE, python: '/usr/bin/python3.9', stateDir: ws.cache });
    await assert.rejects(builder.prepare(), /has no working \/usr\/bin\/python3\.9 \(the target's python\.path, from --python\)/);
  });
});
