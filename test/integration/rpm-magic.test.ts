/**
 * rpmbuild classifies files with reqset's ELF-only libmagic database
 * (src/packagers/rpm/magic.ts) instead of the system's, which took most of
 * the time of a 20,000-file package. The package must carry the same
 * dependencies, provides and file colors as with the system database: the
 * same spec is built again by plain rpmbuild, without MAGIC, and compared.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { planWheelPackage } from '../../src/packagers/plan.ts';
import { BUILD_NAME_FORMAT, RpmPackager } from '../../src/packagers/rpm/index.ts';
import { wheelFilenameOrThrow } from '../../src/python/tags.ts';
import { run } from '../../src/run.ts';
import { parseTarget } from '../../src/targets/target.ts';
import { makeCompiledTree, PRIVATE_LIBRARY } from '../helpers/elf-fixtures.ts';
import { REPO_ROOT } from '../helpers/env.ts';

const EPOCH = 1700000000;
let tmp = '';

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'reqset-rpm-magic-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const query = async (file: string, qf: string) => (await run(['rpm', '-qp', '--nosignature', '--qf', qf, file])).stdout;
const dependencies = async (file: string) => (await run(['rpm', '-qp', '--nosignature', '--requires', '--provides', file])).stdout;

test('a package classified with reqset\'s ELF-only magic has the dependencies and colors the system database gives', async () => {
  const targetFile = path.join(REPO_ROOT, 'packaging', 'targets', 'el9-py311.yml');
  const target = parseTarget(await readFile(targetFile, 'utf8'), targetFile);
  const plan = planWheelPackage({
    reqset: 'magic',
    target,
    key: 'pkg',
    version: '1.0',
    wheel: { filename: 'pkg-1.0-cp311-cp311-linux_x86_64.whl', name: wheelFilenameOrThrow('pkg-1.0-cp311-cp311-linux_x86_64.whl') },
    summary: 'ELF files and others',
    license: 'MIT',
    dependencies: [],
    compiledAgainst: [],
    bundledLibraries: [`pkg.libs/${PRIVATE_LIBRARY}`],
  });
  const root = path.join(tmp, 'root');
  const tree = path.join(root, plan.contents[0] as string);
  await mkdir(tree, { recursive: true });
  const elf = await makeCompiledTree(tree);
  await copyFile('/bin/true', path.join(tree, 'pkg', 'true-executable'));
  await writeFile(path.join(tree, 'pkg', '__init__.py'), 'X = 1\n');
  await writeFile(path.join(tree, '.reqset-wheel.json'), '{}\n');

  const work = path.join(tmp, 'work');
  const built = await new RpmPackager().build(plan, root, { epoch: EPOCH, outDir: path.join(tmp, 'out'), workDir: work, maintainer: 'tests <t@example.invalid>' });
  const classes = await query(built.path, '[%{FILECLASS}\t%{FILENAMES}\n]');
  assert.match(classes, new RegExp(`^ELF 64-bit LSB shared object[^\\t]*\\t\\S+/${elf.extension.replace(/\./g, '\\.')}$`, 'm'), classes);
  assert.match(classes, /^ELF 64-bit LSB (shared object|executable)[^\t]*\t\S+\/true-executable$/m, classes);
  assert.doesNotMatch(classes, /^ELF[^\n]*\.py$/m, 'a Python file is not classified as ELF');

  // The same spec through rpmbuild with the system's database.
  const plain = path.join(tmp, 'plain');
  await mkdir(path.join(plain, 'topdir'), { recursive: true });
  await run(
    ['rpmbuild', '-bb', '--nodeps', '--define', `_topdir ${path.join(plain, 'topdir')}`, '--define', `_rpmdir ${plain}`, '--define', `_build_name_fmt ${BUILD_NAME_FORMAT}`, '--buildroot', root, '--target', plan.arch, path.join(work, `${plan.name}.spec`)],
    { cwd: plain, env: { SOURCE_DATE_EPOCH: String(EPOCH), TZ: 'UTC', LC_ALL: 'C', HOME: plain, MAGIC: undefined } },
  );
  const reference = path.join(plain, path.basename(built.path));
  assert.equal(await dependencies(built.path), await dependencies(reference));
  assert.ok((await dependencies(built.path)).includes('libm.so.6()(64bit)'));
  assert.equal(await query(built.path, '[%{FILECOLORS} %{FILENAMES}\n]'), await query(reference, '[%{FILECOLORS} %{FILENAMES}\n]'));
  assert.notEqual(await query(reference, '[%{FILECLASS}\n]'), await query(built.path, '[%{FILECLASS}\n]'), 'the system database did classify differently (so MAGIC was in force)');
});
