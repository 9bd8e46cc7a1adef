/**
 * Endpoint post-install: `reqset_runtime.py install-venv` (the native
 * installer, linking the unpacked wheel trees into a new venv) against what it
 * replaces, `python -m venv` + `pip install --no-index --find-links` of the
 * same closure, measured in the same run with the same interpreter (Debian
 * 12's python3.11, the debian12 target), median of 3 runs each, interleaved.
 *
 *   npm run bench venv
 */
import type { Row } from './table.ts';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../src/run.ts';
import { makeTempDir } from '../test/helpers/runtime-fixtures.ts';
import { PYTHON311, RUNTIME_HELPER, buildExampleWheels, corpusClosure, makeTrees } from '../test/helpers/venv-fixtures.ts';


const RUNS = 3;

async function timed(...commands: string[][]): Promise<number> {
  const started = process.hrtime.bigint();
  for (const argv of commands) await run(argv, { timeoutMs: 900_000 });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const seconds = (s: number) => `${s.toFixed(2)}s`;

async function closureRows(label: string, wheels: string[], trees: string[], dir: string): Promise<Row[]> {
  const venv = path.join(dir, 'opt', label.replace(/\W+/g, '-'), 'venv');
  const pipVenv = path.join(dir, 'pip', label.replace(/\W+/g, '-'), 'venv');
  const wheelhouse = path.dirname(wheels[0] as string);
  const install = (...flags: string[]) => [PYTHON311, RUNTIME_HELPER, 'install-venv', '--venv', venv, ...trees.flatMap((t) => ['--tree', t]), ...flags];
  const remove = () => run([PYTHON311, RUNTIME_HELPER, 'remove-venv', '--venv', venv]);
  const times = { compile: [] as number[], noCompile: [] as number[], reinstall: [] as number[], pip: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    await remove();
    times.compile.push(await timed(install()));
    times.reinstall.push(await timed(install()));
    await remove();
    times.noCompile.push(await timed(install('--no-compile')));
    await rm(pipVenv, { recursive: true, force: true });
    times.pip.push(
      await timed(
        [PYTHON311, '-m', 'venv', pipVenv],
        [path.join(pipVenv, 'bin', 'python'), '-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--no-index', '--find-links', wheelhouse, ...wheels],
      ),
    );
  }
  await remove();
  await rm(pipVenv, { recursive: true, force: true });
  const [compile, noCompile, reinstall, pip] = [median(times.compile), median(times.noCompile), median(times.reinstall), median(times.pip)];
  const baseline = `${seconds(pip)} (venv + pip)`;
  return [
    { measure: `${label}: install-venv (native, --compile: the default) vs python -m venv + pip install`, value: seconds(compile), baseline, ratio: compile / pip, goal: '< 0.2' },
    { measure: `${label}: install-venv --no-compile vs python -m venv + pip install`, value: seconds(noCompile), baseline, ratio: noCompile / pip },
    { measure: `${label}: install-venv --compile vs --no-compile (cost of the .pyc)`, value: seconds(compile), baseline: `${seconds(noCompile)} (--no-compile)`, ratio: compile / noCompile },
    { measure: `${label}: install-venv over the previous venv (unchanged trees: .pyc reused) vs venv + pip`, value: seconds(reinstall), baseline, ratio: reinstall / pip },
  ];
}

export async function venvBench(): Promise<Row[]> {
  const dir = await makeTempDir('reqset-bench-venv-');
  try {
    const rows: Row[] = [];
    const example = await buildExampleWheels(dir, { wheelCache: path.join(dir, 'wheel-cache') });
    rows.push(...(await closureRows('example closure (4 dists)', example, await makeTrees(example, path.join(dir, 'trees')), dir)));
    const corpus = await corpusClosure();
    rows.push(...(await closureRows('numpy + Flask closure (8 dists)', corpus.wheels, await makeTrees(corpus.wheels, path.join(dir, 'trees')), dir)));
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
