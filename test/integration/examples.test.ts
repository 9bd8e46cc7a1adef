/**
 * The example projects behind the bundled reqset `reqsset3`, built the way
 * reqset builds them: deterministic sdists from scripts/example-sdists.ts, then
 * plain `pip wheel --no-deps`, offline, the C-API provider (tinyvec) first and
 * its consumer (tinystats) with the pins as constraints, then an install into a
 * fresh virtualenv and a run of the application's console script.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildExampleSdists } from '../../scripts/example-sdists.ts';
import { InputError } from '../../src/errors.ts';
import { run } from '../../src/run.ts';
import { REPO_ROOT } from '../helpers/env.ts';

const SDISTS = [
  'an_example_pypi_project-0.0.4.tar.gz',
  'textfmt-1.0.0.tar.gz',
  'tinystats-1.0.0.tar.gz',
  'tinyvec-1.0.0.tar.gz',
];
const BOOTSTRAP = ['setuptools-65.5.0-py3-none-any.whl', 'wheel-0.38.4-py3-none-any.whl'];

/** pip isolated from the user's configuration and cache, quiet about itself. */
const PIP_ENV = {
  PIP_CONFIG_FILE: os.devNull,
  PIP_NO_CACHE_DIR: '1',
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  PIP_ROOT_USER_ACTION: 'ignore',
  PIP_NO_INPUT: '1',
  PIP_CONSTRAINT: undefined,
} as const;

let tmp = '';
let dist = '';

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reqset-examples-'));
  dist = path.join(tmp, 'dist');
  await buildExampleSdists(dist);
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function python(code: string, ...args: string[]): Promise<string> {
  return (await run(['python3', '-c', code, ...args])).stdout;
}

async function sdistMembers(file: string): Promise<Array<{ name: string; uid: number; gid: number; mtime: number; mode: number }>> {
  const out = await python(
    'import json, sys, tarfile\n' +
      'with tarfile.open(sys.argv[1]) as t:\n' +
      '    print(json.dumps([dict(name=m.name, uid=m.uid, gid=m.gid, mtime=m.mtime, mode=m.mode) for m in t.getmembers()]))',
    file,
  );
  return JSON.parse(out) as Array<{ name: string; uid: number; gid: number; mtime: number; mode: number }>;
}

async function sdistFile(file: string, member: string): Promise<string> {
  return python('import sys, tarfile\nwith tarfile.open(sys.argv[1]) as t: sys.stdout.write(t.extractfile(sys.argv[2]).read().decode())', file, member);
}

async function wheelNames(file: string): Promise<string[]> {
  const out = await python('import sys, zipfile\nprint("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', file);
  return out.trim().split('\n');
}

async function wheelMetadata(file: string): Promise<string> {
  return python(
    'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n' +
      'sys.stdout.write(z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode())',
    file,
  );
}

/** `pip wheel --no-deps` of one pin, offline; returns the seconds it took. */
async function pipWheel(spec: string, findLinks: string[], wheelDir: string, constraints?: string): Promise<number> {
  const started = performance.now();
  await run(
    [
      'python3', '-m', 'pip', 'wheel', '--no-deps', '--no-index',
      ...findLinks.flatMap((dir) => ['--find-links', dir]),
      '--wheel-dir', wheelDir, spec,
    ],
    { env: { ...PIP_ENV, PIP_CONSTRAINT: constraints }, tailLines: 40 },
  );
  return (performance.now() - started) / 1000;
}

