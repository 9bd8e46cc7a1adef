/**
 * Builder Containerfiles against the target YAML (the source of truth): the
 * checked-in docker/<target>/Containerfile of every built-in target is the
 * generated one, takes its base as `ARG BASE=<builder.base>`, installs
 * exactly the target's build packages with the target's package manager and
 * checks the target's python.path. (Building them needs their registries: only
 * debian12 is built for real, in test/integration/containerfiles.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { builderContainerfile, installCommand, writeBuilderContainerfiles } from '../../src/builders/containerfile.ts';
import { mountArguments } from '../../src/builders/builder.ts';
import { InputError } from '../../src/errors.ts';
import { loadTargets, TOOL_ROOT } from '../../src/targets/target.ts';

const targets = await loadTargets(path.join(TOOL_ROOT, '.no-workspace'));

/** The packages named by the RUN line that installs packages. */
function installed(text: string): { manager: string; packages: string[] } {
  const run = text.split(/\n(?=[A-Z]+ )/).find((instruction) => /^RUN (apt-get update|dnf install)/.test(instruction));
  assert.ok(run, 'an install RUN instruction');
  const flat = run.replace(/\\\n/g, ' ');
  const m = /(apt-get install|dnf install)((?:\s+-\S+)*)\s+([^&]+)/.exec(flat.replace(/apt-get update &&\s+DEBIAN_FRONTEND=noninteractive /, ''));
  assert.ok(m?.[3], flat);
  return { manager: m[1] ?? '', packages: m[3].trim().split(/\s+/) };
}

describe('builder Containerfiles', () => {
  it('every built-in target has one, and it is the generated text (node --import tsx docker/generate.ts)', async () => {
    assert.deepEqual(targets.map((t) => t.name).sort(), ['debian12', 'el8', 'el9', 'el9-py311', 'fedora', 'ubuntu2404']);
    assert.deepEqual(await writeBuilderContainerfiles({ check: true }), []);
  });

  for (const target of targets) {
    it(`${target.name}: BASE, exactly its build packages, its Python`, async () => {
      const text = await readFile(path.join(TOOL_ROOT, target.builder.containerfile), 'utf8');
      assert.equal(target.builder.containerfile, `docker/${target.name}/Containerfile`);
      assert.match(text, new RegExp(`^ARG BASE=${target.builder.base?.replace(/[.]/g, '\\.')}$`, 'm'));
      assert.match(text, /^FROM \$\{BASE\}$/m);
      const { manager, packages } = installed(text);
      assert.equal(manager, target.format === 'deb' ? 'apt-get install' : 'dnf install');
      assert.deepEqual(packages, target.packages.build, 'installs exactly packages.build');
      const version = target.python.version.split('.');
      assert.ok(text.includes(`RUN ${target.python.path} -c 'import sys; assert sys.version_info[:2] == (${version[0]}, ${version[1]})`), 'checks python.path is the target version');
      assert.ok(text.includes(`${target.python.path} -m pip --version`), 'checks pip');
      assert.ok(path.basename(target.python.path).startsWith(`python${target.python.version}`));
      // Every build list names pip for that interpreter and a C compiler.
      assert.ok(target.packages.build.some((p) => /pip/.test(p)), 'pip');
      assert.ok(target.packages.build.some((p) => p === 'gcc' || p === 'build-essential'), 'a compiler');
    });
  }

  it('a target without builder.base cannot be generated', () => {
    const [first] = targets;
    assert.ok(first);
    assert.throws(() => builderContainerfile({ ...first, builder: { image: 'x', containerfile: 'docker/x/Containerfile' } }), /builder\.base is not set/);
  });

  it('install commands leave no caches and refuse names that are not package names', () => {
    assert.equal(installCommand('deb', ['a', 'b']), 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends a b && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin');
    assert.equal(installCommand('rpm', ['a']), 'dnf install -y --setopt=install_weak_deps=False a && dnf clean all');
    assert.throws(() => installCommand('deb', ['a && curl x']), InputError);
  });
});

describe('container mounts', () => {
  it('each path at the same path, read-only but the work directory, once, missing ones skipped', () => {
    const exists = (p: string) => p !== '/missing';
    assert.deepEqual(mountArguments(['/ws/dist', '/tmp/w', '/missing', '/ws/dist/'], ['/tmp/w'], exists), [
      '--mount', 'type=bind,source=/tmp/w,target=/tmp/w',
      '--mount', 'type=bind,source=/ws/dist,target=/ws/dist,readonly',
    ]);
  });

  it('refuses paths the --mount syntax cannot carry', () => {
    assert.throws(() => mountArguments(['/a,b'], [], () => true), /comma/);
  });
});
