/**
 * The RPM spec text, against golden files in test/golden/rpm/. Plans come from
 * plan.ts and the el9-py311 target, as in the real pipeline.
 * `UPDATE_GOLDEN=1 node --import tsx --test test/unit/rpm-spec.test.ts`
 * rewrites the golden files (review the diff!).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/errors.ts';
import type { PackagePlan } from '../../src/packagers/packager.ts';
import { planRuntimePackage, planWheelPackage } from '../../src/packagers/plan.ts';
import { RpmPackager } from '../../src/packagers/rpm/index.ts';
import { specifierBounds } from '../../src/packagers/ranges.ts';
import { DEFAULT_RPM_PAYLOAD, privateLibrariesRegex, rpmDependencies, rpmDependency, rpmFileName, rpmProvides, rpmPayload, rpmPydistName, rpmScriptletDependencies, rpmSpec } from '../../src/packagers/rpm/spec.ts';
import { parseWheelFilename } from '../../src/python/tags.ts';
import { parseTarget, type Target } from '../../src/targets/target.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const GOLDEN = path.join(REPO, 'test', 'golden', 'rpm');
const TARGET_FILE = path.join(REPO, 'packaging', 'targets', 'el9-py311.yml');
const OPTIONS = { root: '/tmp/reqset-stage/root', epoch: 1700000000, packager: 'reqset <reqset@example.invalid>' };

async function target(): Promise<Target> {
  return parseTarget(await readFile(TARGET_FILE, 'utf8'), TARGET_FILE);
}

function wheel(filename: string) {
  const name = parseWheelFilename(filename);
  if (!name) throw new Error(`bad wheel name ${filename}`);
  return { filename, name };
}

/** A dependency as the closure gives it: distribution key and PEP 440 specifier. */
const dep = (key: string, specifier: string) => ({ key, specifier });

export async function purePlan(): Promise<PackagePlan> {
  return planWheelPackage({
    reqset: 'reqsset3',
    target: await target(),
    key: 'tinyvec',
    version: '1.0.0',
    wheel: wheel('tinyvec-1.0.0-py3-none-any.whl'),
    summary: 'Tiny vectors in pure Python',
    license: 'MIT',
    homepage: 'https://example.invalid/tinyvec',
    dependencies: [dep('typing-extensions', '>=4.6')],
    compiledAgainst: [],
    bundledLibraries: [],
  });
}

export async function compiledPlan(): Promise<PackagePlan> {
  return planWheelPackage({
    reqset: 'reqsset3',
    target: await target(),
    key: 'fastmath',
    version: '2.1.0',
    wheel: wheel('fastmath-2.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'),
    summary: 'Fast math with a C extension',
    license: 'BSD-3-Clause',
    dependencies: [dep('numpy', '>=1.22,<2'), dep('tinyvec', '~=1.0')],
    compiledAgainst: [{ key: 'numpy', version: '1.26.4' }],
    bundledLibraries: ['fastmath.libs/libquadmath-96973f99.so.0.0.0', 'fastmath.libs/libgfortran-040039e1.so.5.0.0', 'fastmath.libs/libfoo+bar-1a2b3c4d.so'],
  });
}

export async function runtimePlan(): Promise<PackagePlan> {
  return planRuntimePackage('reqsset3', await target(), '0.1.0');
}

/** An epoch and a pre-release, a dependency with an epoch, and text that needs escaping. */
export async function epochPlan(): Promise<PackagePlan> {
  return planWheelPackage({
    reqset: 'reqsset3',
    target: await target(),
    key: 'oddver',
    version: '1!2.0rc1',
    wheel: wheel('oddver-1!2.0rc1-py3-none-any.whl'),
    summary: 'Odd versions: 100% pre-release\n%files on a line of its own must not open a section',
    license: 'Apache-2.0 %{nil}',
    homepage: 'https://example.invalid/odd%20ver',
    dependencies: [dep('tinyvec', '>=1!1.0.post1'), dep('fastmath', '==2.1.0.dev3+local.7'), dep('anylib', '')],
    compiledAgainst: [],
    bundledLibraries: [],
  });
}

