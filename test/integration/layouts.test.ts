/**
 * The stored-zip layout (`build --layout stored-zip`): each wheel package
 * holds /opt/<reqset>/wheels/<wheel-stem>.zip, the wheel's members in their
 * order, uncompressed, then .reqset-wheel.json. The zip is deterministic; the
 * post-install rebuilds the original wheel from it byte for byte; compiled
 * wheels keep the shared-library requirements the unpacked layout has; dnf
 * installs the wheel packages and an endpoint whose venv is made from the
 * zips; install-venv from zips keeps its guarantees.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { RUNTIME_HELPER } from '../../src/packagers/build.ts';
import { run, type RunResult } from '../../src/run.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { storedZipName } from '../../src/packagers/plan.ts';
import { writeStoredZip } from '../../src/wheels/stored-zip.ts';
import { TARGET_PYTHONS } from '../helpers/runtime-fixtures.ts';
import { dnf, fakeProvideRpm, freshRoot, rpmRepo } from '../helpers/target-root.ts';
import { CORPUS, makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';
import { corpusWheelsDir } from '../helpers/env.ts';

const REQSET = 'demo';
const APP_SPEC = `name: app\nreqset: ${REQSET}\ndistribution: an_example_pypi_project\nsummary: The example application\nscripts: [an-example]\n`;
const EPOCH = new Date(315532800 * 1000);

const packageFiles = (result: api.BuildResult) =>
  [result.manifest.runtime, ...result.manifest.pins.map((p) => p.package), ...result.manifest.endpoints.map((e) => e.package)].map((p) => path.join(result.outDir, p.path));
const wheelFile = (result: api.BuildResult, file: string) => path.join(result.outDir, 'wheels', file);

function helper(args: string[], python = 'python3'): Promise<RunResult> {
  return run([python, RUNTIME_HELPER, ...args], { allowFailure: true, timeoutMs: 300_000 });
}

function assertOneLineError(result: RunResult, ...mentions: (string | RegExp)[]) {
  assert.equal(result.exitCode, 1, `exit code (stderr: ${result.stderr})`);
  const lines = result.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] as string, /^reqset-runtime: error: /);
  for (const m of mentions) assert.match(lines[0] as string, typeof m === 'string' ? new RegExp(m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : m);
}

/** Each member of a zip as Python's zipfile sees it. */
async function zipEntries(file: string): Promise<{ name: string; method: number; time: number[]; system: number; attr: number; size: number }[]> {
  const script = `import json, sys, zipfile
print(json.dumps([dict(name=i.filename, method=i.compress_type, time=list(i.date_time), system=i.create_system, attr=i.external_attr, size=i.file_size) for i in zipfile.ZipFile(sys.argv[1]).infolist()]))`;
  return JSON.parse((await run(['python3', '-c', script, file])).stdout) as never;
}

/** The payload of an RPM, extracted into `dir`. */
async function extractRpm(rpm: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run(['bash', '-c', 'set -o pipefail; rpm2archive -n < "$1" | tar -xf - -C "$2"', 'extract', rpm, dir]);
}

/** Every wheel package of the two builds has the same requirements. */
function assertSameRequires(zip: api.BuildResult | undefined, tree: api.BuildResult | undefined, what: string) {
  if (!zip || !tree) throw new Error(`${what}: a build is missing`);
  const pins: api.Manifest['pins'] = tree.manifest.pins;
  assert.equal(zip.manifest.pins.length, pins.length);
  for (const pin of zip.manifest.pins) {
    const other = pins.find((p) => p.name === pin.name);
    assert.ok(other, pin.name);
    assert.deepEqual([...pin.package.requires].sort(), [...other.package.requires].sort(), `${what} ${pin.package.name}`);
  }
}

