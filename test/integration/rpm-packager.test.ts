/**
 * RpmPackager against the real rpmbuild, rpm, makedeltarpm and applydeltarpm:
 * staged trees laid out as the pipeline lays them out, then what the package
 * says about itself (requires, provides, files, digests, scriptlets), that two
 * builds in different environments are byte-identical, that a delta between
 * two versions rebuilds the new package byte for byte, and (where
 * /bin/busybox is there to be the chroot's /bin/sh) what the scriptlets do on
 * install, upgrade and erase with the real rpm in a throwaway root.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackagePlan } from '../../src/packagers/packager.ts';
import { planRuntimePackage, planWheelPackage, reqsetPaths } from '../../src/packagers/plan.ts';
import { RpmPackager } from '../../src/packagers/rpm/index.ts';
import { rpmDependencies, rpmScriptletDependencies } from '../../src/packagers/rpm/spec.ts';
import { parseWheelFilename } from '../../src/python/tags.ts';
import { run } from '../../src/run.ts';
import { parseTarget, type Payload, type Target } from '../../src/targets/target.ts';
import { haveGcc, makeCompiledTree, neededLibraries, PRIVATE_LIBRARY } from '../helpers/elf-fixtures.ts';
import { MissingTestEnvironment } from '../helpers/env.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET_FILE = path.join(REPO, 'packaging', 'targets', 'el9-py311.yml');
const REQSET = 'rpmtest';
const EPOCH = 1700000000;
const MAINTAINER = 'reqset tests <tests@example.invalid>';

async function haveTool(argv: string[]): Promise<boolean> {
  const result = await run(argv, { allowFailure: true }).catch(() => undefined);
  return result?.exitCode === 0;
}

const HAVE_RPMBUILD = await haveTool(['rpmbuild', '--version']);
const HAVE_DELTARPM = existsSync('/usr/bin/makedeltarpm') && existsSync('/usr/bin/applydeltarpm');
const HAVE_GCC = await haveGcc();
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
const IS_ROOT = process.getuid?.() === 0;

/** What these tests need: the setup installs the tools, and the tests run as root (rpm --root). They fail, not skip, without them. */
before(() => {
  const missing = [
    HAVE_RPMBUILD ? '' : 'rpmbuild (rpm)',
    HAVE_DELTARPM ? '' : 'makedeltarpm and applydeltarpm (deltarpm)',
    HAVE_GCC ? '' : 'gcc',
    existsSync('/usr/bin/taskset') ? '' : 'taskset (util-linux)',
    BUSYBOX ? '' : 'a static busybox (busybox-static)',
    IS_ROOT ? '' : 'root (rpm --root)',
  ].filter(Boolean);
  if (missing.length) throw new MissingTestEnvironment(missing.join(', '), 'scripts/setup-debian.sh installs the tools; run the tests as root');
});