test('buildExampleSdists writes the four sdists and the two bootstrap wheels', async () => {
  const files = (await readdir(dist)).sort();
  assert.deepEqual(files, [...SDISTS, ...BOOTSTRAP].sort());
  for (const sdist of SDISTS) {
    const top = sdist.replace(/\.tar\.gz$/, '');
    const members = await sdistMembers(path.join(dist, sdist));
    assert.equal(members[0]?.name, top, `${sdist}: the top directory comes first`);
    const names = members.map((m) => m.name);
    assert.deepEqual(names, [...names].sort(), `${sdist}: sorted entries`);
    for (const m of members) {
      assert.ok(m.name === top || m.name.startsWith(`${top}/`), `${sdist}: ${m.name} is under ${top}/`);
      assert.equal(m.uid, 0);
      assert.equal(m.gid, 0);
      assert.equal(m.mtime, Date.UTC(2020, 0, 1) / 1000);
      assert.ok(m.mode === 0o644 || m.mode === 0o755, `${m.name}: mode ${m.mode.toString(8)}`);
    }
    assert.ok(names.includes(`${top}/pyproject.toml`));
    assert.ok(!names.some((n) => /__pycache__|\.pyc$|\.so$|egg-info/.test(n)), `${sdist}: no build litter`);
    const pkgInfo = await sdistFile(path.join(dist, sdist), `${top}/PKG-INFO`);
    const [name, version] = top.split('-');
    assert.match(pkgInfo, /^Metadata-Version: 2\.1\n/);
    assert.match(pkgInfo, new RegExp(`^Name: ${name}$`, 'm'));
    assert.match(pkgInfo, new RegExp(`^Version: ${version?.replace(/\./g, '\\.')}$`, 'm'));
  }
  const tinyvec = (await sdistMembers(path.join(dist, 'tinyvec-1.0.0.tar.gz'))).map((m) => m.name);
  assert.ok(tinyvec.includes('tinyvec-1.0.0/tinyvec/include/tinyvec/tinyvec.h'));
  const tinystatsInfo = await sdistFile(path.join(dist, 'tinystats-1.0.0.tar.gz'), 'tinystats-1.0.0/PKG-INFO');
  assert.match(tinystatsInfo, /^Requires-Dist: tinyvec>=1\.0$/m);
});

test('two runs give byte-identical files', async () => {
  const again = path.join(tmp, 'dist-again');
  const written = await buildExampleSdists(again);
  assert.equal(written.length, SDISTS.length + BOOTSTRAP.length);
  for (const file of written) {
    const name = path.basename(file);
    assert.equal(await sha256(file), await sha256(path.join(dist, name)), `${name} differs between two runs`);
  }
});

test('examples/dist, checked in so that `npx reqset build reqsset3` works on a fresh clone, is what the script writes from examples/', async () => {
  const committed = path.join(REPO_ROOT, 'examples', 'dist');
  assert.deepEqual((await readdir(committed)).sort(), [...SDISTS, ...BOOTSTRAP].sort(), 'examples/dist holds exactly the sdists and bootstrap wheels');
  for (const name of [...SDISTS, ...BOOTSTRAP]) {
    assert.equal(
      await sha256(path.join(committed, name)),
      await sha256(path.join(dist, name)),
      `examples/dist/${name} is stale: run \`node --import tsx scripts/example-sdists.ts\` and commit examples/dist`,
    );
  }
});

test('a bad version override is an InputError that names the project', async () => {
  await assert.rejects(buildExampleSdists(path.join(tmp, 'bad'), { versions: { nosuchproject: '1.0' } }), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /nosuchproject/);
    return true;
  });
  await assert.rejects(buildExampleSdists(path.join(tmp, 'bad'), { versions: { textfmt: 'not a version' } }), InputError);
});

