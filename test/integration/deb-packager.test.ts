/**
 * The .deb packager against the real tools: dpkg-deb builds and reads the
 * packages, dpkg-shlibdeps finds the shared-library dependencies of a
 * gcc-compiled extension, `dpkg --compare-versions` judges the pydist
 * relations as the control file writes them, and `dpkg --root` installs,
 * upgrades, downgrades and removes packages in a throwaway database, running
 * the maintainer scripts for real and resolving pydist relations against
 * versioned Provides.
 *
 * The install tests run the scripts without chroot (--force-script-chrootless,
 * the throwaway root has no /bin/sh); dpkg then sets DPKG_ROOT, so those
 * tests' scriptlets write below "$DPKG_ROOT". The real scriptlets (absolute
 * /opt paths, the runtime helper) are installed for real by the end-to-end
 * tests in a debootstrap root.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../src/errors.ts';
import { DEFAULT_DEB_PAYLOAD, DebPackager, lintianOverrides, lintianOverridesPath } from '../../src/packagers/deb/index.ts';
import { debianDocFiles } from '../../src/packagers/changelog.ts';
import { debControl, debDependencies, debMaintainerScripts, debProvides, debVersion } from '../../src/packagers/deb/control.ts';
import type { BuildContext, PackagePlan } from '../../src/packagers/packager.ts';
import { planRuntimePackage, planWheelPackage, wheelStem } from '../../src/packagers/plan.ts';
import { specifierBounds } from '../../src/packagers/ranges.ts';
import { run } from '../../src/run.ts';
import type { Payload } from '../../src/targets/target.ts';
import { pep440Verdicts } from '../helpers/pep440-oracle.ts';
import {
  compileExtension,
  debField,
  debian12,
  EXT,
  fsysTarfile,
  LIBFOO,
  LOOSE_LIBRARY,
  pureWheelFiles,
  readAr,
  readTar,
  scratchDirs,
  sha256,
  stageCompiledWheel,
  stageTree,
  type StagedFile,
  type TarItem,
  wheelRef,
} from '../helpers/deb-fixtures.ts';

const EPOCH = 1700000000;
const MAINTAINER = 'reqset tests <reqset@example.org>';
const PURE = 'tinyvec-1.2.0-py3-none-any.whl';
const COMPILED = 'fastmath-2.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl';

const target = await debian12();
/** A fresh directory under the test file's temporary directory. */
const fresh = scratchDirs('reqset-deb-');

/** What the pipeline passes: the target's payload compression (debian12: zstd 3), unless overridden. */
function context(dir: string, overrides: Partial<BuildContext> = {}): BuildContext {
  return { epoch: EPOCH, outDir: path.join(dir, 'out'), workDir: path.join(dir, 'work'), maintainer: MAINTAINER, ...(target.payload ? { payload: target.payload } : {}), ...overrides };
}

function purePlan(reqset = 'rs'): PackagePlan {
  return planWheelPackage({
    reqset,
    target,
    key: 'tinyvec',
    version: '1.2.0',
    wheel: wheelRef(PURE),
    summary: 'Tiny vectors',
    homepage: 'https://example.org/tinyvec',
    dependencies: [{ key: 'typing-extensions', specifier: '>=4,<5' }],
    compiledAgainst: [],
    bundledLibraries: [],
  });
}

function compiledPlan(): PackagePlan {
  return planWheelPackage({
    reqset: 'rs',
    target,
    key: 'fastmath',
    version: '2.0.1',
    wheel: wheelRef(COMPILED),
    dependencies: [{ key: 'tinyvec', specifier: '~=1.2' }],
    compiledAgainst: [{ key: 'numpy', version: '1.26.4' }],
    bundledLibraries: [`fastmath.libs/${LIBFOO}`],
  });
}

/** Every path of a staged tree as dpkg-deb lists it: `./`, directories with a trailing `/`. */
function expectedPaths(prefix: string, files: StagedFile[], extraDirs: string[] = []): string[] {
  const paths = new Set<string>(['./']);
  const addDirs = (parts: string[]) => {
    for (let i = 1; i <= parts.length; i++) paths.add(`./${parts.slice(0, i).join('/')}/`);
  };
  for (const dir of extraDirs) addDirs(dir.split('/').filter(Boolean));
  for (const file of files) {
    const parts = `${prefix}/${file.name}`.split('/').filter(Boolean);
    addDirs(parts.slice(0, -1));
    paths.add(`./${parts.join('/')}`);
  }
  return [...paths].sort();
}

const tarPath = (item: TarItem) => (item.path.startsWith('./') ? item.path : `./${item.path}`);

/**
 * The files the packager adds, as staged files below `/`: in
 * /usr/share/doc/<name>/ the changelog and the copyright file, and the
 * lintian overrides for the payload the package is built with.
 */
function docFiles(plan: PackagePlan, payload: Payload = target.payload ?? DEFAULT_DEB_PAYLOAD): StagedFile[] {
  const docs = debianDocFiles(plan, { epoch: EPOCH, maintainer: MAINTAINER, version: debVersion(plan) });
  const overrides = lintianOverrides(plan, payload);
  return [
    ...Object.entries(docs.files).map(([name, data]) => ({ name: `${docs.dir.slice(1)}/${name}`, data })),
    ...(overrides ? [{ name: lintianOverridesPath(plan.name).slice(1), data: Buffer.from(overrides) }] : []),
  ];
}