describe('the stored-zip layout', () => {
  let ws: Workspace;
  let work: string;
  const builds: Record<string, api.BuildResult> = {};

  before(async () => {
    ws = await makeWorkspace();
    work = await mkdtemp(path.join(ws.dir, 'work-'));
    await ws.writeReqset(REQSET, `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    await mkdir(path.join(ws.dir, 'specs'));
    await writeFile(path.join(ws.dir, 'specs', 'app.yml'), APP_SPEC);
    for (const target of ['el9-py311', 'debian12']) {
      for (const layout of ['stored-zip', 'unpacked'] as const) {
        const out = path.join(ws.dir, `out-${layout}`);
        builds[`${target} ${layout}`] = await api.buildTarget(REQSET, target, { workspace: ws.dir, out, wheelCache: ws.cache, jobs: 2, layout });
      }
    }
  });
  after(async () => {
    await ws?.cleanup();
  });

  const stored = () => builds['el9-py311 stored-zip'] as api.BuildResult;

  it('the stored zip is deterministic: the same bytes twice, and the same as in the package', async () => {
    const build = stored();
    const payload = path.join(work, 'payload');
    for (const pin of build.manifest.pins) await extractRpm(path.join(build.outDir, pin.package.path), payload);
    for (const pin of build.manifest.pins) {
      const zips: Buffer[] = [];
      for (const n of [1, 2]) {
        const file = path.join(work, `det-${n}`, storedZipName(pin.wheel.file));
        await mkdir(path.dirname(file), { recursive: true });
        const source = await openWheel(wheelFile(build, pin.wheel.file));
        try {
          await writeStoredZip(source, file, { mtime: n === 1 ? EPOCH : new Date() });
        } finally {
          await source.close();
        }
        zips.push(await readFile(file));
      }
      assert.ok((zips[0] as Buffer).equals(zips[1] as Buffer), `${pin.wheel.file}: two stored zips differ`);
      const packaged = await readFile(path.join(payload, 'opt', REQSET, 'wheels', storedZipName(pin.wheel.file)));
      assert.ok(packaged.equals(zips[0] as Buffer), `${pin.wheel.file}: the packaged zip differs`);
    }
  });

  it('holds the wheel\'s members in their order with their names, times and attributes, uncompressed, then .reqset-wheel.json', async () => {
    const build = stored();
    for (const pin of build.manifest.pins) {
      const wheel = await zipEntries(wheelFile(build, pin.wheel.file));
      const zip = await zipEntries(path.join(work, 'det-1', storedZipName(pin.wheel.file)));
      assert.deepEqual(zip.map((e) => e.name), [...wheel.map((e) => e.name), '.reqset-wheel.json']);
      assert.deepEqual(zip.slice(0, -1).map(({ method: _, ...e }) => e), wheel.map(({ method: _, ...e }) => e));
      assert.deepEqual(new Set(zip.map((e) => e.method)), new Set([0]));
      const info = JSON.parse((await run(['unzip', '-p', path.join(work, 'det-1', storedZipName(pin.wheel.file)), '.reqset-wheel.json'])).stdout) as { filename: string; sha256: string };
      assert.equal(info.filename, pin.wheel.file);
      assert.equal(info.sha256, pin.wheel.sha256);
    }
  });

  it('the post-install rebuilds the original wheel byte for byte from the zip, on every target Python', async () => {
    const build = stored();
    for (const pin of build.manifest.pins) assert.deepEqual(pin.rebuiltWheel, { sha256: pin.wheel.sha256, identical: true }, pin.wheel.file);
    const pythons = ['python3', ...Object.values(TARGET_PYTHONS).filter((p) => existsSync(p))];
    for (const python of pythons) {
      const out = path.join(work, `rebuilt-${path.basename(python)}`);
      for (const pin of build.manifest.pins) {
        const result = await helper(['rebuild-wheel', path.join(work, 'det-1', storedZipName(pin.wheel.file)), out], python);
        assert.equal(result.exitCode, 0, `${python}: ${result.stderr}`);
        assert.equal((JSON.parse(result.stdout) as { identical: boolean }).identical, true, `${python}: ${pin.wheel.file}`);
        assert.ok((await readFile(path.join(out, pin.wheel.file))).equals(await readFile(wheelFile(build, pin.wheel.file))));
      }
      const verified = await helper(['verify', path.join(work, 'det-1', storedZipName(build.manifest.pins[0]?.wheel.file ?? ''))], python);
      assert.equal(verified.exitCode, 0, verified.stderr);
    }
  });

  it('a damaged or foreign zip fails loudly, naming what is wrong, and writes nothing', async () => {
    const build = stored();
    const pin = build.manifest.pins.find((p) => p.name === 'textfmt');
    assert.ok(pin);
    const good = await readFile(path.join(work, 'det-1', storedZipName(pin.wheel.file)));
    const out = path.join(work, 'out-damaged');
    const damaged = path.join(work, 'damaged', storedZipName(pin.wheel.file));
    await mkdir(path.dirname(damaged), { recursive: true });
    // One byte of textfmt/__init__.py (stored, so its text is in the zip as it is).
    const at = good.indexOf('def ');
    assert.ok(at > 0);
    const bad = Buffer.from(good);
    bad[at] = 'D'.charCodeAt(0);
    await writeFile(damaged, bad);
    assertOneLineError(await helper(['rebuild-wheel', damaged, out]), 'textfmt/__init__.py', /CRC/);
    assert.equal(existsSync(out), false);
    // A wheel is a zip, but not a stored wheel zip made by reqset.
    const foreign = path.join(work, 'damaged', 'foreign.zip');
    await copyFile(wheelFile(build, pin.wheel.file), foreign);
    assertOneLineError(await helper(['rebuild-wheel', foreign, out]), 'not a stored wheel zip made by reqset');
    assertOneLineError(await helper(['verify', path.join(work, 'nothing.zip')]), 'nothing.zip');
  });

  it('compiled wheels keep the shared-library requirements of the unpacked layout (RPM and DEB)', () => {
    for (const target of ['el9-py311', 'debian12']) assertSameRequires(builds[`${target} stored-zip`], builds[`${target} unpacked`], target);
    // The example extensions need no shared library; rpm's ELF generator still finds them.
    const tinyvec = stored().manifest.pins.find((p) => p.name === 'tinyvec');
    assert.ok(tinyvec?.package.requires.includes('rtld(GNU_HASH)'), tinyvec?.package.requires.join(', '));
  });

  it('real compiled wheels: the same shared-library requirements, bundled *.libs left out', async () => {
    corpusWheelsDir();
    // numpy bundles numpy.libs/ (never required); MarkupSafe and PyYAML need libc.
    const pins = { 'el9-py311': ['numpy==2.4.6', 'MarkupSafe==3.0.3'], debian12: ['MarkupSafe==3.0.3', 'PyYAML==6.0.3'] };
    for (const [target, list] of Object.entries(pins)) {
      const name = `corpus-${target.replace(/\W/g, '')}`;
      await ws.writeReqset(name, `--no-index\n--find-links ${CORPUS}\n${list.join('\n')}\n`);
      const built: Partial<Record<string, api.BuildResult>> = {};
      for (const layout of ['stored-zip', 'unpacked'] as const) {
        built[layout] = await api.buildTarget(name, target, { workspace: ws.dir, out: path.join(ws.dir, `out-corpus-${layout}`), wheelCache: ws.cache, jobs: 2, layout });
      }
      assertSameRequires(built['stored-zip'], built.unpacked, target);
      const requires = (built['stored-zip'] as api.BuildResult).manifest.pins.flatMap((p) => p.package.requires);
      assert.ok(requires.some((r) => (target === 'debian12' ? /^libc6 \(>= / : /^libc\.so\.6\(GLIBC_/).test(r)), requires.join(', '));
      assert.ok(!requires.some((r) => /openblas|gfortran|quadmath/.test(r)), `no bundled library is required: ${requires.join(', ')}`);
    }
  });

  it('dnf installs the stored-zip packages: identical wheelhouse, a working /usr/bin/an-example, a clean erase', async () => {
    const build = stored();
    const root = await freshRoot();
    try {
      const files = packageFiles(build);
      const fake = await fakeProvideRpm(files, path.join(root.dir, 'tmp'));
      const repo = await rpmRepo([...files, fake], path.join(work, 'repo'));
      await dnf(root, repo, ['install', 'reqset-test-fakeprovide']);
      await dnf(root, repo, ['install', `${REQSET}-app`]);

      const closure = build.manifest.pins.filter((p) => !['setuptools', 'wheel'].includes(p.name));
      assert.deepEqual(await root.filesUnder(`/opt/${REQSET}/wheels`), closure.map((p) => `/opt/${REQSET}/wheels/${storedZipName(p.wheel.file)}`).sort());
      assert.deepEqual(await root.filesUnder(`/opt/${REQSET}/wheelhouse`), closure.map((p) => `/opt/${REQSET}/wheelhouse/${p.wheel.file}`).sort());
      for (const pin of closure) {
        const installed = await readFile(path.join(root.dir, 'opt', REQSET, 'wheelhouse', pin.wheel.file));
        assert.ok(installed.equals(await readFile(wheelFile(build, pin.wheel.file))), `${pin.wheel.file} is the original wheel`);
      }
      const out = await root.exec(['/usr/bin/an-example']);
      assert.match(out.stdout, /norm=5\.0 cosine=1\.0/);
      assert.match(out.stdout, /tinystats compiled against tinyvec 1\.0\.0/);
      // The trees unpacked for the install are gone; only the venv is left.
      assert.deepEqual(await readdir(path.join(root.dir, 'opt', `${REQSET}-app`)), ['venv']);
      const grep = await root.exec(['grep', '-rIl', '-e', '.new-', '-e', '/tmp/', '-e', ws.dir, `/opt/${REQSET}-app/venv`], { allowFailure: true });
      assert.equal(grep.stdout.trim(), '', `build or staging paths in: ${grep.stdout}`);

      await dnf(root, repo, ['remove', `${REQSET}-*`]);
      assert.deepEqual((await root.filesUnder('/opt')).filter((f) => f.startsWith(`/opt/${REQSET}`)), []);
      assert.equal(existsSync(path.join(root.dir, 'usr', 'bin', 'an-example')), false);
    } finally {
      await root.cleanup();
    }
  });

  it('install-venv from stored zips: .pyc reused when nothing changed; a damaged zip leaves the previous venv; pip installer', async () => {
    const build = stored();
    const closure = build.manifest.pins.filter((p) => !['setuptools', 'wheel'].includes(p.name));
    const zips = closure.map((p) => path.join(work, 'det-1', storedZipName(p.wheel.file)));
    for (const zip of zips) await utimes(zip, EPOCH, EPOCH);
    const parent = path.join(work, 'app');
    const venv = path.join(parent, 'venv');
    const args = (trees: string[]) => ['install-venv', '--venv', venv, ...trees.flatMap((t) => ['--tree', t]), '--script', 'an-example', '--check-import', 'an_example_pypi_project'];

    const first = await helper(args(zips));
    assert.equal(first.exitCode, 0, first.stderr);
    const one = JSON.parse(first.stdout) as { compiled: number; reused_pyc: number; linked: number };
    assert.ok(one.compiled > 0 && one.linked > 0, first.stdout);
    assert.match((await run([path.join(venv, 'bin', 'an-example')])).stdout, /norm=5\.0/);
    assert.deepEqual(await readdir(parent), ['venv']);

    const second = await helper(args(zips));
    assert.equal(second.exitCode, 0, second.stderr);
    const two = JSON.parse(second.stdout) as { compiled: number; reused_pyc: number };
    assert.deepEqual({ compiled: two.compiled, reused: two.reused_pyc }, { compiled: 0, reused: one.compiled });

    const textfmt = zips.find((z) => path.basename(z).startsWith('textfmt-')) as string;
    const damaged = path.join(work, 'damaged-venv', path.basename(textfmt));
    await mkdir(path.dirname(damaged), { recursive: true });
    const bytes = Buffer.from(await readFile(textfmt));
    bytes[bytes.indexOf('def ')] = 'D'.charCodeAt(0);
    await writeFile(damaged, bytes);
    const failed = await helper(args(zips.map((z) => (z === textfmt ? damaged : z))));
    assertOneLineError(failed, 'textfmt/__init__.py');
    assert.match((await run([path.join(venv, 'bin', 'an-example')])).stdout, /norm=5\.0/, 'the previous venv still works');
    assert.deepEqual(await readdir(parent), ['venv'], 'nothing left beside the venv');

    // The pip installer gets the wheels rebuilt from the unpacked zips.
    const pip = await helper([...args(zips), '--installer', 'pip']);
    assert.equal(pip.exitCode, 0, pip.stderr);
    assert.equal((JSON.parse(pip.stdout) as { installer: string }).installer, 'pip');
    assert.match((await run([path.join(venv, 'bin', 'an-example')])).stdout, /norm=5\.0/);
    assert.deepEqual(await readdir(parent), ['venv']);
    await rm(parent, { recursive: true, force: true });
  });
});
