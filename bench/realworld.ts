/**
 * A real-world closure from the real index (bench/realworld.txt: 42 pins,
 * pandas/scipy/matplotlib/scikit-learn class): a cold package build per target
 * against `tar | zstd -3 -T1` of the same unpacked trees, the work no packager
 * can avoid; and the floor of any packager of unpacked wheels: `unzip` of
 * the wheels and the package tool alone on the trees, with no other work.
 * Downloads and wheel verdicts are kept between runs in the bench's
 * own cache directory (the network is not what is measured); the package
 * cache is emptied before every timed build. With two targets or more, the
 * first is built once more with only the rebuild checks' verdicts of the
 * others kept (the same layout: the same wheels need not be re-made), as a
 * set built for several targets is. REALWORLD_TARGETS (comma separated,
 * default `el9-py311,debian12`) measures fewer targets.
 */
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../src/api.ts';
import { sourceDateEpoch } from '../src/epoch.ts';
import { defaultCacheDir, mapLimit, withTempDir } from '../src/fsutil.ts';
import { packagerFor } from '../src/packagers/index.ts';
import type { PackagePlan } from '../src/packagers/packager.ts';
import { run } from '../src/run.ts';
import { loadTarget } from '../src/targets/target.ts';
import { makeWorkspace } from '../test/helpers/workspace.ts';
import type { Row } from './table.ts';

const PINS = path.join(import.meta.dirname, 'realworld.txt');
const GOAL = '<= 2.0';
const TARGETS = (process.env.REALWORLD_TARGETS ?? 'el9-py311,debian12').split(',').map((t) => t.trim()).filter(Boolean);

async function seconds<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [Number(process.hrtime.bigint() - started) / 1e9, result];
}

interface Baselines {
  /** `tar | zstd -3 -T1` of every wheel of the wheelhouse, unpacked. */
  zstd: number;
  unpackedTrees: string;
  /** `unzip -q` of every wheel, two at a time. */
  unzip: number;
  /** Each target's package tool alone (rpmbuild, dpkg-deb) on every unpacked tree, two at a time. */
  toolAlone: Map<string, number>;
}

/** The work no packager of unpacked wheels avoids, each part timed alone on the same wheels. */
async function baselines(wheelsDir: string, wheels: { filename: string }[]): Promise<Baselines> {
  return withTempDir('reqset-bench-realworld-', async (dir) => {
    const trees = path.join(dir, 'trees');
    const treeOf = (wheel: { filename: string }) => path.join(trees, wheel.filename.replace(/\.whl$/, ''));
    await mkdir(trees);
    const [unzip] = await seconds(() => mapLimit(wheels, 2, (wheel) => run(['unzip', '-q', path.join(wheelsDir, wheel.filename), '-d', treeOf(wheel)])));
    const du = await run(['du', '-sh', trees]);
    const [zstd] = await seconds(() => run(['tar', '-C', trees, '-I', 'zstd -3 -T1', '-cf', path.join(dir, 'trees.tar.zst'), '.']));
    const toolAlone = new Map<string, number>();
    for (const target of TARGETS) toolAlone.set(target, await packageToolAlone(target, wheels.map(treeOf), path.join(dir, target)));
    return { zstd, unpackedTrees: du.stdout.split('\t')[0] ?? '?', unzip, toolAlone };
  });
}

