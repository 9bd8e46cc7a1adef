/**
 * The fixed cost of one pin: synthetic reqsets of 50, 200 and 800 tiny pure
 * wheels built cold (fresh wheel and package caches), and the slope of a
 * least-squares line through (pins, seconds): what each more pin costs, with
 * the constant start-up cost taken out. The goal from the performance issue is
 * 50 ms per pin; it is the baseline here, so the ratio is slope / goal.
 *
 * `npm run bench packages` runs it with the other package benches; alone:
 * `node --import tsx bench/fixedcost.ts [SIZE...] [--target NAME]...`.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as api from '../src/api.ts';
import { makeWheel } from '../test/helpers/make-wheel.ts';
import { makeWorkspace } from '../test/helpers/workspace.ts';
import { printTable, type Row } from './table.ts';

const SIZES = [50, 200, 800];
const TARGETS = ['el9-py311', 'debian12'];
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

/** The 1-minute load average, which says how busy the machine was (other work slows every figure). */
const load = () => loadavg()[0]?.toFixed(1);

/**
 * CPU seconds of this process and of its children that ended (user and
 * system: /proc/self/stat's utime, stime, cutime, cstime, in Linux's 1/100 s
 * ticks): what a pin costs even when other work shares the machine.
 */
async function cpuSeconds(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  // After "pid (comm) ": the command name may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
}

export async function fixedCostBench(sizes = SIZES, targets = TARGETS): Promise<Row[]> {
  const ws = await makeWorkspace();
  try {
    const wheels = path.join(ws.dir, 'synthetic');
    const pins = await syntheticWheels(wheels, Math.max(...sizes));
    const rows: Row[] = [];
    for (const target of targets) {
      const points: Array<[number, number]> = [];
      const cpu: Array<[number, number]> = [];
      const loadBefore = load();
      for (const size of sizes) {
        const name = `fixed${size}`;
        await ws.writeReqset(name, `--no-index\n--find-links ${wheels}\n${pins.slice(0, size).join('\n')}\n`);
        const cache = path.join(ws.dir, `cache-${target}-${size}`);
        const [started, cpuBefore] = [process.hrtime.bigint(), await cpuSeconds()];
        await api.buildTarget(name, target, { workspace: ws.dir, out: ws.out, wheelCache: cache, jobs: 2 });
        points.push([size, Number(process.hrtime.bigint() - started) / 1e9]);
        cpu.push([size, (await cpuSeconds()) - cpuBefore]);
        await rm(cache, { recursive: true, force: true });
      }
      const fit = linearFit(points);
      const perPin = fit.slope * 1000;
      const times = points.map(([n, s]) => `${n}: ${s.toFixed(1)}s`).join(', ');
      rows.push({
        measure: `${target}: cost per pin, cold build of ${sizes.join('/')} synthetic pins, --jobs 2 (${times}; linear fit, start-up ${fit.intercept.toFixed(1)}s; CPU ${(linearFit(cpu).slope * 1000).toFixed(0)} ms per pin; load ${loadBefore} -> ${load()}) vs the goal`,
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const targets = args.flatMap((arg, i) => (args[i - 1] === '--target' ? [arg] : []));
  const sizes = args.filter((arg, i) => arg !== '--target' && args[i - 1] !== '--target').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || (sizes.length > 0 && sizes.length < 2)) throw new Error('usage: bench/fixedcost.ts [SIZE SIZE...] [--target NAME]...');
  printTable(await fixedCostBench(sizes.length ? sizes : SIZES, targets.length ? targets : TARGETS));
}
