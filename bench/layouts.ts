/**
 * Layouts benchmark: how the wheel sits in its package decides the size of
 * the delta RPMs between two versions. For each real version pair of the
 * corpus (one-pin reqsets for el9-py311: pip 23.0.1 -> 23.2.1, setuptools
 * 65.5.0 -> 66.1.1, wheel 0.38.4 -> 0.43.0), three layouts:
 *
 *   unpacked    the default: the wheel's files under /opt/<r>/wheels/<stem>/
 *   stored-zip  one zip of the wheel's members, uncompressed (build --layout stored-zip)
 *   wheel       the .whl as it is in /opt/<r>/wheelhouse (what other tools
 *               ship; built here only, with the same RpmPackager, no post-install)
 *
 * Ratios, all measured in this run:
 *   delta / floor        makedeltarpm v1 v2 (checked: applydeltarpm -r gives v2
 *                        byte for byte) against `zstd -19 --long=27
 *                        --patch-from=<v1 tree tar>` of the v2 tree tar, the two
 *                        unpacked trees (deterministic tars): a near-ideal patch,
 *                        the same floor for every layout. Goal <= 1.3.
 *   package / wheel      the v2 package against the .whl it carries.
 *   post-install         the scriptlet's work on the extracted v2 payload
 *                        (`rpm2cpio | cpio -idm`, or rpm2archive without cpio)
 *                        (rebuild-wheel from the tree or the zip; the plain
 *                        wheel has none) against the unpacked layout's.
 *   install-venv         an endpoint's venv from the zip against from the tree
 *                        (--no-compile, so that only the layout differs).
 *
 * The compact table (stderr) adds the v2 header's size (xz -9), which every
 * delta carries in full and which grows with the number of files, and the
 * time applydeltarpm -r takes.
 *
 * Run alone: node --import tsx bench/layouts.ts
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as api from '../src/api.ts';
import { RUNTIME_HELPER } from '../src/packagers/build.ts';
import { planWheelPackage, reqsetPaths, wheelStem, type WheelLayout } from '../src/packagers/plan.ts';
import { RpmPackager } from '../src/packagers/rpm/index.ts';
import { parseWheelFilename } from '../src/python/tags.ts';
import { run } from '../src/run.ts';
import { sourceDateEpoch } from '../src/epoch.ts';
import { loadTarget } from '../src/targets/target.ts';
import { printTable, type Row } from './table.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const CORPUS = path.resolve(ROOT, '..', 'shared', 'corpus', 'wheels');
const TARGET = 'el9-py311';
const REQSET = 'bench';
const GOAL = '<= 1.3';
const RUNS = 5;

const PAIRS: [string, string, string][] = [
  ['pip', '23.0.1', '23.2.1'],
  ['setuptools', '65.5.0', '66.1.1'],
  ['wheel', '0.38.4', '0.43.0'],
];

type Layout = WheelLayout | 'wheel';
const LAYOUTS: Layout[] = ['unpacked', 'stored-zip', 'wheel'];

interface Built {
  rpm: string;
  wheel: string;
}

interface Measured {
  layout: Layout;
  size: number;
  delta: number;
  /** Seconds applydeltarpm -r takes (the client's work). */
  apply: number;
  /** The v2 RPM's header, xz -9: part of every delta. */
  header: number;
  /** Seconds of the post-install's work (0: there is none). */
  postInstall: number;
  /** Seconds of install-venv from the payload (undefined for the plain wheel). */
  installVenv?: number;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ms = (seconds: number) => `${(seconds * 1000).toFixed(0)} ms`;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A one-pin workspace; its reqset collects the wheel from the corpus. */
async function workspace(work: string, pin: string): Promise<string> {
  const dir = await mkdtemp(path.join(work, 'ws-'));
  await mkdir(path.join(dir, 'reqsets'));
  await writeFile(path.join(dir, 'reqsets', `${REQSET}.txt`), `--no-index\n--find-links ${CORPUS}\n${pin}\n`);
  return dir;
}