/** Seconds of `target`'s package tool making one plain package of each tree (moved into a root and back), two at a time. */
async function packageToolAlone(targetName: string, trees: string[], dir: string): Promise<number> {
  const target = await loadTarget(path.join(import.meta.dirname, '..'), targetName);
  const packager = await packagerFor(target.format);
  const [time] = await seconds(() => mapLimit(trees.map((tree, i) => ({ tree, i })), 2, async ({ tree, i }) => {
    const inRoot = path.join(dir, `${i}`, 'root', 'opt', 'bench', path.basename(tree));
    const workDir = path.join(dir, `${i}`, 'work');
    await mkdir(path.dirname(inRoot), { recursive: true });
    await mkdir(workDir, { recursive: true });
    await rename(tree, inRoot);
    const plan: PackagePlan = {
      kind: 'runtime', name: `bench-tree-${i}`, pep440: '1.0', release: '1', arch: target.arch, summary: 'A wheel tree', description: 'A wheel tree, for timing.',
      license: 'MIT', requires: [], scriptletRequires: [], contents: [path.dirname(inRoot).slice(path.join(dir, `${i}`, 'root').length)], ownedDirs: [], ghostFiles: [], privateLibraries: [], scriptlets: {},
    };
    try {
      await packager.build(plan, path.join(dir, `${i}`, 'root'), { epoch: sourceDateEpoch(), outDir: workDir, workDir, maintainer: 'bench <bench@localhost>', payload: target.payload });
    } finally {
      await rename(inRoot, tree);
    }
  }));
  return time;
}

export async function realWorldBench(): Promise<Row[]> {
  const ws = await makeWorkspace();
  const cache = path.join(defaultCacheDir(), 'bench-realworld');
  try {
    await copyFile(PINS, path.join(ws.dir, 'reqsets', 'realworld.txt'));
    const options = { workspace: ws.dir, out: ws.out, wheelCache: cache, jobs: 2 };
    const checked = await api.wheels('realworld', 'debian12', options);
    const baseline = await baselines(checked.wheelsDir, checked.wheels);
    const rows: Row[] = [];
    const packages = path.join(cache, 'packages');
    for (const target of TARGETS) {
      await rm(packages, { recursive: true, force: true });
      await mkdir(ws.out, { recursive: true });
      const [time, result] = await seconds(() => api.buildTarget('realworld', target, options));
      const packageBytes = result.manifest.pins.reduce((sum, p) => sum + p.package.size, 0);
      const wheelBytes = result.manifest.pins.reduce((sum, p) => sum + p.wheel.size, 0);
      rows.push({
        measure: `${target}: cold build of ${result.manifest.pins.length} real-index pins (${baseline.unpackedTrees} unpacked) vs tar | zstd -3 -T1 of the trees`,
        value: `${time.toFixed(1)}s`,
        baseline: `${baseline.zstd.toFixed(1)}s`,
        ratio: time / baseline.zstd,
        goal: GOAL,
      });
      const floor = baseline.unzip + (baseline.toolAlone.get(target) ?? NaN);
      rows.push({
        measure: `${target}: the floor, \`unzip -q\` (${baseline.unzip.toFixed(1)}s) then the package tool alone on the trees, both 2 at a time, vs tar | zstd -3 -T1`,
        value: `${floor.toFixed(1)}s`,
        baseline: `${baseline.zstd.toFixed(1)}s`,
        ratio: floor / baseline.zstd,
        goal: '',
      });
      rows.push({
        measure: `${target}: package bytes vs wheel bytes, same pins`,
        value: `${(packageBytes / 1048576).toFixed(1)} MiB`,
        baseline: `${(wheelBytes / 1048576).toFixed(1)} MiB`,
        ratio: packageBytes / wheelBytes,
        goal: '<= 1.0',
      });
    }
    const [again] = TARGETS;
    if (again && TARGETS.length > 1) {
      // Every package entry goes; the checks' verdicts (packages/checks) stay.
      for (const name of await readdir(packages)) if (name !== 'checks') await rm(path.join(packages, name), { recursive: true, force: true });
      const [time] = await seconds(() => api.buildTarget('realworld', again, options));
      rows.push({
        measure: `${again}: package build with the rebuild checks of ${TARGETS.slice(1).join(', ')} kept (same layout), vs tar | zstd -3 -T1`,
        value: `${time.toFixed(1)}s`,
        baseline: `${baseline.zstd.toFixed(1)}s`,
        ratio: time / baseline.zstd,
        goal: GOAL,
      });
    }
    return rows;
  } finally {
    await ws.cleanup();
  }
}