let scratch: string;
let target: Target;
let counter = 0;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'reqset-rpm-'));
  target = parseTarget(await readFile(TARGET_FILE, 'utf8'), TARGET_FILE);
});
after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function newDir(name: string): Promise<string> {
  const dir = path.join(scratch, `${String(++counter).padStart(2, '0')}-${name}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

type Tree = Record<string, string | Buffer | { data: string | Buffer; mode: number }>;

/** Writes files (relative paths) under `dir` with explicit modes (0644 unless given). */
async function writeTree(dir: string, files: Tree): Promise<void> {
  for (const [rel, spec] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    const { data, mode } = typeof spec === 'string' || Buffer.isBuffer(spec) ? { data: spec, mode: 0o644 } : spec;
    await writeFile(file, data);
    await chmod(file, mode);
  }
}

/** Every file below `dir` (relative path -> sha256), and every directory. */
async function listTree(dir: string): Promise<{ files: Map<string, string>; dirs: string[] }> {
  const files = new Map<string, string>();
  const dirs: string[] = [];
  const walk = async (rel: string) => {
    for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        dirs.push(child);
        await walk(child);
      } else {
        files.set(child, sha256(await readFile(path.join(dir, child))));
      }
    }
  };
  await walk('');
  return { files, dirs };
}

function wheelName(filename: string) {
  const name = parseWheelFilename(filename);
  if (!name) throw new Error(`bad wheel file name ${filename}`);
  return { filename, name };
}

/** The pure wheel's files: a module, dist-info, and scripts that would trigger rpm's other generators. */
const PURE_FILES: Tree = {
  'tinyvec/__init__.py': 'from .vec import Vec\n',
  'tinyvec/vec.py': 'class Vec:\n    def __init__(self, *xs):\n        self.xs = xs\n',
  'tinyvec-1.0.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: tinyvec\nVersion: 1.0.0\n',
  'tinyvec-1.0.0.dist-info/WHEEL': 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  'tinyvec-1.0.0.dist-info/RECORD': 'tinyvec/__init__.py,,\n',
  'tinyvec-1.0.0.data/scripts/tinyvec': { data: '#!python\nimport tinyvec\n', mode: 0o755 },
  'tinyvec/tool.py': { data: '#!/usr/bin/env python3\nprint("hi")\n', mode: 0o755 },
  'tinyvec/helper.pl': { data: '#!/usr/bin/perl\nuse Some::Module;\n', mode: 0o755 },
  '.reqset-wheel.json': '{"format": 1}\n',
};

function purePlan(version = '1.0.0'): PackagePlan {
  return planWheelPackage({
    reqset: REQSET,
    target,
    key: 'tinyvec',
    version,
    wheel: wheelName(`tinyvec-${version}-py3-none-any.whl`),
    summary: 'Tiny vectors',
    license: 'MIT',
    homepage: 'https://example.invalid/tinyvec',
    dependencies: [{ key: 'typing-extensions', specifier: '>=4,<5' }],
    compiledAgainst: [],
    bundledLibraries: [],
  });
}

/** Stages a wheel tree the way the pipeline does: <root>/opt/<reqset>/wheels/<stem>/... */
async function stageWheel(plan: PackagePlan, files: Tree, root?: string): Promise<{ root: string; tree: string }> {
  const stageRoot = root ?? path.join(await newDir(`stage-${plan.name}`), 'root');
  const tree = path.join(stageRoot, plan.contents[0] as string);
  await mkdir(tree, { recursive: true });
  await writeTree(tree, files);
  return { root: stageRoot, tree };
}

/**
 * Builds the package with the target's payload compression (as the pipeline
 * does) unless told otherwise (`null`: none given, the packager's default);
 * what build() says it requires must be what rpm -qp --requires shows.
 */
async function build(plan: PackagePlan, root: string, name = plan.name, payload: Payload | null = target.payload ?? null, rpmbuild = 'rpmbuild'): Promise<string> {
  const dir = await newDir(`build-${name}`);
  const built = await new RpmPackager(rpmbuild).build(plan, root, { epoch: EPOCH, outDir: path.join(dir, 'out'), workDir: path.join(dir, 'work'), maintainer: MAINTAINER, ...(payload ? { payload } : {}) });
  assert.deepEqual([...built.requires].sort(), await requires(built.path), 'build() returns the requires the package carries');
  assert.equal(new Set(built.requires).size, built.requires.length, 'once each');
  return built.path;
}

async function query(file: string, ...args: string[]): Promise<string> {
  return (await run(['rpm', '-qp', '--nosignature', ...args, file])).stdout;
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

interface DumpEntry {
  path: string;
  size: number;
  mtime: number;
  digest: string;
  mode: number;
  owner: string;
  group: string;
}

async function dump(file: string): Promise<DumpEntry[]> {
  return lines(await query(file, '--dump')).map((line) => {
    const [p, size, mtime, digest, mode, owner, group] = line.split(' ');
    return { path: p as string, size: Number(size), mtime: Number(mtime), digest: digest as string, mode: parseInt(mode as string, 8), owner: owner as string, group: group as string };
  });
}

/** path -> rpm's file flags (`g` = ghost, `d` = doc, ...). */
async function fileFlags(file: string): Promise<Map<string, string>> {
  const out = await query(file, '--qf', '[%{FILEFLAGS:fflags} %{FILENAMES}\\n]');
  return new Map(lines(out).map((l) => {
    const space = l.indexOf(' ');
    return [l.slice(space + 1), l.slice(0, space)];
  }));
}

/** Requires without rpm's own rpmlib() features, unique and sorted. */
async function requires(file: string): Promise<string[]> {
  return [...new Set(lines(await query(file, '--requires')).map((l) => l.trim()).filter((l) => !l.startsWith('rpmlib(')))].sort();
}

async function provides(file: string): Promise<string[]> {
  return lines(await query(file, '--provides')).map((l) => l.trim()).sort();
}

/** Checks the payload against the staged tree: same files, same bytes, nothing added. */
async function assertPayloadIsTree(file: string, plan: PackagePlan, root: string): Promise<void> {
  const entries = await dump(file);
  const flags = await fileFlags(file);
  const tree = plan.contents[0] as string;
  const staged = await listTree(path.join(root, tree));
  const expectedPaths = [tree, ...staged.dirs.map((d) => `${tree}/${d}`), ...[...staged.files.keys()].map((f) => `${tree}/${f}`), ...plan.ownedDirs, ...plan.ghostFiles].sort();
  assert.deepEqual(entries.map((e) => e.path).sort(), expectedPaths, 'the payload holds exactly the staged tree, the owned directories and the ghosts');
  for (const entry of entries) {
    assert.equal(entry.owner, 'root', entry.path);
    assert.equal(entry.group, 'root', entry.path);
    if (plan.ghostFiles.includes(entry.path)) {
      assert.equal(flags.get(entry.path), 'g', `${entry.path} is a %ghost`);
      assert.equal(entry.size, 0);
      continue;
    }
    assert.equal(flags.get(entry.path), '', `${entry.path} has no file flags`);
    assert.equal(entry.mtime, EPOCH, `${entry.path}: mtime is SOURCE_DATE_EPOCH`);
    const rel = entry.path.slice(tree.length + 1);
    const digest = staged.files.get(rel);
    if (digest === undefined) {
      assert.equal(entry.mode, 0o40755, `${entry.path}: directories are 0755`);
      continue;
    }
    assert.equal(entry.digest, digest, `${entry.path}: the payload's file is the staged file, byte for byte`);
    const staged_mode = (await stat(path.join(root, entry.path))).mode;
    assert.equal(entry.mode, staged_mode, `${entry.path}: mode as staged`);
  }
}

