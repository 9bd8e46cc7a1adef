/**
 * The fixed cost of one pin: synthetic reqsets of 50, 200 and 800 tiny pure
 * wheels built cold (fresh wheel and package caches), and the slope of a
 * least-squares line through (pins, seconds): what each more pin costs, with
 * the constant start-up cost taken out. The goal from the performance issue is
 * 50 ms per pin; it is the baseline here, so the ratio is slope / goal.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../src/api.ts';
import { makeWheel } from '../test/helpers/make-wheel.ts';
import { makeWorkspace } from '../test/helpers/workspace.ts';
import type { Row } from './table.ts';

const SIZES = [50, 200, 800];
const GOAL_MS = 50;

/** Least-squares slope and intercept of y over x. */
export function linearFit(points: Array<[number, number]>): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** `count` wheels pin0000..pinNNNN, each a module and a dependency on the one before (real requires to render). */
async function syntheticWheels(dir: string, count: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const pins: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `pin${String(i).padStart(4, '0')}`;
    const metadata: Record<string, string[]> = i ? { 'Requires-Dist': [`pin${String(i - 1).padStart(4, '0')}>=1.0`] } : {};
    await makeWheel(dir, { name, version: '1.0', files: { [`${name}/__init__.py`]: `VALUE = ${i}\n` }, metadata });
    pins.push(`${name}==1.0`);
  }
  return pins;
}

export async function fixedCostBench(): Promise<Row[]> {
  const ws = await makeWorkspace();
  try {
    const wheels = path.join(ws.dir, 'synthetic');
    const pins = await syntheticWheels(wheels, Math.max(...SIZES));
    const rows: Row[] = [];
    for (const target of ['el9-py311', 'debian12']) {
      const points: Array<[number, number]> = [];
      for (const size of SIZES) {
        const name = `fixed${size}`;
        await ws.writeReqset(name, `--no-index\n--find-links ${wheels}\n${pins.slice(0, size).join('\n')}\n`);
        const cache = path.join(ws.dir, `cache-${target}-${size}`);
        const started = process.hrtime.bigint();
        await api.buildTarget(name, target, { workspace: ws.dir, out: ws.out, wheelCache: cache, jobs: 2 });
        points.push([size, Number(process.hrtime.bigint() - started) / 1e9]);
        await rm(cache, { recursive: true, force: true });
      }
      const fit = linearFit(points);
      const perPin = fit.slope * 1000;
      const times = points.map(([n, s]) => `${n}: ${s.toFixed(1)}s`).join(', ');
      rows.push({
        measure: `${target}: cost per pin, cold build of ${SIZES.join('/')} synthetic pins (${times}; linear fit, start-up ${fit.intercept.toFixed(1)}s) vs the goal`,
        value: `${perPin.toFixed(1)} ms`,
        baseline: `${GOAL_MS} ms`,
        ratio: perPin / GOAL_MS,
        goal: '<= 1.0',
      });
    }
    return rows;
  } finally {
    await ws.cleanup();
  }
}
