/**
 * Wheel layouts in the package plans: where the wheel is on the target, what
 * the post-installs are given, and what does not change between layouts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { PackagePlan } from '../../src/packagers/packager.ts';
import { debControl } from '../../src/packagers/deb/control.ts';
import {
  DEFAULT_WHEEL_LAYOUT,
  WHEEL_LAYOUTS,
  planEndpointPackage,
  planWheelPackage,
  storedZipName,
  wheelPayloadPath,
  type WheelLayout,
  type WheelPackageInput,
} from '../../src/packagers/plan.ts';
import { rpmSpec } from '../../src/packagers/rpm/spec.ts';
import { parseWheelFilename } from '../../src/python/tags.ts';
import { parseTarget } from '../../src/targets/target.ts';

const targetOf = (name: string) => parseTarget(readFileSync(path.resolve(import.meta.dirname, `../../packaging/targets/${name}.yml`), 'utf8'), `${name}.yml`);
const el9 = targetOf('el9-py311');
const debian = targetOf('debian12');

const FILE = 'fastmath-2.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl';
const STEM = FILE.slice(0, -'.whl'.length);

function input(layout?: WheelLayout, extra: Partial<WheelPackageInput> = {}): WheelPackageInput {
  const name = parseWheelFilename(FILE);
  assert.ok(name);
  return {
    reqset: 'orbit',
    target: el9,
    key: 'fastmath',
    version: '2.1.0',
    wheel: { filename: FILE, name },
    dependencies: [{ key: 'numpy', specifier: '>=1.22' }],
    compiledAgainst: [{ key: 'numpy', version: '1.26.4' }],
    bundledLibraries: ['fastmath.libs/libquadmath-96973f99.so.0.0.0'],
    ...(layout ? { layout } : {}),
    ...extra,
  };
}

const endpoint = (layout?: WheelLayout, installer: 'native' | 'pip' = 'native') =>
  planEndpointPackage({
    reqset: 'orbit',
    target: el9,
    spec: { name: 'orbit', summary: 'Orbital report tool', scripts: ['orbit-report'], requires: { rpm: [], deb: [] } },
    distribution: { key: 'orbit-report', name: 'orbit-report', version: '1.2', topLevel: ['orbit'] },
    closure: [
      { key: 'orbit-report', version: '1.2', filename: 'orbit_report-1.2-py3-none-any.whl', package: { name: 'orbit-wheel-orbit-report', version: { pep440: '1.2', epoch: 0, release: '3' } } },
      { key: 'fastmath', version: '2.1.0', filename: FILE, package: { name: 'orbit-wheel-fastmath', version: { pep440: '2.1.0', epoch: 0, release: '1' } } },
    ],
    installer,
    ...(layout ? { layout } : {}),
  });

/** Everything of a plan but what a layout is allowed to change. */
const invariant = (plan: PackagePlan) => ({ ...plan, description: undefined, contents: undefined, scriptlets: undefined });

describe('wheel layouts', () => {
  it('are unpacked (the default) and stored-zip', () => {
    assert.deepEqual(WHEEL_LAYOUTS, ['unpacked', 'stored-zip']);
    assert.equal(DEFAULT_WHEEL_LAYOUT, 'unpacked');
  });

  it('put the wheel at /opt/<reqset>/wheels/<stem>/ or /opt/<reqset>/wheels/<stem>.zip', () => {
    assert.equal(wheelPayloadPath('orbit', FILE), `/opt/orbit/wheels/${STEM}`);
    assert.equal(wheelPayloadPath('orbit', FILE, 'unpacked'), `/opt/orbit/wheels/${STEM}`);
    assert.equal(wheelPayloadPath('orbit', FILE, 'stored-zip'), `/opt/orbit/wheels/${STEM}.zip`);
    assert.equal(`/opt/orbit/wheels/${storedZipName(FILE)}`, wheelPayloadPath('orbit', FILE, 'stored-zip'));
  });
});