describe('RpmPackager with the real rpmbuild', () => {
  it('builds a pure wheel package: noarch, planned requires only (the range a rich dependency), no provides but its own and its distribution, files as staged', async () => {
    const plan = purePlan();
    const { root } = await stageWheel(plan, PURE_FILES);
    const packager = new RpmPackager();
    const file = await build(plan, root);
    assert.equal(path.basename(file), packager.fileName(plan));
    assert.equal(path.basename(file), 'rpmtest-wheel-tinyvec-1.0-1.noarch.rpm');

    const header = await query(file, '--qf', '%{NAME}|%{EPOCHNUM}:%{VERSION}-%{RELEASE}|%{ARCH}|%{BUILDHOST}|%{BUILDTIME}|%{PACKAGER}|%{PAYLOADCOMPRESSOR}|%{PAYLOADFLAGS}|%{FILEDIGESTALGO}');
    // el9-py311's payload: zstd level 3 with libzstd workers (T0).
    assert.equal(header, `rpmtest-wheel-tinyvec|0:1.0-1|noarch|reqset|${EPOCH}|${MAINTAINER}|zstd|3T0|8`);

    // Only what the plan says: no /usr/bin/env, /usr/bin/perl, perl(...), python3dist(...), `python`.
    const expected = [...new Set([...rpmDependencies(plan), ...rpmScriptletDependencies(plan)])].sort();
    assert.deepEqual(await requires(file), expected);
    assert.ok(expected.includes('(rpmtest-pydist(typing-extensions) >= 4.0 with rpmtest-pydist(typing-extensions) < 5.0~~)'), expected.join('\n'));
    assert.deepEqual(await provides(file), ['rpmtest-pydist(tinyvec) = 1.0', 'rpmtest-wheel-tinyvec = 1.0-1']);
    await assertPayloadIsTree(file, plan, root);

    const scripts = await query(file, '--scripts');
    assert.match(scripts, /postinstall scriptlet \(using \/bin\/sh\):\nset -e\n\/usr\/bin\/python3\.11 \/opt\/rpmtest\/runtime\/reqset_runtime\.pyz rebuild-wheel /);
    assert.match(scripts, /postuninstall scriptlet \(using \/bin\/sh\):\nset -e\n(#.*\n)?if \[ "\$1" -eq 0 \]; then\n  rm -f \/opt\/rpmtest\/wheelhouse\/tinyvec-1\.0\.0-py3-none-any\.whl\nfi/);
    assert.doesNotMatch(scripts, /preuninstall/);
    const reqPost = lines(await query(file, '--qf', '[%{REQUIREFLAGS:deptype} %{REQUIRENAME}\\n]'));
    assert.ok(reqPost.includes('post /bin/sh') && reqPost.includes('postun /bin/sh'), reqPost.join('\n'));
    assert.ok(reqPost.includes('post rpmtest-runtime'), reqPost.join('\n'));
  });

  it('builds a compiled wheel package: x86_64, ELF requires kept, private library neither required nor provided, nothing stripped', async () => {
    const filename = 'pkg-1.0-cp311-cp311-linux_x86_64.whl';
    const plan = planWheelPackage({
      reqset: REQSET,
      target,
      key: 'pkg',
      version: '1.0',
      wheel: wheelName(filename),
      dependencies: [],
      compiledAgainst: [{ key: 'numpy', version: '1.26.4' }],
      bundledLibraries: [`pkg.libs/${PRIVATE_LIBRARY}`],
    });
    assert.deepEqual(plan.privateLibraries, [PRIVATE_LIBRARY]);
    assert.equal(plan.arch, 'x86_64');
    const { root, tree } = await stageWheel(plan, { 'pkg/__init__.py': 'from ._ext import *\n', 'pkg-1.0.dist-info/METADATA': 'Name: pkg\n' });
    const elf = await makeCompiledTree(tree);
    assert.deepEqual((await neededLibraries(path.join(tree, elf.extension))).sort(), [PRIVATE_LIBRARY, 'libm.so.6'].sort());

    const file = await build(plan, root);
    assert.equal(path.basename(file), 'rpmtest-wheel-pkg-1.0-1.x86_64.rpm');
    assert.equal(await query(file, '--qf', '%{ARCH}'), 'x86_64');

    const got = await requires(file);
    const planned = [...new Set([...rpmDependencies(plan), ...rpmScriptletDependencies(plan)])];
    const automatic = got.filter((r) => !planned.includes(r));
    for (const p of planned) assert.ok(got.includes(p), `requires ${p}`);
    assert.ok(got.includes('rpmtest-pydist(numpy) = 1.26.4'), 'exactly the version it was compiled against');
    assert.ok(automatic.includes('libm.so.6()(64bit)'), `libm is required: ${automatic.join(', ')}`);
    for (const r of automatic) {
      assert.match(r, /^(lib[^()]+\.so[^()]*\(.*\)\(64bit\)|ld-linux-x86-64\.so\.2.*|rtld\(GNU_HASH\))$/, `only ELF requires are generated: ${r}`);
      assert.doesNotMatch(r, /libfoo/, 'the bundled library is private');
    }
    assert.deepEqual(await provides(file), ['rpmtest-pydist(pkg) = 1.0', 'rpmtest-wheel-pkg = 1.0-1', 'rpmtest-wheel-pkg(x86-64) = 1.0-1']);
    // Not stripped, no build-id links, no debuginfo: the ELF files are byte for byte the staged ones.
    await assertPayloadIsTree(file, plan, root);
    assert.ok(!(await query(file, '-l')).includes('.build-id'));
  });

  it('builds the runtime package: owns the reqset directories, no scriptlets, requires the interpreter', async () => {
    const plan = planRuntimePackage(REQSET, target, '0.1.0');
    const root = path.join(await newDir('stage-runtime'), 'root');
    const paths = reqsetPaths(REQSET);
    await writeTree(root, { [paths.helper.slice(1)]: '# the helper\nprint("ok")\n' });
    const file = await build(plan, root);
    assert.equal(path.basename(file), 'rpmtest-runtime-0.1-1.noarch.rpm');
    assert.deepEqual(await requires(file), ['python(abi) = 3.11', 'python3.11']);
    assert.deepEqual(await provides(file), ['rpmtest-runtime = 0.1-1']);
    assert.equal(await query(file, '--scripts'), '');
    const entries = new Map((await dump(file)).map((e) => [e.path, e]));
    assert.deepEqual([...entries.keys()].sort(), [paths.root, paths.runtimeDir, paths.helper, paths.wheelhouse, paths.wheels].sort());
    for (const dir of [paths.root, paths.wheels, paths.wheelhouse, paths.runtimeDir]) assert.equal(entries.get(dir)?.mode, 0o40755, dir);
    assert.equal(entries.get(paths.helper)?.digest, sha256('# the helper\nprint("ok")\n'));
  });

  it('builds a package with an epoch and a pre-release version', async () => {
    const plan = planWheelPackage({
      reqset: REQSET,
      target,
      key: 'oddver',
      version: '1!2.0rc1',
      wheel: wheelName('oddver-1!2.0rc1-py3-none-any.whl'),
      summary: 'Odd: 100% pre-release',
      dependencies: [{ key: 'tinyvec', specifier: '>=1!1.0.post1,<1!2' }],
      compiledAgainst: [],
      bundledLibraries: [],
    });
    const { root } = await stageWheel(plan, { 'oddver/__init__.py': '' });
    const packager = new RpmPackager();
    const file = await build(plan, root);
    assert.equal(path.basename(file), 'rpmtest-wheel-oddver-2.0~rc1-1.noarch.rpm');
    assert.equal(await query(file, '--qf', '%{EPOCH}:%{VERSION}-%{RELEASE}'), packager.version(plan));
    assert.ok((await requires(file)).includes('(rpmtest-pydist(tinyvec) >= 1:1.0+post1 with rpmtest-pydist(tinyvec) < 1:2.0~~)'));
    assert.ok((await provides(file)).includes('rpmtest-pydist(oddver) = 1:2.0~rc1'), 'the PEP 440 epoch in the provided version');
    assert.match(await query(file, '--qf', '%{DESCRIPTION}'), /\nOdd: 100% pre-release$/);
    await assertPayloadIsTree(file, plan, root);
  });

  it('resolves pydist requirements with the real rpm: a range, and the compiled-against pin whatever the provider\'s package epoch and release', async () => {
    /** Only the pydist relations: nothing else for rpm to resolve in an empty root. */
    const pydistOnly = (plan: PackagePlan): PackagePlan => ({ ...plan, requires: plan.requires.filter((r) => r.kind === 'pydist'), scriptletRequires: [], scriptlets: {} });
    const wheelPlan = (key: string, version: string, extra: Partial<Parameters<typeof planWheelPackage>[0]> = {}) =>
      pydistOnly(planWheelPackage({ reqset: REQSET, target, key, version, wheel: wheelName(`${key}-${version}-py3-none-any.whl`), dependencies: [], compiledAgainst: [], bundledLibraries: [], ...extra }));
    const make = async (plan: PackagePlan, label: string) => build(plan, (await stageWheel(plan, { [`${plan.name}/__init__.py`]: '' })).root, label);

    const lib = async (version: string, epoch?: number, release = '1') => make({ ...wheelPlan('lib', version), ...(epoch === undefined ? {} : { epoch }), release }, `lib-${version}-${epoch ?? 0}-${release}`);
    const app = await make(wheelPlan('app', '1.0', { dependencies: [{ key: 'lib', specifier: '>=1.0,<2' }] }), 'app');
    const ext = await make(wheelPlan('ext', '1.0', { compiledAgainst: [{ key: 'lib', version: '1.0' }] }), 'ext');
    assert.deepEqual(await requires(app), ['(rpmtest-pydist(lib) >= 1.0 with rpmtest-pydist(lib) < 2.0~~)']);
    assert.deepEqual(await requires(ext), ['rpmtest-pydist(lib) = 1.0']);

    const lib10 = await lib('1.0');
    const lib10Rebuilt = await lib('1.0', 1, '2');
    assert.deepEqual(await provides(lib10Rebuilt), ['rpmtest-pydist(lib) = 1.0', 'rpmtest-wheel-lib = 1:1.0-2'], 'the package epoch and release stay out of the provided version');
    const lib19post = await lib('1.9.post1');
    const lib20rc1 = await lib('2.0rc1');
    const lib20 = await lib('2.0');
    const lib09 = await lib('0.9');
    const lib10post = await lib('1.0.post1');

    const chroot = await newDir('chroot-pydist');
    await mkdir(path.join(chroot, 'var/lib/rpm'), { recursive: true });
    await run(['rpm', '--root', chroot, '--dbpath', '/var/lib/rpm', '--initdb']);
    /** `rpm -i --test` of the files together: whether their requirements are met among them. */
    const resolves = async (...files: string[]) => {
      const result = await run(['rpm', '--root', chroot, '--dbpath', '/var/lib/rpm', '-i', '--test', ...files], { allowFailure: true });
      return { ok: result.exitCode === 0, stderr: result.stderr };
    };
    for (const [provider, label] of [[lib10, '1.0'], [lib10Rebuilt, '1:1.0-2'], [lib19post, '1.9.post1']] as const) {
      assert.ok((await resolves(provider, app)).ok, `lib ${label} is within >=1.0,<2`);
    }
    for (const [provider, label] of [[lib20rc1, '2.0rc1'], [lib20, '2.0'], [lib09, '0.9']] as const) {
      const result = await resolves(provider, app);
      assert.ok(!result.ok, `lib ${label} is outside >=1.0,<2`);
      assert.match(result.stderr, /rpmtest-pydist\(lib\) >= 1\.0 with rpmtest-pydist\(lib\) < 2\.0~~\) is needed by rpmtest-wheel-app/);
    }
    assert.ok((await resolves(lib10, ext)).ok, 'the compiled-against version');
    assert.ok((await resolves(lib10Rebuilt, ext)).ok, 'the compiled-against version, rebuilt at another epoch and release');
    const post = await resolves(lib10post, ext);
    assert.ok(!post.ok, 'not its post-release');
    assert.match(post.stderr, /rpmtest-pydist\(lib\) = 1\.0 is needed by rpmtest-wheel-ext/);
    assert.ok(!(await resolves(app)).ok, 'nothing provides it');
  });

  it('builds an aarch64 package on this host (rpmbuild --target)', async () => {
    const plan = { ...purePlan(), name: 'rpmtest-wheel-armonly', arch: 'aarch64' as const };
    const { root } = await stageWheel(plan, { 'armonly/__init__.py': 'x = 1\n' });
    const file = await build(plan, root);
    assert.equal(path.basename(file), 'rpmtest-wheel-armonly-1.0-1.aarch64.rpm');
    assert.equal(await query(file, '--qf', '%{ARCH}'), 'aarch64');
  });

  it('fails with rpmbuild\'s own message when a planned path is not staged', async () => {
    const plan = purePlan();
    const root = path.join(await newDir('stage-empty'), 'root');
    await mkdir(root, { recursive: true });
    await assert.rejects(build(plan, root, 'missing'), (error: Error) => {
      assert.equal(error.name, 'ToolError');
      assert.match(error.message, /rpmbuild -bb/);
      assert.match(error.message, /File not found/);
      return true;
    });
  });

  it('compresses the payload as asked, and the real rpm reads every one back: xz 2 by default, xz and zstd at other levels', async () => {
    const plan = purePlan();
    const { root, tree } = await stageWheel(plan, PURE_FILES);
    const staged = await listTree(tree);
    const cases: [Payload | null, string, string][] = [
      [null, 'xz', '2'],
      [{ compression: 'xz', level: 2 }, 'xz', '2'],
      [{ compression: 'xz', level: 6 }, 'xz', '6'],
      [{ compression: 'zstd', level: 3 }, 'zstd', '3T0'],
      [{ compression: 'zstd', level: 19 }, 'zstd', '19T0'],
    ];
    for (const [payload, compressor, flags] of cases) {
      const label = payload ? `${payload.compression}-${payload.level}` : 'default';
      const file = await build(plan, root, `payload-${label}`, payload);
      assert.equal(await query(file, '--qf', '%{PAYLOADCOMPRESSOR}|%{PAYLOADFLAGS}'), `${compressor}|${flags}`, label);
      const rpmlib = lines(await query(file, '--requires')).filter((l) => l.startsWith('rpmlib(Payload'));
      assert.equal(rpmlib.some((l) => l.startsWith('rpmlib(PayloadIsZstd)')), compressor === 'zstd', `${label}: ${rpmlib.join(', ')}`);
      // rpm's own reader decompresses the payload: rpm2archive turns it into a tar.
      const out = await newDir(`unpacked-${label}`);
      await run(['sh', '-c', 'rpm2archive -n - < "$1" | tar -x -C "$2"', 'sh', file, out]);
      const unpacked = await listTree(path.join(out, plan.contents[0] as string));
      assert.deepEqual([...unpacked.files].sort(), [...staged.files].sort(), `${label}: the payload decompresses to the staged files`);
      assert.equal((await run(['rpm', '-K', '--nosignature', file])).exitCode, 0, `${label}: digests check out`);
    }
  });

  it('builds the same zstd package whatever the number of CPUs (T0: libzstd workers, 1 or more give the same bytes)', async (t) => {
    const cpus = Number((await run(['rpm', '--eval', '%{getncpus}'])).stdout.trim());
    if (cpus < 2) {
      t.skip(`rpm sees ${cpus} CPU here: nothing to compare`);
      return;
    }
    // rpmbuild pinned to one CPU: %{getncpus} is 1, so T0 means one worker.
    const pinned = path.join(await newDir('taskset'), 'rpmbuild');
    await writeFile(pinned, '#!/bin/sh\nexec taskset -c 0 rpmbuild "$@"\n');
    await chmod(pinned, 0o755);
    assert.equal((await run(['taskset', '-c', '0', 'rpm', '--eval', '%{getncpus}'])).stdout.trim(), '1');
    // Some 20 MB of hex digests (half of it compresses away), more than two
    // libzstd jobs (8 MB of input each at level 3), so the workers share the work.
    const big: Tree = { ...PURE_FILES };
    for (let i = 0; i < 20; i++) {
      const lines: string[] = [];
      for (let j = 0; j < 16384; j++) lines.push(sha256(`${i}/${j}`));
      big[`tinyvec/data/digests${i}.txt`] = lines.join('\n') + '\n';
    }
    const plan = purePlan();
    const { root } = await stageWheel(plan, big);
    const payload: Payload = { compression: 'zstd', level: 3 };
    const many = await build(plan, root, 'cpus-many', payload);
    const one = await build(plan, root, 'cpus-one', payload, pinned);
    t.diagnostic(`${cpus} CPUs and 1 CPU: ${(await stat(many)).size} bytes`);
    assert.equal(sha256(await readFile(one)), sha256(await readFile(many)));
  });

  it('is reproducible: other TZ, umask, working directory, staging directory and staged mtimes give the same bytes', async () => {
    const plan = purePlan();
    const first = await stageWheel(plan, PURE_FILES);
    const fileA = await build(plan, first.root, 'repro-a');

    // The second tree: staged later under umask 077 (directories 0700), with other mtimes.
    const oldUmask = process.umask(0o077);
    const oldTz = process.env.TZ;
    const oldCwd = process.cwd();
    let fileB: string;
    try {
      const second = await stageWheel(plan, PURE_FILES, path.join(await newDir('stage-b'), 'deeper', 'root'));
      await utimes(path.join(second.tree, 'tinyvec/vec.py'), 1234567890, 1234567890);
      await utimes(path.join(second.tree, 'tinyvec'), 2000000000, 2000000000);
      process.env.TZ = 'Asia/Tokyo';
      process.chdir(await newDir('elsewhere'));
      fileB = await build(plan, second.root, 'repro-b');
    } finally {
      process.umask(oldUmask);
      if (oldTz === undefined) delete process.env.TZ;
      else process.env.TZ = oldTz;
      process.chdir(oldCwd);
    }
    assert.notEqual(path.dirname(fileA), path.dirname(fileB));
    assert.equal(sha256(await readFile(fileB)), sha256(await readFile(fileA)));
  });

  for (const payload of [{ compression: 'xz', level: 2 }, { compression: 'zstd', level: 3 }] as Payload[]) {
    it(`makes deltas that rebuild the new package byte for byte (makedeltarpm, applydeltarpm -r): ${payload.compression} ${payload.level}`, async (t) => {
      // Some 300 kB of text that does not compress away, so the delta's size means something.
      let seed = 42;
      const word = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed.toString(36);
      };
      const big: Tree = { ...PURE_FILES };
      for (let i = 0; i < 30; i++) big[`tinyvec/data/module${i}.py`] = Array.from({ length: 1500 }, word).join(' ') + '\n';
      const v1 = purePlan('1.0.0');
      const v2 = purePlan('1.0.1');
      const changed = { ...big, 'tinyvec/vec.py': 'class Vec:\n    """Now with a docstring."""\n' };
      const old = await build(v1, (await stageWheel(v1, big)).root, undefined, payload);
      const neu = await build(v2, (await stageWheel(v2, changed)).root, undefined, payload);
      const dir = await newDir(`delta-${payload.compression}`);
      const delta = path.join(dir, 'd.drpm');
      const rebuilt = path.join(dir, 'rebuilt.rpm');
      await run(['makedeltarpm', old, neu, delta]);
      await run(['applydeltarpm', '-r', old, delta, rebuilt]);
      assert.equal(await query(neu, '--qf', '%{PAYLOADCOMPRESSOR}'), payload.compression);
      assert.equal(sha256(await readFile(rebuilt)), sha256(await readFile(neu)), 'applydeltarpm reproduces the new package');
      const sizes = { full: (await stat(neu)).size, delta: (await stat(delta)).size };
      t.diagnostic(`full package ${sizes.full} bytes, delta ${sizes.delta} bytes`);
      assert.ok(sizes.delta * 5 < sizes.full, `the delta is small: ${JSON.stringify(sizes)}`);
    });
  }
});

