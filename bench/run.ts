/**
 * `npm run bench`: every figure is a ratio against an alternative measured in
 * the same run on the same machine, never a bare time.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../src/api.ts';
import { withTempDir } from '../src/fsutil.ts';
import { run } from '../src/run.ts';
import { extractWheel } from '../src/wheels/extract.ts';
import { openWheel } from '../src/wheels/source.ts';
import { TOOL_ROOT } from '../src/targets/target.ts';
import { CORPUS, CORPUS_PINS, makeWorkspace, reqsset3Pins } from '../test/helpers/workspace.ts';
import { printTable, type Row } from './table.ts';
import { evolutionBench } from './evolution.ts';
import { fixedCostBench } from './fixedcost.ts';
import { fpmBench } from './fpm.ts';
import { installBench } from './install.ts';
import { layoutsBench } from './layouts.ts';
import { manyFilesBench } from './manyfiles.ts';
import { realWorldBench } from './realworld.ts';
import { publishBench } from './publish.ts';
import { venvBench } from './venv.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'reqset.js');


async function timed(argv: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  await run(argv);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function wheelsBench(): Promise<Row[]> {
  const ws = await makeWorkspace();
  try {
    await ws.writeReqset('bench', `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    const wheels = (jobs: number, cache: string) => ['node', BIN, 'wheels', 'bench', '--workspace', ws.dir, '--out', ws.out, '--wheel-cache', cache, '--jobs', String(jobs), '--quiet'];
    const cold1 = await timed(wheels(1, path.join(ws.dir, 'cache-j1')));
    const cold2 = await timed(wheels(2, path.join(ws.dir, 'cache-j2')));
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push(await timed(wheels(2, path.join(ws.dir, 'cache-j2'))));
    const warmMedian = warm.sort((a, b) => a - b)[2] as number;
    return [
      { measure: 'warm no-op `reqset wheels` vs cold build', value: `${warmMedian.toFixed(2)}s`, baseline: `${cold2.toFixed(2)}s`, ratio: warmMedian / cold2, goal: '< 0.05' },
      { measure: 'example sdists with --jobs 2 vs --jobs 1', value: `${cold2.toFixed(2)}s`, baseline: `${cold1.toFixed(2)}s`, ratio: cold2 / cold1, goal: '< 0.65' },
    ];
  } finally {
    await ws.cleanup();
  }
}


const mib = (bytes: number) => `${(bytes / 1048576).toFixed(2)} MiB`;

/** A workspace target `<target>-small`: the built-in one with `payload: small`. */
async function smallTarget(workspace: string, target: string): Promise<string> {
  const name = `${target}-small`;
  const text = await readFile(path.join(TOOL_ROOT, 'packaging', 'targets', `${target}.yml`), 'utf8');
  const file = path.join(workspace, 'packaging', 'targets', `${name}.yml`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text.replace(/^name: .*$/m, `name: ${name}`).replace(/^payload: .*$/m, 'payload: small'));
  return name;
}

/** A cold build of the corpus reqset for `target`: its time, package and wheel bytes. */
async function timedBuild(target: string, options: api.CommonOptions): Promise<{ seconds: number; packageBytes: number; wheelBytes: number }> {
  await mkdir(options.out as string, { recursive: true });
  const started = process.hrtime.bigint();
  const result = await api.buildTarget('corpus', target, options);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const packageBytes = result.manifest.pins.reduce((sum, p) => sum + p.package.size, 0);
  const wheelBytes = result.manifest.pins.reduce((sum, p) => sum + p.wheel.size, 0);
  return { seconds, packageBytes, wheelBytes };
}

/**
 * Packaging the corpus closures against the work that cannot be avoided:
 * `tar | zstd -3` of the same unpacked trees, with the target's payload and
 * with `payload: small`. Sizes next to the wheels'.
 */
async function packagesBench(): Promise<Row[]> {
  if (!existsSync(CORPUS)) return [];
  const ws = await makeWorkspace();
  try {
    await ws.writeReqset('corpus', `--no-index\n--find-links ${CORPUS}\n${CORPUS_PINS.join('\n')}\n`);
    const options = { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2 };
    const checked = await api.wheels('corpus', 'debian12', options);
    const baseline = await withTempDir('reqset-bench-trees-', async (dir) => {
      for (const wheel of checked.wheels) {
        const source = await openWheel(path.join(checked.wheelsDir, wheel.filename));
        await extractWheel(source, path.join(dir, 'trees', wheel.filename.replace(/\.whl$/, '')));
        await source.close();
      }
      return timed(['tar', '-C', path.join(dir, 'trees'), '-I', 'zstd -3 -T1', '-cf', path.join(dir, 'trees.tar.zst'), '.']);
    });
    const rows: Row[] = [];
    for (const target of ['el9-py311', 'debian12']) {
      const small = await smallTarget(ws.dir, target);
      const normal = await timedBuild(target, options);
      const smaller = await timedBuild(small, options);
      rows.push({ measure: `build corpus closures for ${target} vs tar | zstd -3 of the trees`, value: `${normal.seconds.toFixed(2)}s`, baseline: `${baseline.toFixed(2)}s`, ratio: normal.seconds / baseline });
      rows.push({ measure: `${target} package bytes vs wheel bytes (${CORPUS_PINS.length} pins)`, value: mib(normal.packageBytes), baseline: mib(normal.wheelBytes), ratio: normal.packageBytes / normal.wheelBytes });
      rows.push({ measure: `build corpus closures for ${target} with \`payload: small\` vs tar | zstd -3 of the trees`, value: `${smaller.seconds.toFixed(2)}s`, baseline: `${baseline.toFixed(2)}s`, ratio: smaller.seconds / baseline });
      rows.push({ measure: `${target} \`payload: small\` package bytes vs wheel bytes`, value: mib(smaller.packageBytes), baseline: mib(smaller.wheelBytes), ratio: smaller.packageBytes / smaller.wheelBytes });
    }
    return rows;
  } finally {
    await ws.cleanup();
  }
}


const sections: Record<string, () => Promise<Row[]>> = {
  wheels: wheelsBench,
  packages: async () => [...(await packagesBench()), ...(await realWorldBench()), ...(await fixedCostBench()), ...(await fpmBench())],
  realworld: realWorldBench,
  manyfiles: manyFilesBench,
  venv: venvBench,
  install: installBench,
  publish: publishBench,
  layouts: layoutsBench,
  evolution: evolutionBench,
};
const wanted = process.argv.slice(2);
const rows: Row[] = [];
for (const [name, bench] of Object.entries(sections)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.error(`bench: ${name} ...`);
  rows.push(...(await bench()));
}
printTable(rows);
