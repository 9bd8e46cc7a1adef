/**
 * The bundled webapp reqset (reqsets/webapp.txt, specs/webapp.yml) from the
 * real index, PyPI, as a user builds it: for el9-py311 and debian12 through
 * the API, with the repository as the workspace (so packaging/hooks/pyyaml.sh
 * is its hook). Its endpoint (Flask) and every pin's package are installed
 * with dnf and with apt into Debian 12 roots that have the library the
 * compiled PyYAML links (libyaml), and there every top-level module of every
 * pin imports with the endpoint venv's python: the endpoint's closure from
 * the venv, the other pins from their installed wheel trees.
 *
 * The wheel cache lives with the roots' tarballs (XDG_CACHE_HOME/reqset-test):
 * a second run skips the sdist builds and downloads, as a user's would.
 * The sdists are built with the targets' interpreter, /usr/bin/python3.11
 * (see test/integration/lint.test.ts for why), and every package is linted:
 * rpmlint and lintian give no errors, only the warnings test/helpers/lint.ts
 * lists.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { wheelPayloadPath } from '../../src/packagers/plan.ts';
import { parseWheelFilename } from '../../src/python/tags.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { topLevelModules } from '../../src/wheels/wheelhouse.ts';
import { debianPython, REPO_ROOT } from '../helpers/env.ts';
import { lintFiles } from '../helpers/lint.ts';
import { apt, aptRepo, dnf, fakeProvideRpm, freshRoot, rootTarball, rpmRepo, type TargetRoot } from '../helpers/target-root.ts';
import { WEBAPP_PIN_LIST, withPypiHashes } from '../helpers/webapp-pins.ts';

const REQSET = 'webapp';
const ENDPOINT = 'webapp-flask';
const VENV_PYTHON = `/opt/${ENDPOINT}/venv/bin/python`;
/** The pins built from their sdists here (the pin list's --no-binary), with their C code. */
const FROM_SDIST = ['markupsafe', 'pyyaml', 'simplejson'];
/** The runtime library of the compiled PyYAML: in the roots, as on a target where its package's dependency installed it. */
const ROOT_LIBRARIES = ['libyaml-0-2'];
const WHEEL_CACHE = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'reqset-test', 'webapp-wheels');

/**
 * Imports the closure's modules (argv[1]) from the venv, then the other
 * pins' modules (argv[3]) with their wheel trees (argv[2]) appended to
 * sys.path; prints what failed, where each module came from and whether
 * PyYAML has its libyaml binding.
 */
const IMPORT_ALL = `
import importlib, json, sys
closure, trees, others = (json.loads(a) for a in sys.argv[1:4])
failed, files = {}, {}
def attempt(name):
    try:
        files[name] = getattr(importlib.import_module(name), "__file__", None)
    except Exception as error:
        failed[name] = repr(error)
for name in closure:
    attempt(name)
sys.path.extend(trees)
for name in others:
    attempt(name)
import yaml
print(json.dumps({"failed": failed, "files": files, "libyaml": yaml.__with_libyaml__}))
`;

interface PinModules {
  key: string;
  wheel: string;
  modules: string[];
}

/** A pin's normalized name, from its package's. */
const keyOf = (pin: api.Manifest['pins'][number]) => pin.package.name.slice(`${REQSET}-wheel-`.length);

