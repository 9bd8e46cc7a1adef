/**
 * First install of an endpoint: `dnf install` / `apt-get install` of the
 * application's package into a fresh Debian 12 root (the runtime, every wheel
 * package of its closure and the endpoint, whose post-install makes the venv)
 * against installing the same application as one package holding its whole
 * venv, made here the way such packages are made: `python -m venv` + `pip
 * install` of the same wheels, packaged by the same packager with the same
 * payload compression. The closure is the corpus one (numpy, Flask, requests
 * and their dependencies, offline) plus a small application wheel. Best of
 * RUNS fresh roots each, interleaved.
 *
 *   npm run bench install [-- --target el9-py311]   (--target repeatable; default both)
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../src/api.ts';
import { mapLimit, withTempDir } from '../src/fsutil.ts';
import { packagerFor } from '../src/packagers/index.ts';
import type { PackagePlan } from '../src/packagers/packager.ts';
import { pythonDependency } from '../src/packagers/plan.ts';
import { run } from '../src/run.ts';
import { sourceDateEpoch } from '../src/epoch.ts';
import { loadTarget, type Target } from '../src/targets/target.ts';
import { debianPython } from '../test/helpers/env.ts';
import { makeWheel } from '../test/helpers/make-wheel.ts';
import { apt, aptRepo, dnf, fakeProvideRpm, freshRoot, rpmRepo, type TargetRoot } from '../test/helpers/target-root.ts';
import { CORPUS, CORPUS_PINS, makeWorkspace, type Workspace } from '../test/helpers/workspace.ts';
import type { Row } from './table.ts';

const RUNS = 2;
const REQSET = 'bench';
const APP = 'app';
/** Where the whole-venv package puts its venv on the target. */
const WHOLE_ROOT = '/opt/bench-whole';
const WHOLE_NAME = 'bench-whole-venv';
const TARGETS = ['el9-py311', 'debian12'];

/** The targets named by `--target T` (repeatable) among the bench's arguments, else every one. */
function wantedTargets(argv: string[]): string[] {
  const named = argv.flatMap((arg, i) => (arg === '--target' && argv[i + 1] ? [argv[i + 1] as string] : []));
  const unknown = named.filter((t) => !TARGETS.includes(t));
  if (unknown.length) throw new Error(`bench install: unknown --target ${unknown.join(', ')} (known: ${TARGETS.join(', ')})`);
  return named.length ? named : TARGETS;
}

/** An application wheel whose console script imports the whole closure. */
async function appWheel(dir: string): Promise<string> {
  return makeWheel(dir, {
    name: 'bench-app',
    version: '1.0',
    files: { 'bench_app/__init__.py': 'import flask, numpy, requests\n\ndef main():\n    print(numpy.arange(3).sum(), flask.__name__, requests.__name__)\n' },
    metadata: { 'Requires-Dist': ['Flask>=3', 'numpy>=2', 'requests>=2'] },
    entryPoints: '[console_scripts]\nbench-app = bench_app:main\n',
  });
}

/** The files of a `<reqset>` build that `install <endpoint>` can reach, and the wheels they were made from. */
async function buildReqset(ws: Workspace, target: string): Promise<{ files: string[]; wheels: string[] }> {
  const result = await api.buildTarget(REQSET, target, { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2 });
  const files = api.manifestPackages(result.manifest).map((p) => path.join(result.outDir, p.path));
  return { files, wheels: result.manifest.pins.map((p) => path.join(result.outDir, 'wheels', p.wheel.file)) };
}