describe('wheel package plan per layout', () => {
  it('without a layout is exactly the unpacked plan', () => {
    assert.deepEqual(planWheelPackage(input()), planWheelPackage(input('unpacked')));
  });

  it('unpacked: owns the tree, rebuilds the wheel from it', () => {
    const plan = planWheelPackage(input('unpacked'));
    assert.deepEqual(plan.contents, [`/opt/orbit/wheels/${STEM}`]);
    assert.equal(plan.scriptlets.afterInstall, `/usr/bin/python3.11 /opt/orbit/runtime/reqset_runtime.pyz rebuild-wheel /opt/orbit/wheels/${STEM} /opt/orbit/wheelhouse >/dev/null`);
    assert.match(plan.description, /unpacked under/);
  });

  it('stored-zip: owns the one zip file, rebuilds the wheel from it', () => {
    const plan = planWheelPackage(input('stored-zip'));
    assert.deepEqual(plan.contents, [`/opt/orbit/wheels/${STEM}.zip`]);
    assert.equal(plan.scriptlets.afterInstall, `/usr/bin/python3.11 /opt/orbit/runtime/reqset_runtime.pyz rebuild-wheel /opt/orbit/wheels/${STEM}.zip /opt/orbit/wheelhouse >/dev/null`);
    assert.equal(plan.scriptlets.afterRemove, `rm -f /opt/orbit/wheelhouse/${FILE}`);
    assert.deepEqual(plan.ghostFiles, [`/opt/orbit/wheelhouse/${FILE}`]);
    assert.match(plan.description, new RegExp(`stored uncompressed in /opt/orbit/wheels/${STEM}\\.zip`));
  });

  it('the layout changes nothing else: name, version, arch, requires, private libraries', () => {
    assert.deepEqual(invariant(planWheelPackage(input('stored-zip'))), invariant(planWheelPackage(input('unpacked'))));
  });

  it('system requirements found outside the payload come after the wheel dependencies', () => {
    const plan = planWheelPackage(input('stored-zip', { systemRequires: ['libc.so.6()(64bit)', 'libm.so.6(GLIBC_2.29)(64bit)'] }));
    assert.deepEqual(plan.requires.slice(-3), [
      { kind: 'pydist', reqset: 'orbit', key: 'numpy', bounds: [{ op: '=', epoch: 0, upstream: '1.26.4' }] },
      { kind: 'system', text: 'libc.so.6()(64bit)' },
      { kind: 'system', text: 'libm.so.6(GLIBC_2.29)(64bit)' },
    ]);
  });

  it('the RPM spec lists the zip in %files and runs the rebuild from it in %post', () => {
    const spec = rpmSpec(planWheelPackage(input('stored-zip', { systemRequires: ['libc.so.6()(64bit)'] })), { root: '/tmp/stage/root', epoch: 1700000000, packager: 'reqset <r@x.invalid>' });
    const files = spec.slice(spec.indexOf('%files'));
    assert.match(files, new RegExp(`^/opt/orbit/wheels/${STEM}\\.zip$`, 'm'));
    assert.doesNotMatch(files, new RegExp(`^/opt/orbit/wheels/${STEM}$`, 'm'));
    assert.match(spec, /^Requires: libc\.so\.6\(\)\(64bit\)$/m);
    assert.match(spec, new RegExp(`^%post\\nset -e\\n/usr/bin/python3\\.11 \\S+ rebuild-wheel /opt/orbit/wheels/${STEM}\\.zip /opt/orbit/wheelhouse`, 'm'));
  });

  it('the DEB control gets the system requirements as Depends', () => {
    const plan = planWheelPackage(input('stored-zip', { target: debian, systemRequires: ['libc6 (>= 2.14)'] }));
    const control = debControl(plan, { installedSizeKiB: 10, maintainer: 'reqset <r@x.invalid>', shlibsDepends: [] });
    assert.match(control, /^Depends: .*libc6 \(>= 2\.14\)/m);
  });
});

describe('endpoint package plan per layout', () => {
  const trees = (plan: PackagePlan) => [...(plan.scriptlets.afterInstall ?? '').matchAll(/--tree (\S+)/g)].map((m) => m[1]);

  it('unpacked (and the default): --tree is each wheel tree', () => {
    assert.deepEqual(endpoint(), endpoint('unpacked'));
    assert.deepEqual(trees(endpoint('unpacked')), ['/opt/orbit/wheels/orbit_report-1.2-py3-none-any', `/opt/orbit/wheels/${STEM}`]);
  });

  it('stored-zip: --tree is each stored zip, with either installer', () => {
    for (const installer of ['native', 'pip'] as const) {
      const plan = endpoint('stored-zip', installer);
      assert.deepEqual(trees(plan), ['/opt/orbit/wheels/orbit_report-1.2-py3-none-any.zip', `/opt/orbit/wheels/${STEM}.zip`]);
      assert.match(plan.scriptlets.afterInstall ?? '', new RegExp(`--installer ${installer} --wheelhouse /opt/orbit/wheelhouse `));
    }
  });

  it('the layout changes only the --tree arguments', () => {
    const unpacked = endpoint('unpacked');
    const stored = endpoint('stored-zip');
    assert.deepEqual({ ...stored, scriptlets: undefined }, { ...unpacked, scriptlets: undefined });
    assert.equal(stored.scriptlets.afterInstall, unpacked.scriptlets.afterInstall?.replace(/(--tree \S+)/g, '$1.zip'));
    assert.equal(stored.scriptlets.beforeRemove, unpacked.scriptlets.beforeRemove);
  });
});