/**
 * Checks the data tarball: exactly `files` below `prefix` and the plan's doc
 * files (and their parent directories), root-owned, fixed times, normal
 * modes, staged bytes.
 */
async function checkPayload(deb: string, plan: PackagePlan, prefix: string, staged: StagedFile[], extraDirs: string[] = [], payload?: Payload): Promise<TarItem[]> {
  const items = readTar(await fsysTarfile(deb, await fresh('tar')));
  const files = [...staged.map((f) => ({ ...f, name: `${prefix.slice(1)}/${f.name}` })), ...docFiles(plan, payload)];
  const expected = expectedPaths('', files, extraDirs);
  assert.deepEqual(items.map(tarPath).sort(), expected, 'the payload holds exactly the staged files');
  for (const item of items) {
    const where = tarPath(item);
    assert.equal(item.uid, 0, where);
    assert.equal(item.gid, 0, where);
    assert.equal(item.uname, 'root', where);
    assert.equal(item.gname, 'root', where);
    assert.equal(item.mtime, EPOCH, `${where} mtime`);
    if (item.type === 'Directory') {
      assert.equal(item.mode, 0o755, where);
      continue;
    }
    assert.equal(item.type, 'File', where);
    const file = files.find((f) => `./${f.name}` === where);
    assert.ok(file, `${where} was staged`);
    assert.equal(item.sha256, sha256(file.data), `${where} holds the staged bytes`);
    assert.equal(item.mode, (file.mode ?? 0o644) & 0o111 ? 0o755 : 0o644, `${where} mode`);
  }
  return items;
}

/** A control member of the package, as dpkg-deb prints it. */
async function controlMember(deb: string, name: string): Promise<string> {
  return (await run(['dpkg-deb', '--info', deb, name])).stdout;
}

/** The first bytes of each compressor's output. */
const MAGIC = { zst: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), xz: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) };

/** The ar members (debian-binary, then control and data compressed with `ext`), their times and owners. */
async function checkArchive(deb: string, ext: keyof typeof MAGIC = 'zst') {
  const members = readAr(await readFile(deb));
  assert.deepEqual(members.map((m) => m.name), ['debian-binary', `control.tar.${ext}`, `data.tar.${ext}`]);
  for (const member of members.slice(1)) assert.ok(member.data.subarray(0, MAGIC[ext].length).equals(MAGIC[ext]), `${member.name} is ${ext} data`);
  for (const member of members) {
    assert.equal(member.mtime, EPOCH, `${member.name}: ar time is SOURCE_DATE_EPOCH`);
    assert.equal(member.uid, 0);
    assert.equal(member.gid, 0);
  }
}

