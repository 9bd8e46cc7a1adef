/**
 * Publish benchmark: how small the delta RPMs that `publish` makes are, as
 * ratios against alternatives measured in the same run:
 *
 *   delta / full   the delta RPM against the full new RPM (what a machine
 *                  one version behind downloads instead);
 *   delta / floor  against `zstd -19 --long=27 --patch-from=<old tree tar>`
 *                  of the new tree tar: a near-ideal binary patch of the two
 *                  unpacked payloads (deterministic tars of what rpm2archive
 *                  extracts). Goal: the delta within 1.3x of that floor.
 *   delta / (floor + header)  the same floor plus the new RPM's header
 *                  compressed with xz -9, which a delta RPM must carry in full
 *                  (names, digests, dependencies): where the gap comes from.
 *
 * Pairs: the example reqset's upgrade (textfmt 1.0.0 -> 1.1.0, every package
 * release 2), and, when /work/shared/corpus/wheels exists, real upgrades
 * built as one-pin reqsets for el9-py311: pip 23.0.1 -> 23.2.1, setuptools
 * 65.5.0 -> 66.1.1, wheel 0.38.4 -> 0.43.0.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as api from '../src/api.ts';
import { publish, type PublishReport } from '../src/publish/index.ts';
import { run } from '../src/run.ts';
import { loadTarget } from '../src/targets/target.ts';
import { buildExampleSdists } from '../scripts/example-sdists.ts';
import { CORPUS, makeWorkspace, reqsset3Pins, type Workspace } from '../test/helpers/workspace.ts';
import type { Row } from './table.ts';


const ROOT = path.resolve(import.meta.dirname, '..');
const TARGET = 'el9-py311';
const FLOOR_GOAL = '<= 1.3';

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The payload of an RPM as a deterministic tar (sorted, fixed owners and times). */
async function treeTar(rpm: string, work: string, name: string): Promise<string> {
  const tree = path.join(work, `${name}-tree`);
  await mkdir(tree, { recursive: true });
  await run(['rpm2archive', rpm]); // writes <rpm>.tgz next to it
  await run(['tar', '-xzf', `${rpm}.tgz`, '-C', tree]);
  await rm(`${rpm}.tgz`);
  const tar = path.join(work, `${name}.tar`);
  await run(['tar', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-C', tree, '-cf', tar, '.']);
  return tar;
}

/** zstd -19 --long=27 --patch-from: the size of a near-ideal patch from the old tree to the new one. */
async function floorSize(oldRpm: string, newRpm: string, work: string): Promise<number> {
  const dir = await mkdtemp(path.join(work, 'floor-'));
  try {
    const copy = async (rpm: string, name: string) => {
      const file = path.join(dir, `${name}.rpm`);
      await run(['cp', rpm, file]);
      return treeTar(file, dir, name);
    };
    const oldTar = await copy(oldRpm, 'old');
    const newTar = await copy(newRpm, 'new');
    const patch = path.join(dir, 'patch.zst');
    await run(['zstd', '-q', '-19', '--long=27', `--patch-from=${oldTar}`, newTar, '-o', patch]);
    return (await stat(patch)).size;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The new RPM's main header, xz -9 compressed: what any delta format must
 * carry besides the payload patch (file names, modes, digests, dependencies).
 */
async function headerSize(rpm: string, work: string): Promise<number> {
  const data = await readFile(rpm);
  const headerLength = (offset: number) => 16 + data.readUInt32BE(offset + 8) * 16 + data.readUInt32BE(offset + 12);
  const signature = headerLength(96);
  const start = 96 + Math.ceil(signature / 8) * 8;
  const file = path.join(work, 'header.bin');
  await writeFile(file, data.subarray(start, start + headerLength(start)));
  await run(['xz', '-9', '-f', file]);
  const size = (await stat(`${file}.xz`)).size;
  await rm(`${file}.xz`);
  return size;
}

interface Pair {
  label: string;
  report: PublishReport;
  repo: string;
}

/** Builds v1 and v2 of a reqset for el9-py311 and publishes both into a fresh repository. */
async function buildAndPublish(label: string, reqset: string, ws1: Workspace, ws2: Workspace, cache: string, release2: string, work: string): Promise<Pair> {
  const target = await loadTarget(ROOT, TARGET);
  const options = (ws: Workspace, release: string) => ({ workspace: ws.dir, out: ws.out, wheelCache: cache, jobs: 2, release });
  const b1 = await api.buildTarget(reqset, TARGET, options(ws1, '1'));
  const b2 = await api.buildTarget(reqset, TARGET, options(ws2, release2));
  const repo = path.join(work, `repo-${label.replace(/\W+/g, '-')}`);
  await publish({ reqset, target, packagesDir: path.join(b1.outDir, 'packages'), repo });
  const report = await publish({ reqset, target, packagesDir: path.join(b2.outDir, 'packages'), repo });
  return { label, report, repo };
}

/** Rows for one upgraded package: delta vs full, and delta vs the zstd floor. */
async function rowsFor(pair: Pair, packageName: string, label: string, work: string): Promise<Row[]> {
  const upgraded = pair.report.upgraded.find((u) => u.name === packageName);
  const delta = upgraded?.deltas[0];
  if (!upgraded || !delta) throw new Error(`${label}: no delta published for ${packageName} (${pair.report.warnings.join('; ')})`);
  const oldRpm = path.join(pair.repo, 'Packages', `${packageName}-${delta.fromVersion}.${upgraded.arch}.rpm`);
  const newRpm = path.join(pair.repo, upgraded.file);
  const floor = await floorSize(oldRpm, newRpm, work);
  const header = await headerSize(newRpm, work);
  return [
    { measure: `delta RPM ${label} vs full new RPM`, value: kib(delta.size), baseline: kib(upgraded.fullSize), ratio: delta.size / upgraded.fullSize },
    { measure: `delta RPM ${label} vs zstd --patch-from floor`, value: kib(delta.size), baseline: kib(floor), ratio: delta.size / floor, goal: FLOOR_GOAL },
    { measure: `delta RPM ${label} vs floor + xz'd new RPM header`, value: kib(delta.size), baseline: kib(floor + header), ratio: delta.size / (floor + header) },
  ];
}

export async function publishBench(): Promise<Row[]> {
  const work = await mkdtemp(path.join(tmpdir(), 'reqset-bench-publish-'));
  const cleanup: Workspace[] = [];
  try {
    const rows: Row[] = [];
    // The example reqset: textfmt 1.0.0 -> 1.1.0, every package release 1 -> 2.
    const e1 = await makeWorkspace();
    const e2 = await makeWorkspace({ cache: e1.cache });
    cleanup.push(e1, e2);
    await e1.writeReqset('demo', `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    await buildExampleSdists(e2.dist, { versions: { textfmt: '1.1.0' } });
    await e2.writeReqset('demo', `--no-index\n--find-links ../dist-src\n${reqsset3Pins({ textfmt: '1.1.0' })}\n`);
    console.error('bench: publish: example reqset v1 -> v2 ...');
    const example = await buildAndPublish('example', 'demo', e1, e2, e1.cache, '2', work);
    rows.push(...(await rowsFor(example, 'demo-wheel-textfmt', 'textfmt 1.0.0 -> 1.1.0', work)));
    const t = example.report.totals;
    rows.push({
      measure: `example reqset upgrade, all ${t.upgraded} packages: deltas vs full RPMs`,
      value: kib(t.updateSize),
      baseline: kib(t.fullSize),
      ratio: t.ratio,
    });

    if (existsSync(CORPUS)) {
      const pairs: [string, string, string][] = [
        ['pip', '23.0.1', '23.2.1'],
        ['setuptools', '65.5.0', '66.1.1'],
        ['wheel', '0.38.4', '0.43.0'],
      ];
      for (const [name, from, to] of pairs) {
        console.error(`bench: publish: ${name} ${from} -> ${to} ...`);
        const w1 = await makeWorkspace();
        const w2 = await makeWorkspace({ cache: w1.cache });
        cleanup.push(w1, w2);
        await w1.writeReqset('bench', `--no-index\n--find-links ${CORPUS}\n${name}==${from}\n`);
        await w2.writeReqset('bench', `--no-index\n--find-links ${CORPUS}\n${name}==${to}\n`);
        const pair = await buildAndPublish(name, 'bench', w1, w2, w1.cache, '1', work);
        rows.push(...(await rowsFor(pair, `bench-wheel-${name}`, `${name} ${from} -> ${to}`, work)));
      }
    } else {
      console.error(`bench: publish: no corpus at ${CORPUS}, real version pairs skipped`);
    }
    return rows;
  } finally {
    for (const ws of cleanup) await ws.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

// Run alone: node --import tsx bench/publish.ts
