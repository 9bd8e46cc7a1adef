/**
 * The debian12 builder image for real: docker/debian12/Containerfile built
 * with podman FROM a local Debian 12 base (the debootstrapped test root; its
 * apt-get reaches Debian's mirror like the host does). The image has the
 * target's python.path at the target's version, pip and a compiler; building
 * it again finds it up to date. (The other targets' bases come from
 * registries this machine cannot reach: their Containerfiles are checked
 * against their YAML in test/unit/builders-containerfile.test.ts.)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { buildBuilderImage } from '../../src/builders/builder.ts';
import { engineRun, inspectImage } from '../../src/builders/engine.ts';
import { loadTarget, TOOL_ROOT } from '../../src/targets/target.ts';
import { ENGINE_STATE, requirePodman, TEST_BASE, TEST_BUILDER_IMAGE, testBuilderImage, testEngine } from '../helpers/podman.ts';

describe('debian12 builder image', { timeout: 30 * 60_000 }, () => {
  before(async () => {
    await requirePodman();
    await testBuilderImage();
  });

  it('has the target interpreter, pip and a C compiler, and reqset labels', async () => {
    const target = await loadTarget(path.join(TOOL_ROOT, '.no-workspace'), 'debian12');
    const engine = await testEngine();
    const result = await engineRun(engine, [
      'run', '--rm', '--pull=never', '--network=none', TEST_BUILDER_IMAGE, 'bash', '-c',
      `${target.python.path} -c 'import sys; print("%d.%d" % sys.version_info[:2])' && ${target.python.path} -m pip --version && gcc --version | head -1 && test -f /usr/include/python${target.python.version}/Python.h && pwd`,
    ]);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines[0], target.python.version);
    assert.match(lines[1] ?? '', /^pip \d+/);
    assert.match(lines[2] ?? '', /^gcc /);
    assert.equal(lines[3], '/build', 'the world-writable work directory');
    const info = await inspectImage(engine, TEST_BUILDER_IMAGE);
    assert.equal(info?.labels['io.reqset.target'], 'debian12');
    assert.equal(info?.labels['io.reqset.base'], TEST_BASE);
  });

  it('is not rebuilt while its Containerfile and base are the same', async () => {
    const again = await buildBuilderImage({
      target: await loadTarget(path.join(TOOL_ROOT, '.no-workspace'), 'debian12'),
      engine: 'podman',
      base: TEST_BASE,
      image: TEST_BUILDER_IMAGE,
      stateDir: ENGINE_STATE,
    });
    assert.equal(again.built, false);
    assert.equal(again.id, (await testBuilderImage()).id);
    assert.match(again.command, /^podman build -t localhost\/reqset-test-builder-debian12 -f \S+\/docker\/debian12\/Containerfile --build-arg BASE=localhost\/reqset-test-bookworm /);
  });
});