/** The whole-venv package: a venv made by `python -m venv` + `pip install` of `wheels`, packaged as one. */
async function wholeVenvPackage(target: Target, wheels: string[], outDir: string): Promise<string> {
  return withTempDir('reqset-bench-whole-', async (work) => {
    const root = path.join(work, 'root');
    // Made at its staged path: only the paths written into bin/ differ from a venv made in place.
    const venv = path.join(root, WHOLE_ROOT, 'venv');
    await run([debianPython(), '-m', 'venv', '--without-pip', venv]);
    await run([debianPython(), '-m', 'pip', '--python', path.join(venv, 'bin', 'python'), 'install', '-q', '--disable-pip-version-check', '--no-index', '--no-deps', ...wheels], { timeoutMs: 900_000 });
    const plan: PackagePlan = {
      kind: 'runtime',
      name: WHOLE_NAME,
      pep440: '1.0',
      release: '1',
      arch: target.arch,
      summary: 'The bench application as one venv',
      description: 'The bench application and its closure in one venv, for comparison.',
      license: 'MIT',
      requires: [pythonDependency(target)],
      scriptletRequires: [],
      contents: [WHOLE_ROOT],
      ownedDirs: [],
      ghostFiles: [],
      privateLibraries: [],
      scriptlets: {},
    };
    const packager = await packagerFor(target.format);
    const context = { epoch: sourceDateEpoch(), outDir, workDir: path.join(work, 'scratch'), maintainer: 'bench <bench@localhost>', payload: target.payload };
    await mkdir(context.workDir);
    return (await packager.build(plan, root, context)).path;
  });
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

interface InstallTimes {
  /** The whole `dnf install` / `apt-get install`. */
  install: number;
  /** The post-installs of the reqset's packages, run again one by one in the installed root (the work SPEC.md puts there); 0 unless asked. */
  postInstalls: number;
}

/** One install of `name` into a fresh root from a repository of `files` (set-up untimed), then, if asked, its post-installs again. */
async function installOnce(format: 'rpm' | 'deb', files: string[], name: string, repoDir: string, postInstallsToo = false): Promise<InstallTimes> {
  const again = async (root: TargetRoot) => (postInstallsToo ? postInstallsAgain(root, format) : 0);
  const root: TargetRoot = await freshRoot();
  try {
    if (format === 'deb') {
      await aptRepo(root, files);
      const install = await timed(() => apt(root, ['install', '--no-install-recommends', name]));
      return { install, postInstalls: await again(root) };
    }
    const fake = await fakeProvideRpm(files, path.join(root.dir, 'tmp'));
    const repo = await rpmRepo([...files, fake], repoDir);
    await dnf(root, repo, ['install', 'reqset-test-fakeprovide']);
    const install = await timed(() => dnf(root, repo, ['install', name]));
    return { install, postInstalls: await again(root) };
  } finally {
    await root.cleanup();
    await rm(repoDir, { recursive: true, force: true });
  }
}

/**
 * Seconds of every post-install of the bench's packages run again in the
 * installed root, as on a first install (`1` / `configure`): each rebuilds
 * its wheel or the venv from scratch, whatever was there.
 */
async function postInstallsAgain(root: TargetRoot, format: 'rpm' | 'deb'): Promise<number> {
  // The root's rpm database is read by the host's rpm (as dnf --installroot wrote it); dpkg is the root's own.
  const rpm = (args: string[]) => run(['rpm', `--root=${root.dir}`, ...args]);
  const listed = format === 'rpm' ? await rpm(['-qa', '--qf', '%{NAME}\\n']) : await root.exec(['dpkg-query', '-W', '-f', '${Package}\\n']);
  const names = listed.stdout.split('\n').filter((n) => n.startsWith(`${REQSET}-`));
  let total = 0;
  for (const name of names) {
    if (format === 'rpm') {
      const script = (await rpm(['-q', '--qf', '%{POSTIN}', name])).stdout;
      if (script !== '(none)') total += await timed(() => root.exec(['/bin/sh', '-c', script, 'postinst', '1']));
    } else if ((await root.exec(['test', '-e', `/var/lib/dpkg/info/${name}.postinst`], { allowFailure: true })).exitCode === 0) {
      total += await timed(() => root.exec([`/var/lib/dpkg/info/${name}.postinst`, 'configure']));
    }
  }
  return total;
}

const seconds = (s: number) => `${s.toFixed(2)}s`;

async function installRows(ws: Workspace, targetName: string): Promise<Row[]> {
  const target = await loadTarget(ws.dir, targetName);
  const built = await buildReqset(ws, targetName);
  const wholeDir = path.join(ws.dir, `whole-${targetName}`);
  await mkdir(wholeDir, { recursive: true });
  const whole = await wholeVenvPackage(target, built.wheels, wholeDir);
  const endpoint = `${REQSET}-${APP}`;
  const times = { reqset: [] as InstallTimes[], whole: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    times.reqset.push(await installOnce(target.format, built.files, endpoint, path.join(ws.dir, 'repo'), true));
    times.whole.push((await installOnce(target.format, [whole], WHOLE_NAME, path.join(ws.dir, 'repo'))).install);
  }
  const mine = Math.min(...times.reqset.map((t) => t.install));
  const postInstalls = Math.min(...times.reqset.map((t) => t.postInstalls));
  const theirs = Math.min(...times.whole);
  const tool = target.format === 'rpm' ? 'dnf install' : 'apt-get install';
  const compression = target.payload ? `${target.payload.compression}-${target.payload.level}` : 'xz';
  console.error(`bench install ${targetName}: ${tool} ${endpoint} ${seconds(mine)} (post-installs alone ${seconds(postInstalls)}), whole venv ${seconds(theirs)}, ratio ${(mine / theirs).toFixed(2)} (${compression})`);
  return [
    {
      measure: `${targetName}: first \`${tool}\` of an endpoint (${built.wheels.length} pins: numpy, Flask, requests, ...) vs one whole-venv package (${compression} both)`,
      value: seconds(mine),
      baseline: `${seconds(theirs)} (whole venv)`,
      ratio: mine / theirs,
      goal: '<= 1.5',
    },
    {
      measure: `${targetName}: its post-installs alone (each wheel's rebuild and RECORD check, the endpoint's venv), run again in the installed root, vs the same whole-venv install`,
      value: seconds(postInstalls),
      baseline: `${seconds(theirs)} (whole venv)`,
      ratio: postInstalls / theirs,
      goal: '',
    },
  ];
}

export async function installBench(): Promise<Row[]> {
  const ws = await makeWorkspace();
  try {
    await appWheel(path.join(ws.dir, 'app-wheels'));
    await ws.writeReqset(REQSET, `--no-index\n--find-links ${CORPUS}\n--find-links ../app-wheels\n${CORPUS_PINS.join('\n')}\nbench-app==1.0\n`);
    await mkdir(path.join(ws.dir, 'specs'));
    await writeFile(path.join(ws.dir, 'specs', `${APP}.yml`), `name: ${APP}\nreqset: ${REQSET}\ndistribution: bench-app\nsummary: The bench application\nscripts: [bench-app]\n`);
    return (await mapLimit(wantedTargets(process.argv.slice(2)), 1, (target) => installRows(ws, target))).flat();
  } finally {
    await ws.cleanup();
  }
}