const CASES: [string, () => Promise<PackagePlan>][] = [
  ['pure-wheel', purePlan],
  ['compiled-wheel', compiledPlan],
  ['runtime', runtimePlan],
  ['epoch-prerelease', epochPlan],
];

describe('rpmSpec golden files', () => {
  for (const [name, make] of CASES) {
    it(name, async () => {
      // The target's payload compression, as the pipeline passes it (el9-py311: zstd 3).
      const text = rpmSpec(await make(), { ...OPTIONS, payload: (await target()).payload });
      const file = path.join(GOLDEN, `${name}.spec`);
      if (process.env.UPDATE_GOLDEN === '1') {
        await mkdir(GOLDEN, { recursive: true });
        await writeFile(file, text);
      }
      const expected = await readFile(file, 'utf8').catch(() => {
        throw new Error(`${file} is missing: run with UPDATE_GOLDEN=1 to create it`);
      });
      assert.equal(text, expected, `${name}: spec differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`);
    });
  }
});

describe('rpmSpec', () => {
  it('compresses the payload as the target says: zstd with libzstd workers (T0), xz single-threaded, xz 2 without a setting', async () => {
    assert.equal(rpmPayload({ compression: 'zstd', level: 3 }), 'w3T0.zstdio');
    assert.equal(rpmPayload({ compression: 'zstd', level: 19 }), 'w19T0.zstdio');
    assert.equal(rpmPayload({ compression: 'xz', level: 2 }), 'w2.xzdio');
    assert.equal(rpmPayload({ compression: 'xz', level: 6 }), 'w6.xzdio');
    assert.equal(rpmPayload(), 'w2.xzdio');
    assert.deepEqual(DEFAULT_RPM_PAYLOAD, { compression: 'xz', level: 2 });
    const payloadLine = (text: string) => text.split('\n').filter((l) => l.startsWith('%global _binary_payload '));
    const plan = await purePlan();
    assert.deepEqual(payloadLine(rpmSpec(plan, OPTIONS)), ['%global _binary_payload w2.xzdio']);
    assert.deepEqual(payloadLine(rpmSpec(plan, { ...OPTIONS, payload: { compression: 'zstd', level: 3 } })), ['%global _binary_payload w3T0.zstdio']);
    assert.deepEqual(payloadLine(rpmSpec(plan, { ...OPTIONS, payload: { compression: 'xz', level: 2 } })), ['%global _binary_payload w2.xzdio']);
    // The built-in RPM targets: zstd 3, but el8 keeps xz 2 (delta RPMs across client library versions).
    const expected: Record<string, string> = { el8: 'w2.xzdio', el9: 'w3T0.zstdio', 'el9-py311': 'w3T0.zstdio', fedora: 'w3T0.zstdio' };
    for (const [name, payload] of Object.entries(expected)) {
      const file = path.join(REPO, 'packaging', 'targets', `${name}.yml`);
      const t = parseTarget(await readFile(file, 'utf8'), file);
      assert.equal(t.format, 'rpm', name);
      assert.equal(rpmPayload(t.payload), payload, name);
    }
  });

  it('is a pure function of its inputs', async () => {
    const plan = await compiledPlan();
    assert.equal(rpmSpec(plan, OPTIONS), rpmSpec(structuredClone(plan), { ...OPTIONS }));
  });

  it('turns off every post-install step and every generator but ELF', async () => {
    const text = rpmSpec(await purePlan(), OPTIONS);
    for (const line of [
      '%global __spec_install_post %{nil}',
      '%global __os_install_post %{nil}',
      '%global debug_package %{nil}',
      '%global _build_id_links none',
      '%global __provides_exclude_from ^/.*$',
      '%global _fileattrsdir %{_topdir}/reqset-fileattrs',
      '%global clamp_mtime_to_source_date_epoch 1',
      '%global use_source_date_epoch_as_buildtime 1',
      '%global _buildhost reqset',
      '%global _binary_payload w2.xzdio',
    ]) {
      assert.ok(text.split('\n').includes(line), `missing: ${line}`);
    }
    assert.match(text, /^cp "%\{_rpmconfigdir\}\/fileattrs\/elf\.attr" "%\{_fileattrsdir\}\/"$/m);
    assert.doesNotMatch(text, /__requires_exclude/, 'no private libraries, no exclude');
    assert.doesNotMatch(text, /^Epoch:/m);
    assert.match(text, /^BuildArch: noarch$/m);
  });

  it('excludes the private libraries from the requires, escaped for rpm and for the regex', async () => {
    const text = rpmSpec(await compiledPlan(), OPTIONS);
    assert.doesNotMatch(text, /^BuildArch:/m, 'an arch package is built with rpmbuild --target');
    assert.match(text, /^if \[ "%\{_target_cpu\}" != x86_64 \]; then echo "build this package with rpmbuild --target x86_64" >&2; exit 1; fi$/m);
    const line = text.split('\n').find((l) => l.startsWith('%global __requires_exclude '));
    assert.equal(
      line,
      '%global __requires_exclude ^(libfoo\\\\+bar-1a2b3c4d\\\\.so|libgfortran-040039e1\\\\.so|libquadmath-96973f99\\\\.so)([.(].*)?$',
    );
    const regex = new RegExp(privateLibrariesRegex((await compiledPlan()).privateLibraries) as string);
    for (const yes of ['libgfortran-040039e1.so.5()(64bit)', 'libgfortran-040039e1.so.5.0.0(GFORTRAN_8)(64bit)', 'libfoo+bar-1a2b3c4d.so()(64bit)', 'libquadmath-96973f99.so.0']) {
      assert.ok(regex.test(yes), yes);
    }
    assert.equal(privateLibrariesRegex(['x.libs/libfoo.sodium-1.so', 'libbar.so.2']), '^(libbar\\.so|libfoo\\.sodium-1\\.so)([.(].*)?$');
    assert.equal(privateLibrariesRegex([]), undefined);
    for (const no of ['libm.so.6()(64bit)', 'libgfortran.so.5()(64bit)', 'libfoo+bar-1a2b3c4d.sox()(64bit)', 'rtld(GNU_HASH)']) {
      assert.ok(!regex.test(no), no);
    }
  });

  it('maps the dependencies: pydist ranges (with epoch, without release), exact ABI pins, any, python ABI, system', async () => {
    assert.deepEqual(rpmDependencies(await purePlan()), ['reqsset3-runtime', 'python(abi) = 3.11', 'reqsset3-pydist(typing-extensions) >= 4.6']);
    assert.deepEqual(rpmDependencies(await compiledPlan()), [
      'reqsset3-runtime',
      'python(abi) = 3.11',
      '(reqsset3-pydist(tinyvec) >= 1.0 with reqsset3-pydist(tinyvec) < 2.0~~)',
      'reqsset3-pydist(numpy) = 1.26.4',
    ]);
    assert.deepEqual(rpmDependencies(await epochPlan()), [
      'reqsset3-runtime',
      'python(abi) = 3.11',
      'reqsset3-pydist(tinyvec) >= 1:1.0+post1',
      'reqsset3-pydist(fastmath) = 2.1~~dev3+local+local~.7',
      'reqsset3-pydist(anylib)',
    ]);
    assert.deepEqual(rpmDependencies(await runtimePlan()), ['python(abi) = 3.11', 'python3.11']);
    assert.deepEqual(rpmScriptletDependencies(await purePlan()), ['/bin/sh', 'reqsset3-runtime', 'python(abi) = 3.11']);
  });

  it('writes a PEP 440 specifier as one requirement: a rich "with" dependency for a range', () => {
    const requirement = (specifier: string) => rpmDependency({ kind: 'pydist', reqset: 'r', key: 'lib', bounds: specifierBounds(specifier) });
    assert.equal(rpmPydistName('r', 'lib'), 'r-pydist(lib)');
    assert.equal(requirement('>=1.0,<2'), '(r-pydist(lib) >= 1.0 with r-pydist(lib) < 2.0~~)', 'one package must satisfy both bounds');
    assert.equal(requirement('>1.0'), 'r-pydist(lib) >= 1.0.0~', '> a final version leaves out its post-releases');
    assert.equal(requirement('>1.0rc1'), 'r-pydist(lib) > 1.0~rc1');
    assert.equal(requirement('<=1.0'), 'r-pydist(lib) < 1.0+p');
    assert.equal(requirement('==1.0'), '(r-pydist(lib) >= 1.0 with r-pydist(lib) < 1.0+p)');
    assert.equal(requirement('==1.4.*'), '(r-pydist(lib) >= 1.4~~ with r-pydist(lib) < 1.5~~)');
    assert.equal(requirement('~=1.4.2'), '(r-pydist(lib) >= 1.4.2 with r-pydist(lib) < 1.5~~)');
    assert.equal(requirement('>=2!1.0,<2!2'), '(r-pydist(lib) >= 2:1.0 with r-pydist(lib) < 2:2.0~~)');
    assert.equal(requirement('!=1.5'), 'r-pydist(lib)', 'no requirement says "any but one"');
    assert.equal(requirement(''), 'r-pydist(lib)');
  });

  it('requires packages at their exact epoch, version and release for endpoint and pins packages', () => {
    const exact = (pep440: string, epoch: number, release: string) => rpmDependency({ kind: 'package', name: 'r-wheel-a', version: { pep440, epoch, release } });
    assert.equal(exact('1.0.0', 0, '1'), 'r-wheel-a = 1.0-1');
    assert.equal(exact('1!2.0rc1', 1, '3'), 'r-wheel-a = 1:2.0~rc1-3');
    assert.equal(exact('1.0', 2, '1'), 'r-wheel-a = 2:1.0-1', 'a rollback epoch is part of it');
  });

  it('provides the distribution at its PEP 440 version, without epoch override or release', async () => {
    assert.deepEqual(rpmProvides(await purePlan()), ['reqsset3-pydist(tinyvec) = 1.0']);
    assert.deepEqual(rpmProvides(await epochPlan()), ['reqsset3-pydist(oddver) = 1:2.0~rc1']);
    assert.deepEqual(rpmProvides({ ...(await purePlan()), epoch: 4, release: '9' }), ['reqsset3-pydist(tinyvec) = 1.0']);
    assert.deepEqual(rpmProvides(await runtimePlan()), []);
    assert.match(rpmSpec(await compiledPlan(), OPTIONS), /^Provides: reqsset3-pydist\(fastmath\) = 2\.1\nRequires: reqsset3-runtime$/m);
    assert.doesNotMatch(rpmSpec(await runtimePlan(), OPTIONS), /^Provides:/m);
  });

  it('names the file name-version-release.arch.rpm, without the epoch', async () => {
    assert.equal(rpmFileName(await purePlan()), 'reqsset3-wheel-tinyvec-1.0-1.noarch.rpm');
    assert.equal(rpmFileName(await compiledPlan()), 'reqsset3-wheel-fastmath-2.1-1.x86_64.rpm');
    assert.equal(rpmFileName(await epochPlan()), 'reqsset3-wheel-oddver-2.0~rc1-1.noarch.rpm');
    const packager = new RpmPackager();
    assert.equal(packager.format, 'rpm');
    assert.equal(packager.version(await epochPlan()), '1:2.0~rc1-1');
    assert.equal(packager.version(await purePlan()), '1.0-1');
    assert.equal(packager.version({ ...(await purePlan()), epoch: 1, release: '2' }), '1:1.0-2', 'the epoch and release the history decided');
    assert.equal(rpmFileName({ ...(await purePlan()), epoch: 1, release: '2' }), 'reqsset3-wheel-tinyvec-1.0-2.noarch.rpm');
    assert.deepEqual(packager.dependencies(await purePlan()), rpmDependencies(await purePlan()));
  });

  it('guards the removal scriptlets on $1 and runs post-install always, all with set -e', async () => {
    const plan = await purePlan();
    plan.scriptlets.beforeRemove = 'echo bye';
    const text = rpmSpec(plan, OPTIONS);
    const section = (name: string) => {
      const m = new RegExp(`^%${name}\\n([\\s\\S]*?)(?=^%[a-z]|(?![\\s\\S]))`, 'm').exec(text);
      assert.ok(m, `no %${name}`);
      return m[1] as string;
    };
    assert.match(section('post'), /^set -e\n\/usr\/bin\/python3\.11 \/opt\/reqsset3\/runtime\/reqset_runtime\.pyz rebuild-wheel/);
    assert.doesNotMatch(section('post'), /\$1/);
    assert.match(section('preun'), /^set -e\n(#.*\n)?if \[ "\$1" -eq 0 \]; then\n  echo bye\nfi\n/);
    assert.match(section('postun'), /^set -e\n(#.*\n)?if \[ "\$1" -eq 0 \]; then\n  rm -f \/opt\/reqsset3\/wheelhouse\/tinyvec-1\.0\.0-py3-none-any\.whl\nfi\n/);
    for (const phase of ['post', 'preun', 'postun']) {
      assert.match(text, new RegExp(`^Requires\\(${phase}\\): /bin/sh$`, 'm'));
      assert.match(text, new RegExp(`^Requires\\(${phase}\\): reqsset3-runtime$`, 'm'));
    }
  });

  it('owns the ghost file and the owned directories', async () => {
    const wheelText = rpmSpec(await purePlan(), OPTIONS);
    assert.match(wheelText, /^%ghost %attr\(0644,root,root\) \/opt\/reqsset3\/wheelhouse\/tinyvec-1\.0\.0-py3-none-any\.whl$/m);
    assert.match(wheelText, /^\/opt\/reqsset3\/wheels\/tinyvec-1\.0\.0-py3-none-any$/m);
    const runtimeText = rpmSpec(await runtimePlan(), OPTIONS);
    for (const dir of ['/opt/reqsset3', '/opt/reqsset3/wheels', '/opt/reqsset3/wheelhouse']) {
      assert.ok(runtimeText.includes(`\n%dir ${dir}\n`), dir);
      assert.ok(runtimeText.includes(`\nmkdir -p "%{buildroot}${dir}"\n`), dir);
    }
    assert.doesNotMatch(runtimeText, /^%(post|preun|postun)$/m, 'the runtime has no scriptlets');
    assert.doesNotMatch(runtimeText, /^Requires\(/m);
  });

  it('escapes % everywhere and keeps description lines from opening sections', async () => {
    const plan = await epochPlan();
    plan.summary = '100% odd versions\n%files in a summary must not open a section';
    plan.description = 'first\n%files\n  %post here\n50% done';
    plan.scriptlets.afterInstall = "printf '%s\\n' done\n%files";
    const text = rpmSpec(plan, { ...OPTIONS, root: '/tmp/100%/root' });
    assert.match(text, /^Summary: 100%% odd versions %%files in a summary must not open a section$/m);
    assert.match(text, /^License: Apache-2\.0 %%\{nil\}$/m);
    assert.match(text, /^URL: https:\/\/example\.invalid\/odd%%20ver$/m);
    assert.match(text, /\n%description\nfirst\n %%files\n   %%post here\n50%% done\n/);
    assert.match(text, /\n%post\nset -e\nprintf '%%s\\n' done\n %%files\n/);
    assert.match(text, /^if \[ "%\{buildroot\}" != \/tmp\/100%%\/root \]; then echo 'build this package with rpmbuild --buildroot \/tmp\/100%%\/root' >&2; exit 1; fi$/m);
  });

  it('rejects paths rpm would glob or split, and bad names', async () => {
    const plan = await purePlan();
    assert.throws(() => rpmSpec({ ...plan, contents: ['/opt/a b'] }, OPTIONS), InputError);
    assert.throws(() => rpmSpec({ ...plan, contents: ['/opt/a*'] }, OPTIONS), InputError);
    assert.throws(() => rpmSpec({ ...plan, ghostFiles: ['/opt/../etc/x'] }, OPTIONS), InputError);
    assert.throws(() => rpmSpec({ ...plan, contents: ['relative'] }, OPTIONS), InputError);
    assert.throws(() => rpmSpec({ ...plan, name: 'a b' }, OPTIONS), InputError);
    assert.throws(() => rpmSpec({ ...plan, summary: ' \n ' }, OPTIONS), InputError);
    assert.throws(() => rpmSpec({ ...plan, pep440: 'not a version' }, OPTIONS), InputError);
  });
});
