/**
 * Build hooks for real: packaging/hooks/<distribution>.sh of the workspace.
 * In the podman builder, BUILD_PACKAGES_DEB (libyaml-dev, not in the builder
 * image) is installed in a derived image and what pre_build exports reaches
 * that package's build and no other's; the hook is in that package's cache
 * key only. On the local builder a hook's packages must already be
 * installed: reqset checks, never installs.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { sha256 } from '../../src/fsutil.ts';
import type { ProgressEvent } from '../../src/progress.ts';
import { run } from '../../src/run.ts';
import type { WheelRecord } from '../../src/wheels/wheelhouse.ts';
import { engineRun } from '../../src/builders/engine.ts';
import { buildWheels, requirePodman, TEST_BUILDER_IMAGE, testBuilderImage, testEngine } from '../helpers/podman.ts';
import { makeWorkspace, type Workspace } from '../helpers/workspace.ts';
import { readWheelMember } from '../helpers/wheel-member.ts';

/** A one-module sdist whose setup.py records $PROBE_FLAVOUR in the package (and, with needsYaml, fails without yaml.h). */
async function probeSdist(dir: string, name: string, options: { needsYaml?: boolean } = {}): Promise<void> {
  const root = path.join(dir, 'src', `${name}-1.0`);
  await mkdir(path.join(root, name), { recursive: true });
  await writeFile(path.join(root, name, '__init__.py'), 'from ._built import FLAVOUR\n');
  await writeFile(path.join(root, 'pyproject.toml'), '[build-system]\nrequires = ["setuptools", "wheel"]\nbuild-backend = "setuptools.build_meta"\n');
  await writeFile(path.join(root, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
  await writeFile(
    path.join(root, 'setup.py'),
    [
      'import os, sys',
      'from setuptools import setup',
      ...(options.needsYaml ? ['if not os.path.exists("/usr/include/yaml.h"):', '    sys.exit("yaml.h is missing: libyaml-dev is not installed in this builder")'] : []),
      `with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "${name}", "_built.py"), "w") as f:`,
      '    f.write("FLAVOUR = %r\\n" % os.environ.get("PROBE_FLAVOUR"))',
      `setup(name="${name}", version="1.0", packages=["${name}"])`,
      '',
    ].join('\n'),
  );
  await run(['tar', '--sort=name', '--mtime=2020-01-01', '--owner=0', '--group=0', '-C', path.join(dir, 'src'), '-czf', path.join(dir, `${name}-1.0.tar.gz`), `${name}-1.0`]);
}

const flavour = async (wheels: WheelRecord[], key: string) => {
  const wheel = wheels.find((w) => w.pin.key === key);
  assert.ok(wheel, key);
  return (await readWheelMember(wheel.path, `${key.replace(/-/g, '_')}/_built.py`)).trim();
};

async function cacheInputs(cache: string): Promise<Map<string, { extra: Record<string, string> }>> {
  const files = (await readdir(path.join(cache, 'wheels'), { recursive: true })).filter((f) => f.endsWith('inputs.json'));
  const entries = await Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(cache, 'wheels', f), 'utf8')) as { key: string; extra: Record<string, string> }));
  return new Map(entries.map((e) => [e.key, e]));
}

async function probeWorkspace(hook: string): Promise<Workspace> {
  const ws = await makeWorkspace();
  const probes = path.join(ws.dir, 'probes');
  await mkdir(probes);
  await probeSdist(probes, 'probe_yaml', { needsYaml: true });
  await probeSdist(probes, 'probe_plain');
  for (const whl of ['setuptools-65.5.0-py3-none-any.whl', 'wheel-0.38.4-py3-none-any.whl']) await copyFile(path.join(ws.dist, whl), path.join(probes, whl));
  await ws.writeReqset('probes', '--no-index\n--find-links ../probes\nsetuptools==65.5.0\nwheel==0.38.4\nprobe-yaml==1.0\nprobe-plain==1.0\n');
  await mkdir(path.join(ws.dir, 'packaging', 'hooks'), { recursive: true });
  await writeFile(path.join(ws.dir, 'packaging', 'hooks', 'Probe.YAML.sh'), hook);
  return ws;
}

const HOOK = [
  '# Build hook of probe-yaml: needs libyaml headers, gets a flavour.',
  'BUILD_PACKAGES_DEB="libyaml-dev"',
  'BUILD_PACKAGES_RPM="libyaml-devel"',
  'pre_build() {',
  '  export PROBE_FLAVOUR="hooked-$REQSET_VERSION-$REQSET_TARGET"',
  '}',
  '',
].join('\n');