test('pip builds the wheels offline in dependency order and the application runs', async (t) => {
  const wheels = path.join(tmp, 'wheels');
  await mkdir(wheels);
  // A newer tinyvec is on offer too: only the constraint keeps the build
  // environment of tinystats on the pinned 1.0.0 (the reqset pins it).
  const newer = path.join(tmp, 'newer');
  await buildExampleSdists(path.join(tmp, 'newer-all'), { versions: { tinyvec: '1.1.0' } });
  await mkdir(newer);
  await copyFile(path.join(tmp, 'newer-all', 'tinyvec-1.1.0.tar.gz'), path.join(newer, 'tinyvec-1.1.0.tar.gz'));
  const constraints = path.join(tmp, 'constraints.txt');
  await writeFile(constraints, 'tinyvec==1.0.0\nsetuptools==65.5.0\nwheel==0.38.4\n');

  const seconds: Record<string, number> = {};
  seconds['tinyvec'] = await pipWheel('tinyvec==1.0.0', [dist], wheels, constraints);
  seconds['tinystats'] = await pipWheel('tinystats==1.0.0', [dist, wheels, newer], wheels, constraints);
  seconds['textfmt'] = await pipWheel('textfmt==1.0.0', [dist, wheels], wheels, constraints);
  seconds['an_example_pypi_project'] = await pipWheel('an_example_pypi_project==0.0.4', [dist, wheels], wheels, constraints);
  t.diagnostic(`pip wheel seconds: ${Object.entries(seconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);

  const built = (await readdir(wheels)).sort();
  assert.equal(built.length, 4, built.join(' '));
  assert.ok(built.includes('textfmt-1.0.0-py3-none-any.whl'));
  assert.ok(built.includes('an_example_pypi_project-0.0.4-py3-none-any.whl'));
  const tinyvecWheel = built.find((f) => /^tinyvec-1\.0\.0-cp\d+-cp\d+-linux_\w+\.whl$/.test(f));
  const tinystatsWheel = built.find((f) => /^tinystats-1\.0\.0-cp\d+-cp\d+-linux_\w+\.whl$/.test(f));
  assert.ok(tinyvecWheel && tinystatsWheel, built.join(' '));
  assert.ok((await wheelNames(path.join(wheels, tinyvecWheel))).includes('tinyvec/include/tinyvec/tinyvec.h'), 'the C header is in the wheel');
  assert.match(await wheelMetadata(path.join(wheels, tinystatsWheel)), /^Requires-Dist: tinyvec \(?>=1\.0\)?$/m);
  const appMetadata = await wheelMetadata(path.join(wheels, 'an_example_pypi_project-0.0.4-py3-none-any.whl'));
  for (const dep of ['textfmt', 'tinyvec', 'tinystats']) assert.match(appMetadata, new RegExp(`^Requires-Dist: ${dep}\\b`, 'm'));

  const venv = path.join(tmp, 'venv');
  await run(['python3', '-m', 'venv', venv]);
  await run([path.join(venv, 'bin', 'python'), '-m', 'pip', 'install', '--no-index', '--find-links', wheels, 'an_example_pypi_project'], {
    env: PIP_ENV,
  });
  const report = await run([path.join(venv, 'bin', 'an-example')]);
  assert.equal(report.exitCode, 0);
  const lines = report.stdout.split('\n');
  assert.equal(lines[0], 'norm=5.0 cosine=1.0 mean_sq=12.5');
  assert.equal(lines[1], 'tinystats compiled against tinyvec 1.0.0', 'tinystats was built against the pinned tinyvec');
  assert.match(report.stdout, /^ *tinyvec +1\.0\.0$/m);
  const viaModule = await run([path.join(venv, 'bin', 'python'), '-m', 'an_example_pypi_project']);
  assert.equal(viaModule.stdout, report.stdout);
});

test('a version override gives textfmt-1.1.0.tar.gz whose wheel is version 1.1.0', async () => {
  const out = path.join(tmp, 'override');
  const written = await buildExampleSdists(out, { versions: { TextFmt: '1.1.0' } });
  assert.ok(written.includes(path.join(out, 'textfmt-1.1.0.tar.gz')), written.join(' '));
  assert.ok(written.includes(path.join(out, 'tinyvec-1.0.0.tar.gz')), 'other projects keep their version');
  const pyproject = await sdistFile(path.join(out, 'textfmt-1.1.0.tar.gz'), 'textfmt-1.1.0/pyproject.toml');
  assert.match(pyproject, /^version = "1\.1\.0"$/m);
  assert.doesNotMatch(pyproject, /1\.0\.0/);

  const wheels = path.join(tmp, 'override-wheels');
  await pipWheel('textfmt==1.1.0', [out], wheels);
  assert.deepEqual(await readdir(wheels), ['textfmt-1.1.0-py3-none-any.whl']);
  assert.match(await wheelMetadata(path.join(wheels, 'textfmt-1.1.0-py3-none-any.whl')), /^Version: 1\.1\.0$/m);
});
