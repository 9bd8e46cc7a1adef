/**
 * The life of a reqset (numpy, scipy, the requests closure and wheel, for
 * el9-py311), each figure against its alternative in the same run:
 *
 *   rebuild, nothing changed / cold build   goal <= 0.05
 *   rebuild after one leaf pin bump (wheel 0.38.4 -> 0.43.0) / cold build
 *                                           goal <= 0.10
 *   what a machine one revision behind downloads after that bump (every
 *   upgraded package's delta RPM, or the full package without one) / the
 *   bumped wheel package's own delta RPM    goal <= 1.2
 *
 * "Cold" is a build with empty wheel and package caches; scipy comes from
 * PyPI once, before any timed run, so no figure includes the network.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../src/api.ts';
import { run } from '../src/run.ts';
import { CORPUS, makeWorkspace } from '../test/helpers/workspace.ts';
import type { Row } from './table.ts';

const TARGET = 'el9-py311';
const SCIPY = 'scipy==1.17.1';
const PINS = ['numpy==2.4.6', SCIPY, 'requests==2.34.2', 'urllib3==2.7.0', 'idna==3.13', 'certifi==2026.5.20', 'charset_normalizer==3.4.7'];

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function seconds<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [Number(process.hrtime.bigint() - started) / 1e9, result];
}

export async function evolutionBench(): Promise<Row[]> {
  if (!existsSync(CORPUS)) return [];
  const ws = await makeWorkspace();
  try {
    const downloads = path.join(ws.dir, 'pypi');
    await mkdir(downloads);
    await run(['python3', '-m', 'pip', 'download', '--isolated', '--no-deps', '--only-binary=:all:', '--python-version', '3.11', '--platform', 'manylinux_2_28_x86_64', '--dest', downloads, SCIPY], { timeoutMs: 15 * 60_000 });
    const pinList = (wheelVersion: string) => `--no-index\n--find-links ${CORPUS}\n--find-links ${downloads}\n${[...PINS, `wheel==${wheelVersion}`].join('\n')}\n`;
    const repo = path.join(ws.dir, 'repo');
    const build = () => api.buildTarget('evo', TARGET, { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2, repo });
    const publish = () => api.publish('evo', TARGET, { workspace: ws.dir, out: ws.out, repo });

    await ws.writeReqset('evo', pinList('0.38.4'));
    const [cold] = await seconds(build);
    await publish();
    const [warm, { manifest: unchanged }] = await seconds(build);
    await ws.writeReqset('evo', pinList('0.43.0'));
    const [bumped, { manifest: bump }] = await seconds(build);
    const report = await publish();

    const reused = (m: api.Manifest) => api.manifestPackages(m).filter((p) => p.reused).length;
    const own = report.upgraded.find((u) => u.name === 'evo-wheel-wheel')?.deltas[0]?.size;
    if (own === undefined) throw new Error('bench: no delta RPM of evo-wheel-wheel was published');
    const upgraded = report.upgraded.map((u) => u.name).join(', ');
    return [
      { measure: `rebuild, nothing changed (${reused(unchanged)} of ${api.manifestPackages(unchanged).length} reused) vs cold build`, value: `${warm.toFixed(2)}s`, baseline: `${cold.toFixed(2)}s`, ratio: warm / cold, goal: '<= 0.05' },
      { measure: `rebuild after a leaf pin bump (${reused(bump)} reused) vs cold build`, value: `${bumped.toFixed(2)}s`, baseline: `${cold.toFixed(2)}s`, ratio: bumped / cold, goal: '<= 0.10' },
      { measure: `client download for that bump (${upgraded}) vs the wheel package's own delta`, value: kib(report.totals.updateSize), baseline: kib(own), ratio: report.totals.updateSize / own, goal: '<= 1.2' },
    ];
  } finally {
    await ws.cleanup();
  }
}
