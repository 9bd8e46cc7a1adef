/**
 * Delta RPMs from each kept older version of a package to its newest one:
 * reused when an earlier publish made them, else made with makedeltarpm and
 * published only when applydeltarpm rebuilds the new package from them byte
 * for byte.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { mapLimit } from '../fsutil.ts';
import { run } from '../run.ts';
import { digestFile, fsyncPath, removeFile, sameBytes } from './files.ts';
import { drpmFileName, formatEvr, type PrestoDelta, type PrestoPackage } from './prestodelta.ts';
import { DRPMS_DIR, evrKey, type RpmFile } from './rpm-packages.ts';
import type { PublishContext } from './types.ts';

export interface DeltaPair {
  old: RpmFile;
  new: RpmFile;
}

export interface MadeDelta {
  pair: DeltaPair;
  delta: PrestoDelta;
  /** false: published by an earlier publish and still valid. */
  created: boolean;
}

/** The deltas of `pairs`; those created now are in `staging` under their `filename`. */
export async function deltasFor(ctx: PublishContext, staging: string, pairs: DeltaPair[], published: PrestoPackage[], warnings: string[]): Promise<MadeDelta[]> {
  const publishedDeltas = new Map<string, PrestoDelta>();
  for (const pkg of published) {
    for (const delta of pkg.deltas) publishedDeltas.set(`${pkg.name}.${pkg.arch}:${evrKey(delta.old)}>${evrKey(pkg)}`, delta);
  }
  const made = await mapLimit(pairs, ctx.jobs, async (pair) => {
    const key = `${pair.new.name}.${pair.new.arch}:${pair.old.versionKey}>${pair.new.versionKey}`;
    const filename = `${DRPMS_DIR}/${drpmFileName(pair.new.name, pair.new.arch, pair.old, pair.new)}`;
    const previous = publishedDeltas.get(key);
    if (previous && pair.new.published && previous.filename === filename) {
      const info = await stat(path.join(ctx.repo, filename)).catch(() => undefined);
      if (info?.size === previous.size) return { pair, delta: previous, created: false };
    }
    return makeDelta(ctx, staging, pair, filename, warnings);
  });
  return made.filter((m): m is MadeDelta => m !== undefined);
}

/** prestodelta.xml's entries: the deltas grouped by new package. */
export function prestoPackages(made: MadeDelta[]): PrestoPackage[] {
  const byNew = new Map<RpmFile, PrestoPackage>();
  for (const { pair, delta } of made) {
    let pkg = byNew.get(pair.new);
    if (!pkg) {
      const n = pair.new;
      pkg = { name: n.name, epoch: n.epoch || '0', version: n.version, release: n.release, arch: n.arch, deltas: [] };
      byNew.set(pair.new, pkg);
    }
    pkg.deltas.push(delta);
  }
  return [...byNew.values()];
}

/**
 * makedeltarpm old new, then applydeltarpm -r old on the result must give
 * the new RPM byte for byte; otherwise (or when the delta is not smaller
 * than the package) the delta is dropped with a warning.
 */
async function makeDelta(ctx: PublishContext, staging: string, pair: DeltaPair, filename: string, warnings: string[]): Promise<MadeDelta | undefined> {
  const label = `${pair.new.name} ${formatEvr(pair.old)} -> ${formatEvr(pair.new)}`;
  const drpm = path.join(staging, filename);
  const base = path.basename(filename, '.drpm');
  const seqFile = path.join(staging, 'seq', `${base}.seq`);
  const rebuilt = path.join(staging, 'verify', `${base}.rpm`);
  await mkdir(path.dirname(drpm), { recursive: true });
  await mkdir(path.dirname(seqFile), { recursive: true });
  await mkdir(path.dirname(rebuilt), { recursive: true });
  const made = await run(['makedeltarpm', '-s', seqFile, pair.old.path, pair.new.path, drpm], { allowFailure: true, timeoutMs: 60 * 60_000 });
  if (made.exitCode !== 0) {
    warnings.push(`delta ${label} not published: makedeltarpm failed: ${made.stderr.trim().split('\n').pop() ?? ''}`);
    return undefined;
  }
  const applied = await run(['applydeltarpm', '-r', pair.old.path, drpm, rebuilt], { allowFailure: true, timeoutMs: 60 * 60_000 });
  const verified = applied.exitCode === 0 && (await sameBytes(rebuilt, pair.new.path));
  await removeFile(rebuilt);
  if (!verified) {
    const why = applied.exitCode !== 0 ? `applydeltarpm failed: ${applied.stderr.trim().split('\n').pop() ?? ''}` : 'applydeltarpm did not reproduce the new package byte for byte';
    warnings.push(`delta ${label} not published: ${why}`);
    return undefined;
  }
  const digest = await digestFile(drpm);
  if (digest.size >= pair.new.size) {
    warnings.push(`delta ${label} not published: ${digest.size} bytes, not smaller than the package (${pair.new.size})`);
    return undefined;
  }
  const sequence = (await readFile(seqFile, 'utf8')).trim();
  if (!sequence) {
    warnings.push(`delta ${label} not published: makedeltarpm wrote no sequence`);
    return undefined;
  }
  await fsyncPath(drpm);
  ctx.progress(`publish: delta ${label}: ${digest.size} bytes (${((digest.size / pair.new.size) * 100).toFixed(1)}% of ${pair.new.size}), verified`);
  return { pair, delta: { old: { epoch: pair.old.epoch || '0', version: pair.old.version, release: pair.old.release }, filename, sequence, size: digest.size, sha256: digest.sha256 }, created: true };
}