describe('build hooks in the podman builder', { timeout: 30 * 60_000 }, () => {
  let ws: Workspace;
  before(async () => {
    await requirePodman();
    await testBuilderImage();
    ws = await probeWorkspace(HOOK);
  });
  after(() => ws?.cleanup());

  it('installs the hook\'s packages for its package only, and its exports reach that build only', async () => {
    const events: ProgressEvent[] = [];
    const wheels = await buildWheels(ws, 'probes', path.join(ws.dir, 'wheels-1'), { builder: 'podman', builderImage: TEST_BUILDER_IMAGE, events });
    assert.equal(await flavour(wheels, 'probe-yaml'), "FLAVOUR = 'hooked-1.0-debian12'");
    assert.equal(await flavour(wheels, 'probe-plain'), 'FLAVOUR = None');
    // The derived image with libyaml-dev (made now, or kept by podman from an earlier run).
    const inputs = await cacheInputs(ws.cache);
    const hookSha = sha256(await readFile(path.join(ws.dir, 'packaging', 'hooks', 'Probe.YAML.sh')));
    assert.deepEqual(inputs.get('probe-yaml')?.extra, { hook: hookSha });
    assert.deepEqual(inputs.get('probe-plain')?.extra, {});
    const log = await readFile(path.join(ws.cache, 'logs', 'probes', 'debian12', 'probe-yaml-1.0.log'), 'utf8');
    assert.match(log.split('\n')[0] ?? '', / --env REQSET_HOOK .* [0-9a-f]{64} bash -c /);
    assert.ok(log.split('\n')[0]?.includes(`--mount type=bind,source=${path.join(ws.dir, 'packaging', 'hooks')},target=${path.join(ws.dir, 'packaging', 'hooks')},readonly`));
    // Without the hook's packages that build would fail: the builder image itself has no yaml.h.
    const engine = await testEngine();
    const plain = await engineRun(engine, ['run', '--rm', '--pull=never', '--network=none', TEST_BUILDER_IMAGE, 'test', '-e', '/usr/include/yaml.h'], { allowFailure: true });
    assert.equal(plain.exitCode, 1);
    assert.doesNotMatch((await readFile(path.join(ws.cache, 'logs', 'probes', 'debian12', 'probe-plain-1.0.log'), 'utf8')).split('\n')[0] ?? '', /REQSET_HOOK/);
  });

  it('a changed hook rebuilds its package only', async () => {
    await writeFile(path.join(ws.dir, 'packaging', 'hooks', 'Probe.YAML.sh'), HOOK.replace('hooked-', 'rehooked-'));
    const wheels = await buildWheels(ws, 'probes', path.join(ws.dir, 'wheels-2'), { builder: 'podman', builderImage: TEST_BUILDER_IMAGE });
    const origin = Object.fromEntries(wheels.map((w) => [w.pin.key, w.origin]));
    assert.equal(origin['probe-yaml'], 'built');
    assert.equal(origin['probe-plain'], 'cached');
    assert.equal(await flavour(wheels, 'probe-yaml'), "FLAVOUR = 'rehooked-1.0-debian12'");
  });
});

describe('build hooks on the local builder', { timeout: 10 * 60_000 }, () => {
  it('refuses packages that are not installed, and never installs them', async () => {
    const ws = await probeWorkspace('BUILD_PACKAGES="reqset-test-no-such-package bash"\n');
    try {
      await assert.rejects(buildWheels(ws, 'probes', path.join(ws.dir, 'wheels'), { builder: 'local' }), (error: unknown) => {
        assert.ok(error instanceof InputError, String(error));
        assert.match(error.message, /Probe\.YAML\.sh: the build of probe-yaml needs system packages that are not installed on this machine: reqset-test-no-such-package\./);
        assert.match(error.message, /never installs packages: install them \(apt-get install reqset-test-no-such-package\) or build in a container \(--builder podman\)/);
        return true;
      });
    } finally {
      await ws.cleanup();
    }
  });

  it('with its packages installed, pre_build exports reach its build only', async () => {
    // yaml.h is not needed here: the local probe only records the flavour.
    const ws = await probeWorkspace('BUILD_PACKAGES_DEB="bash"\npre_build() { export PROBE_FLAVOUR="local-$REQSET_DISTRIBUTION"; export PROBE_EXTRA=1; }\n');
    try {
      await probeSdist(path.join(ws.dir, 'probes'), 'probe_yaml');
      const wheels = await buildWheels(ws, 'probes', path.join(ws.dir, 'wheels'), { builder: 'local' });
      assert.equal(await flavour(wheels, 'probe-yaml'), "FLAVOUR = 'local-probe-yaml'");
      assert.equal(await flavour(wheels, 'probe-plain'), 'FLAVOUR = None');
    } finally {
      await ws.cleanup();
    }
  });
});