/** `reqset build --layout <layout>` of the one-pin reqset: its wheel package and wheel. */
async function buildLayout(ws: string, layout: WheelLayout, work: string, cache: string): Promise<Built> {
  const out = await mkdtemp(path.join(work, `out-${layout}-`));
  const result = await api.buildTarget(REQSET, TARGET, { workspace: ws, out, wheelCache: cache, jobs: 2, release: '1', layout });
  const pin = result.manifest.pins[0];
  if (!pin) throw new Error('bench: layouts: the build has no wheel package');
  return { rpm: path.join(result.outDir, pin.package.path), wheel: path.join(result.outDir, 'wheels', pin.wheel.file) };
}

/** The plain-wheel package: the .whl itself in the wheelhouse, no scriptlets, built like the others. */
async function buildPlainWheel(wheel: string, name: string, version: string, work: string): Promise<string> {
  const target = await loadTarget(ROOT, TARGET);
  const filename = path.basename(wheel);
  const wheelName = parseWheelFilename(filename);
  if (!wheelName) throw new Error(`bench: layouts: ${filename} is not a wheel file name`);
  const file = `${reqsetPaths(REQSET).wheelhouse}/${filename}`;
  const base = planWheelPackage({ reqset: REQSET, target, key: name, version, wheel: { filename, name: wheelName }, dependencies: [], compiledAgainst: [], bundledLibraries: [] });
  const plan = { ...base, description: `The wheel ${filename} as it is, in ${file}.`, contents: [file], ghostFiles: [], scriptlets: {} };
  const dir = await mkdtemp(path.join(work, 'plain-'));
  const root = path.join(dir, 'root');
  await mkdir(path.join(root, path.dirname(file)), { recursive: true });
  await copyFile(wheel, path.join(root, file));
  const built = await new RpmPackager().build(plan, root, { epoch: sourceDateEpoch(), outDir: path.join(dir, 'out'), workDir: dir, maintainer: `reqset <reqset@${REQSET}.invalid>` });
  return built.path;
}

/**
 * The RPM's payload extracted into a new directory, with its modes and times
 * (`rpm2cpio | cpio -idm` where cpio is installed, else rpm2archive's tar).
 */
async function extract(rpm: string, work: string): Promise<string> {
  const dir = await mkdtemp(path.join(work, 'payload-'));
  const cpio = (await run(['sh', '-c', 'command -v cpio'], { allowFailure: true })).exitCode === 0;
  const pipe = cpio ? `rpm2cpio ${q(rpm)} | cpio -idm --quiet` : `rpm2archive -n < ${q(rpm)} | tar -xf -`;
  await run(['bash', '-c', `set -o pipefail; ${pipe}`], { cwd: dir });
  return dir;
}