/** The C extensions of a wheel, as modules: `pkg/_speedups.cpython-311-x86_64-linux-gnu.so` is pkg._speedups. */
const extensionModules = (members: string[]) => members.flatMap((m) => /^([\w/]+)\.cpython-[\w-]+\.so$/.exec(m)?.[1]?.replace(/\//g, '.') ?? []);

/**
 * Every pin's top-level modules, read from the wheel the build packaged; for
 * the pins compiled here, their C extensions too (MarkupSafe and simplejson
 * would fall back to pure Python without them).
 */
async function pinModules(result: api.BuildResult): Promise<PinModules[]> {
  const pins: PinModules[] = [];
  for (const pin of result.manifest.pins) {
    const source = await openWheel(path.join(result.outDir, 'wheels', pin.wheel.file));
    try {
      const members = source.members.map((m) => m.name);
      const extensions = FROM_SDIST.includes(keyOf(pin)) ? extensionModules(members) : [];
      pins.push({ key: keyOf(pin), wheel: pin.wheel.file, modules: [...topLevelModules(members), ...extensions] });
    } finally {
      await source.close();
    }
  }
  return pins;
}

/** Imports every pin's modules in the root; each comes from the venv (the closure) or its pin's installed wheel tree. */
async function assertEveryPinImports(root: TargetRoot, result: api.BuildResult) {
  const closure = new Set(result.manifest.endpoints[0]?.closure);
  const pins = await pinModules(result);
  const inside = pins.filter((p) => closure.has(p.key));
  const outside = pins.filter((p) => !closure.has(p.key));
  assert.equal(inside.length, closure.size, 'every closure member is a pin');
  const out = await root.exec([
    VENV_PYTHON, '-I', '-c', IMPORT_ALL,
    JSON.stringify(inside.flatMap((p) => p.modules)),
    JSON.stringify(outside.map((p) => wheelPayloadPath(REQSET, p.wheel))),
    JSON.stringify(outside.flatMap((p) => p.modules)),
  ]);
  const report = JSON.parse(out.stdout) as { failed: Record<string, string>; files: Record<string, string | null>; libyaml: boolean };
  assert.deepEqual(report.failed, {});
  for (const pin of pins) {
    const home = closure.has(pin.key) ? `/opt/${ENDPOINT}/venv/` : `${wheelPayloadPath(REQSET, pin.wheel)}/`;
    for (const module of pin.modules) assert.ok(report.files[module]?.startsWith(home), `${module} from ${report.files[module]}, not ${home}`);
  }
  assert.equal(report.libyaml, true, 'PyYAML uses libyaml');
  assert.ok(pins.every((p) => p.modules.length > 0), 'every pin has a top-level module');
  for (const key of FROM_SDIST) assert.ok(pins.find((p) => p.key === key)?.modules.some((m) => m.includes('.')), `${key} has a C extension`);
  const flask = await root.exec(['/usr/bin/flask', '--version']);
  assert.match(flask.stdout, /^Flask 3\.1\.3$/m);
}

describe('the webapp example reqset from PyPI, installed with dnf and apt', () => {
  let out: string;
  const builds: Record<string, api.BuildResult> = {};

  before(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'reqset-webapp-'));
    const build = async () => {
      for (const target of ['el9-py311', 'debian12']) {
        builds[target] = await api.buildTarget(REQSET, target, { workspace: REPO_ROOT, out, wheelCache: WHEEL_CACHE, jobs: 2, python: debianPython() });
      }
    };
    // debootstrap mostly waits on the mirror, the builds on the CPU: on a fresh machine both at once.
    await Promise.all([rootTarball(ROOT_LIBRARIES), build()]);
  });
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('real index: the pin list hashes exactly the files of each release pip may use, as PyPI lists them', async () => {
    const text = await readFile(WEBAPP_PIN_LIST, 'utf8');
    assert.equal(await withPypiHashes(text), text, 'refresh with: node --import tsx test/helpers/webapp-pins.ts --write');
  });

  it('real index: MarkupSafe, PyYAML and simplejson are compiled here from their pinned sdists, everything else is a PyPI wheel', () => {
    for (const [target, build] of Object.entries(builds)) {
      for (const pin of build.manifest.pins) {
        const { origin, artifact, file } = pin.wheel;
        const where = `${target}: ${pin.name} (${origin}, ${file}, from ${artifact.from})`;
        assert.equal(artifact.hashCheckedBy, 'reqset', where);
        if (!FROM_SDIST.includes(keyOf(pin))) {
          assert.match(artifact.from, /\.whl$/, where);
          continue;
        }
        assert.ok(origin === 'built' || origin === 'cached', where);
        assert.match(artifact.from, /\.tar\.gz$/, where);
        const wheel = parseWheelFilename(file);
        assert.deepEqual([wheel?.abiTags, wheel?.platformTags], [['cp311'], ['linux_x86_64']], `${where}: a compiled wheel`);
      }
    }
  });

  for (const [target, tool] of [['el9-py311', 'rpmlint'], ['debian12', 'lintian']] as const) {
    it(`real index: ${tool} on every ${target} package: no errors, only the warnings of the table`, async () => {
      const build = builds[target];
      assert.ok(build);
      assert.deepEqual(await lintFiles(REQSET, tool, api.manifestPackages(build.manifest).map((p) => path.join(build.outDir, p.path))), []);
    });
  }

  it('real index: RPM: dnf installs the endpoint and every pin; every top-level module imports, PyYAML with libyaml', async () => {
    const build = builds['el9-py311'];
    assert.ok(build);
    const root = await freshRoot({ include: ROOT_LIBRARIES });
    try {
      const rpms = api.manifestPackages(build.manifest).map((p) => path.join(build.outDir, p.path));
      const fake = await fakeProvideRpm(rpms, path.join(root.dir, 'tmp'));
      const repo = await rpmRepo([...rpms, fake], path.join(out, 'rpm-repo'));
      await dnf(root, repo, ['install', 'reqset-test-fakeprovide']);
      await dnf(root, repo, ['install', ENDPOINT, `${REQSET}-pins`]);
      await assertEveryPinImports(root, build);
    } finally {
      await root.cleanup();
    }
  });

  it('real index: DEB: apt-get installs the endpoint and every pin; every top-level module imports, PyYAML with libyaml', async () => {
    const build = builds.debian12;
    assert.ok(build);
    const root = await freshRoot({ include: ROOT_LIBRARIES });
    try {
      await aptRepo(root, api.manifestPackages(build.manifest).map((p) => path.join(build.outDir, p.path)));
      await apt(root, ['install', ENDPOINT, `${REQSET}-pins`]);
      await assertEveryPinImports(root, build);
    } finally {
      await root.cleanup();
    }
  });
});
