/**
 * What the RPM packager reads back from the header of a package it built
 * (src/packagers/rpm/header.ts) against what the real rpm says, and the
 * check that replaces rpmbuild's check-files: a staged file the package does
 * not hold fails the build.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ToolError } from '../../src/errors.ts';
import type { PackagePlan } from '../../src/packagers/packager.ts';
import { planRuntimePackage, planWheelPackage } from '../../src/packagers/plan.ts';
import { readRpmContents } from '../../src/packagers/rpm/header.ts';
import { RpmPackager } from '../../src/packagers/rpm/index.ts';
import { parseWheelFilename } from '../../src/python/tags.ts';
import { run } from '../../src/run.ts';
import { parseTarget, type Target } from '../../src/targets/target.ts';

const TARGET_FILE = path.resolve(import.meta.dirname, '..', '..', 'packaging', 'targets', 'el9-py311.yml');
let scratch: string;
let target: Target;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'reqset-rpm-header-'));
  target = parseTarget(await readFile(TARGET_FILE, 'utf8'), TARGET_FILE);
});
after(() => rm(scratch, { recursive: true, force: true }));

function wheelPlan(): PackagePlan {
  const filename = 'tinyvec-1.0.0-py3-none-any.whl';
  const name = parseWheelFilename(filename);
  if (!name) throw new Error(filename);
  const dependencies = [{ key: 'typing-extensions', specifier: '>=4,<5' }, { key: 'numpy', specifier: '==1.26.4' }];
  return planWheelPackage({ reqset: 'hdr', target, key: 'tinyvec', version: '1.0.0', wheel: { filename, name }, dependencies, compiledAgainst: [], bundledLibraries: [] });
}

/** Builds `plan` from a root holding `files` (target paths). */
async function build(plan: PackagePlan, files: string[], name: string): Promise<string> {
  const root = path.join(scratch, name, 'root');
  for (const file of files) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), `${file}\n`);
  }
  const work = path.join(scratch, name);
  const built = await new RpmPackager().build(plan, root, { epoch: 1700000000, outDir: path.join(work, 'out'), workDir: path.join(work, 'work'), maintainer: 'tests <t@example.invalid>', payload: target.payload });
  return built.path;
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('readRpmContents', () => {
  it('reads the requires (versioned, rich, scriptlet ones, in order) and the files as rpm shows them', async () => {
    const plan = wheelPlan();
    const tree = plan.contents[0] as string;
    const file = await build(plan, [`${tree}/tinyvec/__init__.py`, `${tree}/tinyvec-1.0.0.dist-info/METADATA`], 'wheel');
    const contents = await readRpmContents(file);
    assert.deepEqual(contents.requires, lines((await run(['rpm', '-qp', '--requires', file])).stdout));
    assert.ok(contents.requires.some((r) => / with /.test(r)) && contents.requires.some((r) => / = /.test(r)), contents.requires.join('\n'));
    assert.deepEqual(contents.files, lines((await run(['rpm', '-qpl', file])).stdout));
  });

  it('says which file is not an RPM package', async () => {
    const notRpm = path.join(scratch, 'not.rpm');
    await writeFile(notRpm, Buffer.alloc(200));
    await assert.rejects(readRpmContents(notRpm), (error: Error) => error instanceof ToolError && error.message.includes(`${notRpm}: not an RPM package`));
  });
});

describe('RpmPackager.build without check-files', () => {
  it('fails when the staged tree holds a file the package does not', async () => {
    const plan = planRuntimePackage('hdr', target, '0.1.0');
    const helper = plan.contents.find((c) => c.endsWith('.pyz')) ?? (plan.contents[0] as string);
    await assert.rejects(build(plan, [helper, '/opt/elsewhere/stray.txt'], 'stray'), /holds files its package does not: \/opt\/elsewhere\/stray\.txt/);
  });
});