/** A deterministic tar of a directory: sorted, fixed times and owners. */
async function treeTar(dir: string, tar: string): Promise<string> {
  await run(['tar', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-C', dir, '-cf', tar, '.']);
  return tar;
}

/** zstd -19 --long=27 --patch-from: a near-ideal patch between the two unpacked trees. */
async function floorSize(oldRpm: string, newRpm: string, work: string): Promise<number> {
  const oldTar = await treeTar(await extract(oldRpm, work), path.join(work, 'old.tar'));
  const newTar = await treeTar(await extract(newRpm, work), path.join(work, 'new.tar'));
  const patch = path.join(work, 'floor.zst');
  await run(['zstd', '-q', '-f', '-19', '--long=27', `--patch-from=${oldTar}`, newTar, '-o', patch]);
  return (await stat(patch)).size;
}

/** makedeltarpm, checked: applydeltarpm -r rebuilds the new RPM byte for byte. Its size, and applydeltarpm's time. */
async function deltaOf(oldRpm: string, newRpm: string, work: string): Promise<{ size: number; apply: number }> {
  const dir = await mkdtemp(path.join(work, 'delta-'));
  const delta = path.join(dir, 'd.drpm');
  const rebuilt = path.join(dir, 'out.rpm');
  await run(['makedeltarpm', oldRpm, newRpm, delta]);
  const apply = await seconds(() => run(['applydeltarpm', '-r', oldRpm, delta, rebuilt]));
  if (!(await readFile(rebuilt)).equals(await readFile(newRpm))) throw new Error(`bench: layouts: applydeltarpm did not rebuild ${newRpm} byte for byte`);
  return { size: (await stat(delta)).size, apply };
}

/**
 * The RPM's main header, xz -9 compressed: what a delta RPM carries in full
 * besides the payload patch (one entry per file: names, digests, sizes, modes).
 */
async function headerSize(rpm: string, work: string): Promise<number> {
  const data = await readFile(rpm);
  const headerLength = (offset: number) => 16 + data.readUInt32BE(offset + 8) * 16 + data.readUInt32BE(offset + 12);
  const signature = headerLength(96);
  const start = 96 + Math.ceil(signature / 8) * 8;
  const file = path.join(await mkdtemp(path.join(work, 'header-')), 'header.bin');
  await writeFile(file, data.subarray(start, start + headerLength(start)));
  await run(['xz', '-9', '-f', file]);
  return (await stat(`${file}.xz`)).size;
}

let interpreter: string | undefined;
/** The interpreter itself, not a wrapper such as a pyenv shim whose start-up would be timed too. */
async function python(): Promise<string> {
  interpreter ??= (await run(['python3', '-c', 'import sys; print(sys.executable)'])).stdout.trim();
  return interpreter;
}

/**
 * The post-install's work on each layout's extracted v2 payload (rebuild-wheel
 * from the tree or the zip), and an endpoint's install-venv from it. The
 * layouts take turns, run after run, so that a change in the machine's load
 * weighs on both alike; the median of RUNS.
 */
async function scriptletTimes(payloads: { layout: WheelLayout; rpm: string }[], wheelFile: string, work: string): Promise<Map<WheelLayout, { postInstall: number; installVenv: number }>> {
  const py = await python();
  const stem = wheelStem(path.basename(wheelFile));
  const original = await readFile(wheelFile);
  const prepared = [];
  for (const { layout, rpm } of payloads) {
    const root = await extract(rpm, work);
    const payload = path.join(root, reqsetPaths(REQSET).wheels.slice(1), layout === 'stored-zip' ? `${stem}.zip` : stem);
    prepared.push({ layout, root, payload, postInstall: [] as number[], installVenv: [] as number[] });
  }
  for (let i = 0; i < RUNS; i++) {
    for (const p of prepared) {
      const outdir = path.join(p.root, 'wheelhouse');
      p.postInstall.push(
        await seconds(async () => {
          const result = await run([py, RUNTIME_HELPER, 'rebuild-wheel', p.payload, outdir]);
          if (!(JSON.parse(result.stdout) as { identical: boolean }).identical) throw new Error(`bench: layouts: ${p.layout}: the rebuilt wheel is not identical`);
        }),
      );
      if (!(await readFile(path.join(outdir, path.basename(wheelFile)))).equals(original)) throw new Error(`bench: layouts: ${p.layout}: the rebuilt wheel differs from the original`);
    }
    for (const p of prepared) {
      const venv = path.join(p.root, 'app', 'venv');
      p.installVenv.push(await seconds(() => run([py, RUNTIME_HELPER, 'install-venv', '--venv', venv, '--tree', p.payload, '--no-compile'], { timeoutMs: 300_000 })));
    }
  }
  const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
  return new Map(prepared.map((p) => [p.layout, { postInstall: median(p.postInstall), installVenv: median(p.installVenv) }]));
}

async function measurePair(name: string, from: string, to: string, work: string): Promise<{ floor: number; wheelSize: number; results: Measured[] }> {
  const cache = path.join(work, 'cache');
  const ws1 = await workspace(work, `${name}==${from}`);
  const ws2 = await workspace(work, `${name}==${to}`);
  const built: Partial<Record<Layout, [Built, Built]>> = {};
  for (const layout of ['unpacked', 'stored-zip'] as const) {
    built[layout] = [await buildLayout(ws1, layout, work, cache), await buildLayout(ws2, layout, work, cache)];
  }
  const [u1, u2] = built.unpacked as [Built, Built];
  built.wheel = [
    { rpm: await buildPlainWheel(u1.wheel, name, from, work), wheel: u1.wheel },
    { rpm: await buildPlainWheel(u2.wheel, name, to, work), wheel: u2.wheel },
  ];
  const floor = await floorSize(u1.rpm, u2.rpm, work);
  const times = await scriptletTimes(
    (['unpacked', 'stored-zip'] as const).map((layout) => ({ layout, rpm: (built[layout] as [Built, Built])[1].rpm })),
    u2.wheel,
    work,
  );
  const results: Measured[] = [];
  for (const layout of LAYOUTS) {
    const [v1, v2] = built[layout] as [Built, Built];
    const size = (await stat(v2.rpm)).size;
    const delta = await deltaOf(v1.rpm, v2.rpm, work);
    const header = await headerSize(v2.rpm, work);
    results.push({ layout, size, delta: delta.size, apply: delta.apply, header, ...(layout === 'wheel' ? { postInstall: 0 } : times.get(layout)) } as Measured);
  }
  return { floor, wheelSize: (await stat(u2.wheel)).size, results };
}

function printCompact(table: { pair: string; floor: number; wheelSize: number; results: Measured[] }[]): void {
  const header = ['pair', 'layout', 'package', 'delta', 'floor', 'delta/floor', 'pkg/wheel', 'header (xz)', 'applydeltarpm', 'post-install', 'install-venv'];
  const rows = table.flatMap((t) =>
    t.results.map((r) => [
      t.pair,
      r.layout,
      kib(r.size),
      kib(r.delta),
      kib(t.floor),
      (r.delta / t.floor).toFixed(2),
      (r.size / t.wheelSize).toFixed(2),
      kib(r.header),
      ms(r.apply),
      r.layout === 'wheel' ? '0 (none)' : ms(r.postInstall),
      r.installVenv === undefined ? '-' : ms(r.installVenv),
    ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.error(line(header));
  console.error(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.error(line(r));
}

export async function layoutsBench(): Promise<Row[]> {
  if (!existsSync(CORPUS)) {
    console.error(`bench: layouts: no corpus at ${CORPUS}, every version pair skipped`);
    return [];
  }
  const work = await mkdtemp(path.join(tmpdir(), 'reqset-bench-layouts-'));
  try {
    const rows: Row[] = [];
    const table: { pair: string; floor: number; wheelSize: number; results: Measured[] }[] = [];
    for (const [name, from, to] of PAIRS) {
      const pair = `${name} ${from} -> ${to}`;
      console.error(`bench: layouts: ${pair} ...`);
      const dir = await mkdtemp(path.join(work, `${name}-`));
      const measured = await measurePair(name, from, to, dir);
      await rm(dir, { recursive: true, force: true });
      table.push({ pair, ...measured });
      const unpacked = measured.results.find((r) => r.layout === 'unpacked') as Measured;
      for (const r of measured.results) {
        rows.push({
          measure: `${r.layout} ${pair}: delta RPM vs zstd --patch-from floor`,
          value: kib(r.delta),
          baseline: kib(measured.floor),
          ratio: r.delta / measured.floor,
          goal: r.layout === 'unpacked' ? GOAL : undefined,
        });
        rows.push({ measure: `${r.layout} ${pair}: package vs wheel`, value: kib(r.size), baseline: kib(measured.wheelSize), ratio: r.size / measured.wheelSize });
        if (r.layout !== 'unpacked') {
          rows.push({
            measure: `${r.layout} ${pair}: post-install vs unpacked's`,
            value: r.layout === 'wheel' ? '0 ms (none)' : ms(r.postInstall),
            baseline: ms(unpacked.postInstall),
            ratio: r.postInstall / unpacked.postInstall,
          });
        }
        if (r.layout === 'stored-zip' && r.installVenv !== undefined && unpacked.installVenv !== undefined) {
          rows.push({ measure: `stored-zip ${pair}: install-venv vs from the tree`, value: ms(r.installVenv), baseline: ms(unpacked.installVenv), ratio: r.installVenv / unpacked.installVenv });
        }
      }
    }
    printCompact(table);
    return rows;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await layoutsBench());
}