describe('building .deb packages', () => {
  it('a pure wheel package: control, scripts, md5sums and exactly the staged files', async () => {
    const dir = await fresh('pure');
    const files = pureWheelFiles('tinyvec', '1.2.0');
    await stageTree(path.join(dir, 'root'), 'rs', wheelStem(PURE), files);
    const plan = purePlan();
    const packager = new DebPackager();
    const built = await packager.build(plan, path.join(dir, 'root'), context(dir));
    const deb = built.path;

    assert.equal(deb, path.join(dir, 'out', 'rs-wheel-tinyvec_1.2-1_all.deb'));
    assert.equal(path.basename(deb), packager.fileName(plan));
    await checkArchive(deb);
    assert.equal(await debField(deb, 'Package'), 'rs-wheel-tinyvec');
    assert.equal(await debField(deb, 'Version'), packager.version(plan));
    assert.equal(await debField(deb, 'Architecture'), 'all');
    assert.equal(await debField(deb, 'Depends'), packager.dependencies(plan).join(', '));
    assert.deepEqual(built.requires, packager.dependencies(plan), 'no shared libraries: build() finds nothing beyond the plan');
    assert.equal(
      await debField(deb, 'Depends'),
      'rs-runtime, python3 (>= 3.11), python3 (<< 3.12), rs-pydist-typing-extensions (>= 4.0), rs-pydist-typing-extensions (<< 5.0~~)',
    );
    assert.equal(await debField(deb, 'Provides'), 'rs-pydist-tinyvec (= 1.2)');
    const installedSize = Number(await debField(deb, 'Installed-Size'));
    assert.ok(installedSize >= files.length && installedSize < 64, `Installed-Size ${installedSize}`);
    assert.equal(await controlMember(deb, 'control'), debControl(plan, { installedSizeKiB: installedSize, maintainer: MAINTAINER }));
    const scripts = debMaintainerScripts(plan);
    assert.equal(await controlMember(deb, 'postinst'), scripts.postinst);
    assert.equal(await controlMember(deb, 'postrm'), scripts.postrm);
    assert.equal((await run(['dpkg-deb', '--info', deb, 'prerm'], { allowFailure: true })).exitCode === 0, false, 'no prerm without beforeRemove');

    const md5 = (await controlMember(deb, 'md5sums')).trim().split('\n').sort();
    const prefix = `opt/rs/wheels/${wheelStem(PURE)}`;
    const md5Lines = [...files.map((f) => ({ ...f, name: `${prefix}/${f.name}` })), ...docFiles(plan)].map((f) => `${createHash('md5').update(f.data).digest('hex')}  ${f.name}`);
    assert.deepEqual(md5, md5Lines.sort());

    await checkPayload(deb, plan, `/${prefix}`, files);
    assert.equal(existsSync(path.join(dir, 'work')) ? (await readdir(path.join(dir, 'work'))).length : 0, 0, 'the work directory is left empty');
    assert.deepEqual(await readdir(path.join(dir, 'root')), ['opt'], 'the doc files are taken out of the staged tree again');
    assert.deepEqual(await readdir(path.join(dir, 'out')), [path.basename(deb)], 'no partial files next to the package');
  });

  it('a compiled wheel package depends on libc6, never on its bundled library', async () => {
    const dir = await fresh('compiled');
    const { root, files } = await stageCompiledWheel(dir, wheelStem(COMPILED));
    const plan = compiledPlan();
    const packager = new DebPackager();
    const built = await packager.build(plan, root, context(dir));
    const deb = built.path;

    assert.equal(path.basename(deb), 'rs-wheel-fastmath_2.0.1-1_amd64.deb');
    assert.equal(await debField(deb, 'Architecture'), 'amd64');
    const depends = await debField(deb, 'Depends');
    assert.match(depends, /(^|, )libc6 \(>= 2\.\d+(\.\d+)?\)(, |$)/, depends);
    assert.doesNotMatch(depends, /libfoo/);
    const planned = 'rs-runtime, python3 (>= 3.11), python3 (<< 3.12), rs-pydist-tinyvec (>= 1.2), rs-pydist-tinyvec (<< 2.0~~), rs-pydist-numpy (= 1.26.4)';
    assert.ok(depends.startsWith(`${planned}, `), depends);
    assert.equal(depends, built.requires.join(', '), 'build() returns every relation the package carries, the shared-library ones included');
    assert.equal(packager.dependencies(plan).join(', '), planned, 'dependencies() gives the planned relations only, even after build()');
    assert.equal(await debField(deb, 'Provides'), 'rs-pydist-fastmath (= 2.0.1)');

    const items = await checkPayload(deb, plan, `/opt/rs/wheels/${wheelStem(COMPILED)}`, files);
    assert.ok(items.some((i) => i.path.endsWith(`fastmath.libs/${LIBFOO}`)), 'the bundled library is shipped');
    assert.ok(items.some((i) => i.path.endsWith(EXT) && i.mode === 0o755));
  });

  it('finds bundled libraries inside the package even without an RPATH', async () => {
    const dir = await fresh('norpath');
    const { root } = await stageCompiledWheel(dir, wheelStem(COMPILED), { rpath: false });
    const { path: deb } = await new DebPackager().build(compiledPlan(), root, context(dir));
    const depends = await debField(deb, 'Depends');
    assert.match(depends, /libc6 \(>= /);
    assert.doesNotMatch(depends, /libfoo/);
  });

  it('names the file and the soname that no installed package provides', async () => {
    const dir = await fresh('unmapped');
    const { root, loose } = await stageCompiledWheel(dir, wheelStem(COMPILED), { loose: true });
    const ext = `/opt/rs/wheels/${wheelStem(COMPILED)}/${EXT}`;

    // Found through the RPATH, but part of no package.
    await assert.rejects(new DebPackager().build(compiledPlan(), root, context(dir)), (error: unknown) => {
      assert.ok(error instanceof ToolError, String(error));
      assert.match(error.message, /shared-library dependencies of rs-wheel-fastmath/);
      assert.ok(error.message.includes(`${ext} needs ${LOOSE_LIBRARY} (found at ${loose}/${LOOSE_LIBRARY})`), error.message);
      assert.match(error.message, /belongs to no installed Debian package/);
      return true;
    });
    // Not found at all.
    await rm(loose, { recursive: true });
    await assert.rejects(new DebPackager().build(compiledPlan(), root, context(dir)), (error: unknown) => {
      assert.ok(error instanceof ToolError, String(error));
      assert.ok(error.message.includes(`${ext} needs ${LOOSE_LIBRARY}`), error.message);
      assert.doesNotMatch(error.message, new RegExp(`needs ${LIBFOO.replace(/\./g, '\\.')}`), 'the bundled library is not a problem');
      return true;
    });
    assert.deepEqual(existsSync(path.join(dir, 'out')) ? await readdir(path.join(dir, 'out')) : [], [], 'nothing is left in the output directory');
  });

  it('the runtime package ships its owned directories (empty ones included)', async () => {
    const dir = await fresh('runtime');
    const plan = planRuntimePackage('rs', target, '0.1.0');
    const files: StagedFile[] = [{ name: 'reqset_runtime.py', data: '#!/usr/bin/env python3\nprint("helper")\n', mode: 0o755 }];
    const root = path.join(dir, 'root');
    const runtimeDir = path.join(root, 'opt', 'rs', 'runtime');
    await mkdir(runtimeDir, { recursive: true });
    await writeFile(path.join(runtimeDir, 'reqset_runtime.py'), files[0]?.data as string);
    await chmod(path.join(runtimeDir, 'reqset_runtime.py'), 0o755);
    const { path: deb } = await new DebPackager().build(plan, root, context(dir));
    assert.equal(path.basename(deb), 'rs-runtime_0.1-1_all.deb');
    assert.equal(await debField(deb, 'Depends'), 'python3 (>= 3.11), python3 (<< 3.12), python3-venv');
    await checkPayload(deb, plan, '/opt/rs/runtime', files, ['/opt/rs/wheels', '/opt/rs/wheelhouse']);
    assert.equal((await run(['dpkg-deb', '--info', deb, 'postinst'], { allowFailure: true })).exitCode === 0, false, 'no maintainer scripts');
  });

  it('refuses a staged tree with files outside the plan’s contents', async () => {
    const dir = await fresh('stray');
    await stageTree(path.join(dir, 'root'), 'rs', wheelStem(PURE), pureWheelFiles('tinyvec', '1.2.0'));
    await mkdir(path.join(dir, 'root', 'etc'));
    await writeFile(path.join(dir, 'root', 'etc', 'stray.conf'), 'x\n');
    await assert.rejects(new DebPackager().build(purePlan(), path.join(dir, 'root'), context(dir)), /outside its contents.*\/etc\/stray\.conf/);
  });

  it('is reproducible: time zone, umask, working directory, creation order, modes and times do not matter', async () => {
    const files = pureWheelFiles('tinyvec', '1.2.0');
    const compiledDir = await fresh('repro-build');
    const compiled = await compileExtension(compiledDir);

    async function buildBoth(variant: boolean): Promise<string[]> {
      const dir = await fresh(variant ? 'repro-b' : 'repro-a');
      const pureRoot = path.join(dir, 'pure');
      const compiledRoot = path.join(dir, 'compiled');
      if (!variant) {
        await stageTree(pureRoot, 'rs', wheelStem(PURE), files);
        await stageTree(compiledRoot, 'rs', wheelStem(COMPILED), compiled);
      } else {
        // Reverse creation order, private modes, recent times.
        const odd = (list: StagedFile[]) => [...list].reverse().map((f) => ({ ...f, mode: (f.mode ?? 0o644) & 0o111 ? 0o700 : 0o600 }));
        await stageTree(pureRoot, 'rs', wheelStem(PURE), odd(files), { dirMode: 0o700 });
        await stageTree(compiledRoot, 'rs', wheelStem(COMPILED), odd(compiled), { dirMode: 0o750 });
        const now = new Date();
        await utimes(path.join(pureRoot, 'opt', 'rs', 'wheels', wheelStem(PURE), files[0]?.name as string), now, now);
      }
      const oldTz = process.env.TZ;
      const oldCwd = process.cwd();
      const oldUmask = process.umask(variant ? 0o077 : 0o022);
      if (variant) {
        process.env.TZ = 'Pacific/Chatham';
        process.chdir(dir);
      }
      try {
        const packager = new DebPackager();
        const a = await packager.build(purePlan(), pureRoot, context(dir, { workDir: path.join(dir, variant ? 'other-work' : 'work') }));
        const b = await packager.build(compiledPlan(), compiledRoot, context(dir));
        return [sha256(await readFile(a.path)), sha256(await readFile(b.path))];
      } finally {
        process.umask(oldUmask);
        process.chdir(oldCwd);
        if (oldTz === undefined) delete process.env.TZ;
        else process.env.TZ = oldTz;
      }
    }

    const first = await buildBoth(false);
    const second = await buildBoth(true);
    assert.deepEqual(second, first);
  });
});

describe('payload compression', () => {
  it('compresses control.tar and data.tar as asked, and dpkg-deb reads every one back: xz 6 by default, xz and zstd at other levels', async () => {
    const files = pureWheelFiles('tinyvec', '1.2.0');
    const cases: [Payload | undefined, 'xz' | 'zst'][] = [
      [undefined, 'xz'],
      [{ compression: 'xz', level: 6 }, 'xz'],
      [{ compression: 'xz', level: 0 }, 'xz'],
      [{ compression: 'zstd', level: 3 }, 'zst'],
      [{ compression: 'zstd', level: 19 }, 'zst'],
    ];
    const hashes = new Map<string, string>();
    for (const [payload, ext] of cases) {
      const label = payload ? `${payload.compression}-${payload.level}` : 'default';
      const dir = await fresh(`payload-${label}`);
      await stageTree(path.join(dir, 'root'), 'rs', wheelStem(PURE), files);
      const { path: deb } = await new DebPackager().build(purePlan(), path.join(dir, 'root'), { ...context(dir), payload });
      await checkArchive(deb, ext);
      const members = (await run(['ar', 't', deb])).stdout.trim().split('\n');
      assert.deepEqual(members, ['debian-binary', `control.tar.${ext}`, `data.tar.${ext}`], `${label}: ar t`);
      // dpkg-deb decompresses both members: the control file, and every staged file.
      assert.match((await run(['dpkg-deb', '--info', deb])).stdout, /^ Package: rs-wheel-tinyvec$/m, label);
      await checkPayload(deb, purePlan(), `/opt/rs/wheels/${wheelStem(PURE)}`, files, [], payload ?? DEFAULT_DEB_PAYLOAD);
      hashes.set(label, sha256(await readFile(deb)));
    }
    assert.equal(hashes.get('default'), hashes.get('xz-6'), 'the default is xz -6');
    assert.equal(new Set(hashes.values()).size, cases.length - 1, 'every other setting gives other bytes');
  });

  it('gives the same bytes whatever the thread limit: xz with any number of threads, zstd always single-threaded (DPKG_DEB_THREADS_MAX is ignored)', async () => {
    // Some 20 MB of hex digests: several zstd jobs and xz blocks, so threads would share the work.
    const files: StagedFile[] = pureWheelFiles('tinyvec', '1.2.0');
    for (let i = 0; i < 20; i++) {
      const lines: string[] = [];
      for (let j = 0; j < 16384; j++) lines.push(sha256(`${i}/${j}`));
      files.push({ name: `tinyvec/data/digests${i}.txt`, data: lines.join('\n') + '\n' });
    }
    const old = process.env.DPKG_DEB_THREADS_MAX;
    try {
      for (const payload of [{ compression: 'zstd', level: 3 }, { compression: 'xz', level: 1 }] as Payload[]) {
        const hashes: string[] = [];
        for (const threads of ['1', '2']) {
          process.env.DPKG_DEB_THREADS_MAX = threads;
          const dir = await fresh(`threads-${payload.compression}-${threads}`);
          await stageTree(path.join(dir, 'root'), 'rs', wheelStem(PURE), files);
          const { path: deb } = await new DebPackager().build(purePlan(), path.join(dir, 'root'), { ...context(dir), payload });
          hashes.push(sha256(await readFile(deb)));
        }
        assert.equal(hashes[1], hashes[0], `${payload.compression}: DPKG_DEB_THREADS_MAX=1 and 2 give the same package`);
      }
    } finally {
      if (old === undefined) delete process.env.DPKG_DEB_THREADS_MAX;
      else process.env.DPKG_DEB_THREADS_MAX = old;
    }
  });
});

describe('relations', () => {
  /** Versions around each other in PEP 440, including equal spellings. */
  const VERSIONS = [
    '1.0', '1.0.0', '1', '1.0.post0', '1.0.post1', '1.0-1', '1.0.post1.dev0', '1.0+0', '1.0+abc', '1.0+abc.5', '1.0+abc.5.1',
    '1.0+ABC-05', '1.0a1', '1.0rc1', '1.0rc12', '1.0.10', '1.0rc1.post1', '1.0rc1+x', '1.0.dev0', '1.0.1', '1.0.0.1', '1.01', '1.1', '1.1.dev0',
    '1!1.0', '1!1.0.post1', '2!0.9b2.post1', '0.9', '10.0', '1.0+cu118', '1.0+cu12', '2024.1', '2024.1.post3', '1.4.2', '1.4.9', '1.5rc1', '1.5',
    '2.0.dev0', '2.0rc1', '2.0', '2.0+abc', '2.0.post1',
  ];
  /** One specifier per rule of src/packagers/ranges.ts whose relations admit exactly what PEP 440 admits. */
  const SPECIFIERS = ['>=1.0,<2', '>1.0', '<=1.0', '==1.0', '==1.0+abc.5', '==1.0.*', '~=1.4.2', '===1.0.1', '>=1!1.0', '<2.0rc1', '>=1.0rc1,<1.1'];

  it('the Depends relations as written admit the version a Provides writes exactly when PEP 440 admits it (dpkg --compare-versions)', async () => {
    const provided = (pep440: string) => {
      const [provide] = debProvides({ ...purePlan(), pydist: { reqset: 'rs', key: 'lib', pep440 } });
      const m = /^rs-pydist-lib \(= (\S+)\)$/.exec(provide ?? '');
      assert.ok(m, `a versioned Provides: ${provide}`);
      return m[1] as string;
    };
    const cases: { spec: string; candidate: string; version: string; op: string; bound: string }[] = [];
    for (const spec of SPECIFIERS) {
      const relations = debDependencies({ ...purePlan(), requires: [{ kind: 'pydist', reqset: 'rs', key: 'lib', bounds: specifierBounds(spec) }], scriptletRequires: [] });
      assert.ok(relations.length > 0);
      for (const relation of relations) {
        const m = /^rs-pydist-lib \((<<|<=|=|>=|>>) (\S+)\)$/.exec(relation);
        assert.ok(m, `one versioned relation on the virtual package: ${relation}`);
        for (const candidate of VERSIONS) cases.push({ spec, candidate, version: provided(candidate), op: m[1] as string, bound: m[2] as string });
      }
    }
    // dpkg's own relation operators (<<, >>, ...), exactly as the control file writes them.
    const script = 'while read v op b; do if dpkg --compare-versions "$v" "$op" "$b"; then echo 1; else echo 0; fi; done';
    const { stdout } = await run(['sh', '-c', script], { input: cases.map((c) => `${c.version} ${c.op} ${c.bound}\n`).join('') });
    const verdicts = stdout.trim().split('\n');
    assert.equal(verdicts.length, cases.length);
    const admitted = new Map<string, boolean>();
    for (const [i, c] of cases.entries()) admitted.set(`${c.spec} ${c.candidate}`, (admitted.get(`${c.spec} ${c.candidate}`) ?? true) && verdicts[i] === '1');

    const pep440 = await pep440Verdicts(SPECIFIERS, VERSIONS);
    const wrong = SPECIFIERS.flatMap((spec) =>
      VERSIONS.filter((c) => admitted.get(`${spec} ${c}`) !== pep440.get(`${spec} ${c}`)).map((c) => `${c} (${provided(c)}) ${pep440.get(`${spec} ${c}`) ? 'refused' : 'admitted'} by ${spec}`),
    );
    assert.deepEqual(wrong, []);
    assert.ok([...pep440.values()].filter(Boolean).length > 20 && [...pep440.values()].filter((v) => !v).length > 20, 'both verdicts are well represented');
  });
});

describe('installing with dpkg into a throwaway database', () => {
  /** A plan whose scriptlets work below "$DPKG_ROOT" and log every call. */
  /** A wheel package of distribution `name`: it provides `t-pydist-<name>` at its PEP 440 version, as the real ones do. */
  function scriptedPlan(name: string, pep440: string, options: { release?: string; epoch?: number; requires?: PackagePlan['requires'] } = {}): PackagePlan {
    const tag = `${name}-${pep440}`;
    const tree = `/opt/t/wheels/${tag}`;
    const wheelFile = `"$DPKG_ROOT/opt/t/wheelhouse/${tag}.whl"`;
    const log = `echo "${tag} $(basename "$0" | sed 's/.*\\.//') $*" >> "$DPKG_ROOT/log"`;
    return {
      kind: 'wheel',
      name: `t-wheel-${name}`,
      pep440,
      release: options.release ?? '1',
      ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
      pydist: { reqset: 't', key: name, pep440 },
      arch: 'noarch',
      summary: `${name} ${pep440}`,
      description: `Test package ${tag}.`,
      license: 'MIT',
      requires: options.requires ?? [{ kind: 'any', name: 't-runtime' }],
      scriptletRequires: [],
      contents: [tree],
      ownedDirs: [],
      ghostFiles: [`/opt/t/wheelhouse/${tag}.whl`],
      privateLibraries: [],
      scriptlets: {
        afterInstall: `${log}\ncp "$DPKG_ROOT${tree}/payload" ${wheelFile}.tmp\nmv -f ${wheelFile}.tmp ${wheelFile}`,
        beforeRemove: log,
        // A test hook: fail after removing, for the actions named by marker files.
        afterRemove: `${log}\nrm -f ${wheelFile}\nif [ -e "$DPKG_ROOT/fail-$1" ]; then echo "failing on $1" >&2; exit 1; fi`,
      },
    };
  }

  function runtimePlan(): PackagePlan {
    return {
      ...scriptedPlan('runtime', '0.1'),
      kind: 'runtime',
      name: 't-runtime',
      pydist: undefined,
      requires: [],
      contents: ['/opt/t/runtime'],
      ownedDirs: ['/opt/t', '/opt/t/wheels', '/opt/t/wheelhouse'],
      ghostFiles: [],
      scriptlets: {},
    };
  }

  const built = new Map<string, string>();
  async function build(plan: PackagePlan): Promise<string> {
    const key = `${plan.name}=${plan.pep440}-${plan.release}`;
    const cacheKey = `${key} epoch ${plan.epoch ?? 'of PEP 440'}`;
    const cached = built.get(cacheKey);
    if (cached) return cached;
    const dir = await fresh('pkg');
    const root = path.join(dir, 'root');
    const content = path.join(root, plan.contents[0] as string);
    await mkdir(content, { recursive: true });
    await writeFile(path.join(content, 'payload'), `payload of ${key}\n`);
    const { path: deb } = await new DebPackager().build(plan, root, context(dir));
    built.set(cacheKey, deb);
    return deb;
  }

  async function makeRoot(): Promise<string> {
    const root = await fresh('dpkg-root');
    await mkdir(path.join(root, 'var/lib/dpkg/info'), { recursive: true });
    await mkdir(path.join(root, 'var/lib/dpkg/updates'), { recursive: true });
    await writeFile(path.join(root, 'var/lib/dpkg/status'), '');
    await writeFile(path.join(root, 'var/lib/dpkg/available'), '');
    return root;
  }

  function dpkg(root: string, args: string[], allowFailure = false) {
    return run(['dpkg', `--root=${root}`, '--force-script-chrootless', '--force-not-root', '--force-unsafe-io', `--log=${path.join(root, 'dpkg.log')}`, ...args], { allowFailure, env: { LC_ALL: 'C' } });
  }

  async function status(root: string, pkg: string): Promise<string> {
    const { stdout } = await run(['dpkg-query', `--admindir=${path.join(root, 'var/lib/dpkg')}`, '-W', '-f', '${Version} ${db:Status-Abbrev}', pkg], { allowFailure: true });
    return stdout.trim();
  }

  async function wheelhouse(root: string): Promise<string[]> {
    const dir = path.join(root, 'opt/t/wheelhouse');
    return existsSync(dir) ? (await readdir(dir)).sort() : [];
  }

  async function takeLog(root: string): Promise<string[]> {
    const file = path.join(root, 'log');
    if (!existsSync(file)) return [];
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => l.trim());
    await rm(file);
    return lines;
  }

  it('install, reinstall, upgrade, downgrade, remove and purge leave exactly the right generated file', async () => {
    const root = await makeRoot();
    const runtime = await build(runtimePlan());
    const a10 = await build(scriptedPlan('a', '1.0'));
    const a11 = await build(scriptedPlan('a', '1.1'));

    await dpkg(root, ['-i', runtime, a10]);
    assert.equal(await status(root, 't-wheel-a'), '1.0-1 ii');
    assert.deepEqual(await wheelhouse(root), ['a-1.0.whl']);
    assert.equal(await readFile(path.join(root, 'opt/t/wheelhouse/a-1.0.whl'), 'utf8'), 'payload of t-wheel-a=1.0-1\n');
    assert.deepEqual(await takeLog(root), ['a-1.0 postinst configure']);

    await dpkg(root, ['-i', a10]);
    assert.deepEqual(await wheelhouse(root), ['a-1.0.whl'], 'reinstall');
    assert.deepEqual(await takeLog(root), ['a-1.0 postrm upgrade 1.0-1', 'a-1.0 postinst configure 1.0-1']);

    await dpkg(root, ['-i', a11]);
    assert.equal(await status(root, 't-wheel-a'), '1.1-1 ii');
    assert.deepEqual(await wheelhouse(root), ['a-1.1.whl'], 'upgrade');
    assert.deepEqual(await takeLog(root), ['a-1.0 postrm upgrade 1.1-1', 'a-1.1 postinst configure 1.0-1']);
    assert.ok(!existsSync(path.join(root, 'opt/t/wheels/a-1.0')), 'the old tree is gone');

    await dpkg(root, ['-i', a10]);
    assert.equal(await status(root, 't-wheel-a'), '1.0-1 ii');
    assert.deepEqual(await wheelhouse(root), ['a-1.0.whl'], 'downgrade');
    assert.deepEqual(await takeLog(root), ['a-1.1 postrm upgrade 1.0-1', 'a-1.0 postinst configure 1.1-1']);

    // Every action is idempotent: the installed scripts run twice in a row.
    const info = path.join(root, 'var/lib/dpkg/info');
    const env = { DPKG_ROOT: root };
    for (const [script, action, after] of [
      ['postinst', 'configure', ['a-1.0.whl']],
      ['postinst', 'configure', ['a-1.0.whl']],
      ['postrm', 'remove', []],
      ['postrm', 'remove', []],
      ['postinst', 'abort-upgrade', ['a-1.0.whl']],
      ['postinst', 'abort-remove', ['a-1.0.whl']],
      ['prerm', 'upgrade', ['a-1.0.whl']],
      ['postinst', 'triggered', ['a-1.0.whl']],
    ] as const) {
      await run([path.join(info, `t-wheel-a.${script}`), action], { env });
      assert.deepEqual(await wheelhouse(root), after, `${script} ${action}`);
    }
    await takeLog(root);

    await dpkg(root, ['-r', 't-wheel-a']);
    assert.equal(await status(root, 't-wheel-a'), '1.0-1 rc');
    assert.deepEqual(await wheelhouse(root), []);
    assert.deepEqual(await takeLog(root), ['a-1.0 prerm remove', 'a-1.0 postrm remove']);
    assert.ok(existsSync(path.join(root, 'opt/t/wheelhouse')), 'the runtime still owns the wheelhouse');
    assert.ok(!existsSync(path.join(root, 'opt/t/wheels/a-1.0')));

    await dpkg(root, ['-P', 't-wheel-a']);
    assert.deepEqual(await takeLog(root), ['a-1.0 postrm purge']);
    assert.equal(await status(root, 't-wheel-a'), '');

    await dpkg(root, ['-P', 't-runtime']);
    assert.ok(!existsSync(path.join(root, 'opt/t')), 'purging the runtime removes its directories');
  });

  it('a failed upgrade is rolled back with the old version’s generated file restored', async () => {
    const root = await makeRoot();
    await dpkg(root, ['-i', await build(runtimePlan()), await build(scriptedPlan('a', '1.0'))]);
    await takeLog(root);

    // The old postrm fails; the new postrm `failed-upgrade` succeeds: dpkg carries on.
    await writeFile(path.join(root, 'fail-upgrade'), '');
    await dpkg(root, ['-i', await build(scriptedPlan('a', '1.1'))]);
    assert.equal(await status(root, 't-wheel-a'), '1.1-1 ii');
    assert.deepEqual(await wheelhouse(root), ['a-1.1.whl']);
    assert.deepEqual(await takeLog(root), ['a-1.0 postrm upgrade 1.1-1', 'a-1.1 postrm failed-upgrade 1.0-1 1.1-1', 'a-1.1 postinst configure 1.0-1']);

    // Both fail: dpkg rolls back to 1.1 and its postinst `abort-upgrade` restores a-1.1.whl.
    await writeFile(path.join(root, 'fail-failed-upgrade'), '');
    const result = await dpkg(root, ['-i', await build(scriptedPlan('a', '1.2'))], true);
    assert.notEqual(result.exitCode, 0);
    assert.equal(await status(root, 't-wheel-a'), '1.1-1 ii');
    assert.deepEqual(await wheelhouse(root), ['a-1.1.whl']);
    assert.deepEqual(await takeLog(root), [
      'a-1.1 postrm upgrade 1.2-1',
      'a-1.2 postrm failed-upgrade 1.1-1 1.2-1',
      'a-1.2 postrm abort-upgrade 1.1-1 1.2-1',
      'a-1.1 postinst abort-upgrade 1.2-1',
    ]);
    assert.equal(await readFile(path.join(root, 'opt/t/wheels/a-1.1/payload'), 'utf8'), 'payload of t-wheel-a=1.1-1\n', 'the old files are back');
    assert.ok(!existsSync(path.join(root, 'opt/t/wheels/a-1.2')));
  });

  it('dpkg resolves pydist relations against versioned Provides: a range, and the compiled-against pin, at any revision and package epoch', async () => {
    const root = await makeRoot();
    await dpkg(root, ['-i', await build(runtimePlan())]);
    const pydist = (specifier: string) => ({ kind: 'pydist' as const, reqset: 't', key: 'a', bounds: specifierBounds(specifier) });
    const ranged = await build(scriptedPlan('b', '1.0', { requires: [pydist('>=1.0,<2')] }));
    assert.equal(await debField(ranged, 'Depends'), 't-pydist-a (>= 1.0), t-pydist-a (<< 2.0~~)');
    const pinned = await build(scriptedPlan('c', '1.0', { requires: [{ kind: 'pydist', reqset: 't', key: 'a', bounds: [{ op: '=', epoch: 0, upstream: '1.0' }] }] }));
    assert.equal(await debField(pinned, 'Depends'), 't-pydist-a (= 1.0)');

    const provider = async (pep440: string, release = '1', epoch?: number) => {
      const deb = await build(scriptedPlan('a', pep440, { release, epoch }));
      const provides = await debField(deb, 'Provides');
      assert.match(provides, /^t-pydist-a \(= [^-]+\)$/, 'a version without revision');
      return deb;
    };
    const cases: [pep440: string, release: string, epoch: number | undefined, rangeOk: boolean, pinOk: boolean][] = [
      ['1.0', '1', undefined, true, true],
      ['1.0', '2', undefined, true, true],
      ['1.0.0', '1', undefined, true, true],
      ['1.0', '3', 1, true, true],
      ['1.9.post1', '1', undefined, true, false],
      ['1.0.post1', '1', undefined, true, false],
      ['1.0+cpu', '1', undefined, true, false],
      ['2.0rc1', '1', undefined, false, false],
      ['2.0.dev0', '1', undefined, false, false],
      ['2.0', '1', undefined, false, false],
      ['1.0rc1', '1', undefined, false, false],
      ['0.9', '1', 2, false, false],
      ['1!1.0', '1', undefined, false, false],
    ];
    for (const [pep440, release, epoch, rangeOk, pinOk] of cases) {
      const what = `t-wheel-a ${epoch === undefined ? '' : `${epoch}:`}${pep440}-${release}`;
      await dpkg(root, ['-i', await provider(pep440, release, epoch)]);
      for (const [dependent, name, ok, relation] of [
        [ranged, 't-wheel-b', rangeOk, /t-wheel-b depends on t-pydist-a \((>= 1\.0|<< 2\.0~~)\)/],
        [pinned, 't-wheel-c', pinOk, /t-wheel-c depends on t-pydist-a \(= 1\.0\)/],
      ] as const) {
        const result = await dpkg(root, ['-i', dependent], true);
        assert.equal(result.exitCode === 0, ok, `${name} with ${what}: ${result.stderr}`);
        assert.ok((await status(root, name)).endsWith(ok ? ' ii' : ' iU'), `${name} with ${what}`);
        if (!ok) assert.match(result.stderr, relation, what);
        await dpkg(root, ['-P', name]);
      }
      await dpkg(root, ['-P', 't-wheel-a']);
    }

    // Nothing provides it: refused.
    const result = await dpkg(root, ['-i', ranged], true);
    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /t-wheel-b depends on t-pydist-a \(>= 1\.0\); however:\s+Package t-pydist-a is not installed/);
    await dpkg(root, ['-P', 't-wheel-b']);
  });
});

describe('maintainer scripts of the real plans', () => {
  it('pass sh -n (dash, /bin/sh on Debian)', async () => {
    const dir = await fresh('scripts');
    const plans = [purePlan(), compiledPlan(), planRuntimePackage('rs', target, '0.1.0')];
    let count = 0;
    for (const plan of plans) {
      for (const [name, text] of Object.entries(debMaintainerScripts(plan))) {
        const file = path.join(dir, `${plan.name}.${name}`);
        await writeFile(file, text);
        await run(['sh', '-n', file]);
        count++;
      }
    }
    assert.equal(count, 4);
  });
});
