/**
 * A real-world closure from the real index (bench/realworld.txt: 42 pins,
 * pandas/scipy/matplotlib/scikit-learn class): a cold package build per target
 * against `tar | zstd -3 -T1` of the same unpacked trees, the work no packager
 * can avoid. Downloads and wheel verdicts are kept between runs in the bench's
 * own cache directory (the network is not what is measured); the package
 * cache is emptied before every timed build. With two targets or more, the
 * first is built once more with only the rebuild checks' verdicts of the
 * others kept (the same layout: the same wheels need not be re-made), as a
 * set built for several targets is. REALWORLD_TARGETS (comma separated,
 * default `el9-py311,debian12`) measures fewer targets.
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../src/api.ts';
import { defaultCacheDir, withTempDir } from '../src/fsutil.ts';
import { run } from '../src/run.ts';
import { extractWheel } from '../src/wheels/extract.ts';
import { openWheel } from '../src/wheels/source.ts';
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

/** `tar | zstd -3 -T1` of every wheel of the wheelhouse, unpacked. */
async function zstdBaseline(wheelsDir: string, wheels: { filename: string }[]): Promise<{ seconds: number; unpackedTrees: string }> {
  return withTempDir('reqset-bench-realworld-', async (dir) => {
    for (const wheel of wheels) {
      const source = await openWheel(path.join(wheelsDir, wheel.filename));
      await extractWheel(source, path.join(dir, 'trees', wheel.filename.replace(/\.whl$/, '')));
      await source.close();
    }
    const du = await run(['du', '-sh', path.join(dir, 'trees')]);
    const [time] = await seconds(() => run(['tar', '-C', path.join(dir, 'trees'), '-I', 'zstd -3 -T1', '-cf', path.join(dir, 'trees.tar.zst'), '.']));
    return { seconds: time, unpackedTrees: du.stdout.split('\t')[0] ?? '?' };
  });
}

export async function realWorldBench(): Promise<Row[]> {
  const ws = await makeWorkspace();
  const cache = path.join(defaultCacheDir(), 'bench-realworld');
  try {
    await copyFile(PINS, path.join(ws.dir, 'reqsets', 'realworld.txt'));
    const options = { workspace: ws.dir, out: ws.out, wheelCache: cache, jobs: 2 };
    const checked = await api.wheels('realworld', 'debian12', options);
    const baseline = await zstdBaseline(checked.wheelsDir, checked.wheels);
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
        baseline: `${baseline.seconds.toFixed(1)}s`,
        ratio: time / baseline.seconds,
        goal: GOAL,
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
        baseline: `${baseline.seconds.toFixed(1)}s`,
        ratio: time / baseline.seconds,
        goal: GOAL,
      });
    }
    return rows;
  } finally {
    await ws.cleanup();
  }
}