/**
 * The scriptlets under the real rpm, in a throwaway root whose /bin/sh is a
 * static busybox (rpm runs scriptlets chrooted into --root).
 */
describe('RpmPackager scriptlets under the real rpm', () => {
  const GHOST = (version: string) => `/opt/${REQSET}/wheelhouse/tinyvec-${version}-py3-none-any.whl`;
  /** A wheel plan whose scriptlets only log and touch files (no Python in the chroot). */
  function scriptPlan(version: string): PackagePlan {
    const plan = purePlan(version);
    const ghost = plan.ghostFiles[0] as string;
    assert.equal(ghost, GHOST(version));
    plan.scriptlets = {
      afterInstall: `echo "post ${version} $1" >> /events\necho rebuilt > ${ghost}`,
      beforeRemove: `echo "preun ${version} $1" >> /events`,
      afterRemove: `echo "postun ${version} $1" >> /events\n${plan.scriptlets.afterRemove}`,
    };
    return plan;
  }

  it('post-install always, removal scriptlets only on erase; ghosts: created by post, left exactly the new one on upgrade, removed on erase', async () => {
    const chroot = await newDir('chroot');
    for (const dir of ['bin', 'var/tmp', 'var/lib/rpm', 'tmp']) await mkdir(path.join(chroot, dir), { recursive: true });
    await copyFile(BUSYBOX as string, path.join(chroot, 'bin/busybox'));
    await chmod(path.join(chroot, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'rm', 'echo', 'cat']) await symlink('busybox', path.join(chroot, 'bin', applet));
    const rpm = (...args: string[]) => run(['rpm', '--root', chroot, '--dbpath', '/var/lib/rpm', ...args]);
    await rpm('--initdb');

    const runtime = planRuntimePackage(REQSET, target, '0.1.0');
    const runtimeRoot = path.join(await newDir('stage-rt'), 'root');
    await writeTree(runtimeRoot, { [reqsetPaths(REQSET).helper.slice(1)]: 'print("ok")\n' });
    const runtimeFile = await build(runtime, runtimeRoot, 'rt');
    const v1 = scriptPlan('1.0.0');
    const v2 = scriptPlan('1.0.1');
    const file1 = await build(v1, (await stageWheel(v1, PURE_FILES)).root, 'v1');
    const file2 = await build(v2, (await stageWheel(v2, { ...PURE_FILES, 'tinyvec/vec.py': 'v2\n' })).root, 'v2');

    const events = async () => lines(await readFile(path.join(chroot, 'events'), 'utf8').catch(() => ''));
    const exists = (p: string) => existsSync(path.join(chroot, p));
    const tree = (plan: PackagePlan) => plan.contents[0] as string;

    await rpm('-i', '--nodeps', runtimeFile, file1);
    assert.deepEqual(await events(), ['post 1.0.0 1']);
    assert.ok(exists(GHOST('1.0.0')), 'post-install made the ghost file');
    assert.ok(exists(`${tree(v1)}/tinyvec/vec.py`));

    await rpm('-U', '--nodeps', file2);
    assert.deepEqual(await events(), ['post 1.0.0 1', 'post 1.0.1 2'], 'upgrade: the new post runs, the old removal scriptlets do nothing');
    assert.ok(exists(GHOST('1.0.1')), 'the new wheel file');
    assert.ok(!exists(GHOST('1.0.0')), 'rpm removed the old ghost');
    assert.ok(!exists(tree(v1)) && exists(tree(v2)));
    assert.equal(await readFile(path.join(chroot, tree(v2), 'tinyvec/vec.py'), 'utf8'), 'v2\n');

    await rpm('-U', '--nodeps', '--oldpackage', file1);
    assert.deepEqual((await events()).slice(2), ['post 1.0.0 2'], 'downgrade: post-install with $1 = 2, nothing removed');
    assert.ok(exists(GHOST('1.0.0')) && !exists(GHOST('1.0.1')), 'after the downgrade: exactly the old version\'s wheel file');

    await rpm('-U', '--nodeps', '--replacepkgs', file1);
    assert.deepEqual((await events()).slice(3), ['post 1.0.0 2'], 'reinstall: post-install again, the ghost stays');
    assert.ok(exists(GHOST('1.0.0')));

    await rpm('-e', '--nodeps', 'rpmtest-wheel-tinyvec');
    assert.deepEqual((await events()).slice(4), ['preun 1.0.0 0', 'postun 1.0.0 0'], 'erase: both removal scriptlets with $1 = 0');
    assert.ok(!exists(GHOST('1.0.0')), 'erase removed the wheel file');
    assert.ok(!exists(tree(v1)));
    assert.ok(exists(`/opt/${REQSET}/wheelhouse`), 'the runtime package still owns the wheelhouse');
    await rpm('-e', '--nodeps', 'rpmtest-runtime');
    assert.ok(!exists(`/opt/${REQSET}`), 'erasing the runtime removes /opt/<reqset>');
  });

  it('rpm itself never creates the ghost file: only the post-install does', async () => {
    const chroot = await newDir('chroot-noscripts');
    await mkdir(path.join(chroot, 'var/lib/rpm'), { recursive: true });
    const rpm = (...args: string[]) => run(['rpm', '--root', chroot, '--dbpath', '/var/lib/rpm', ...args]);
    await rpm('--initdb');
    const plan = purePlan('3.0');
    const file = await build(plan, (await stageWheel(plan, PURE_FILES)).root, 'noscripts');
    await rpm('-i', '--nodeps', '--noscripts', file);
    assert.ok(existsSync(path.join(chroot, plan.contents[0] as string, 'tinyvec/vec.py')));
    assert.ok(!existsSync(path.join(chroot, plan.ghostFiles[0] as string)), 'no ghost file without the post-install');
    assert.match((await rpm('-q', '--qf', '[%{FILEFLAGS:fflags} %{FILENAMES}\\n]', plan.name)).stdout, new RegExp(`^g ${plan.ghostFiles[0]}$`, 'm'));
    await rpm('-e', '--nodeps', '--noscripts', plan.name);
    assert.ok(!existsSync(path.join(chroot, plan.contents[0] as string)));
  });

  it('a failing command stops the post-install, and rpm reports it (set -e)', async () => {
    const chroot = await newDir('chroot-fail');
    for (const dir of ['bin', 'var/tmp', 'var/lib/rpm', 'tmp']) await mkdir(path.join(chroot, dir), { recursive: true });
    await copyFile(BUSYBOX as string, path.join(chroot, 'bin/busybox'));
    await chmod(path.join(chroot, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'false', 'echo']) await symlink('busybox', path.join(chroot, 'bin', applet));
    await run(['rpm', '--root', chroot, '--dbpath', '/var/lib/rpm', '--initdb']);
    const plan = purePlan('2.0');
    plan.scriptlets = { afterInstall: 'false\necho "not reached" > /reached' };
    const file = await build(plan, (await stageWheel(plan, PURE_FILES)).root, 'failing');
    // rpm treats a failed %post as a warning (the files are in place by
    // then) and dnf as "Error in POSTIN scriptlet"; its exit code stays 0.
    const result = await run(['rpm', '--root', chroot, '--dbpath', '/var/lib/rpm', '-i', '--nodeps', file], { allowFailure: true });
    assert.match(result.stderr, /%post\(rpmtest-wheel-tinyvec-2\.0-1\.noarch\) scriptlet failed, exit status 1/);
    assert.ok(!existsSync(path.join(chroot, 'reached')));
  });
});
