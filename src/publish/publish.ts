/**
 * The steps of a publish, the same for every format; the format's
 * `RepositoryBackend` (rpm.ts, apt.ts) does what only it knows.
 *
 * Order of writes, so a reader never sees metadata naming a missing file:
 * new packages (and deltas) go in under names that never replace a listed
 * file; the new metadata is written in a staging directory; the history is
 * replaced; the metadata is switched, the file readers read first last; only
 * then are pruned packages and unneeded metadata removed. A publish that
 * would not change the metadata writes only the history.
 */
import path from 'node:path';
import { InputError, ToolError } from '../errors.ts';
import type { PublishPlan, RepoPackage, RepositoryBackend } from './backend.ts';
import { copyDurable, filesBelow, fsyncPath, linkNew, replaceFile } from './files.ts';
import { withStaging, writeHistory } from './history.ts';
import { groupByName, ranksOf, selectKept } from './keep.ts';
import { totalsOf, type PublishedFile, type PublishReport, type UpgradedPackage } from './report.ts';
import { checkSigningKey } from './sign.ts';
import type { PublishContext } from './types.ts';

/** Publishes the packages of `ctx.packagesDir` into `ctx.repo` (held under the publish lock by the caller). */
export async function publishWith<P extends RepoPackage>(backend: RepositoryBackend<P>, ctx: PublishContext): Promise<PublishReport> {
  if (ctx.signing) await checkSigningKey(ctx.signing);
  const incoming = await incomingFiles(backend, ctx);
  const warnings: string[] = [];
  const plan = await planKept(backend, await backend.candidates(incoming, warnings), ctx.keep, warnings);
  warnings.push(...((await backend.keptWarnings?.(plan)) ?? []));
  if (plan.added.length === 0 && plan.pruned.length === 0 && (await backend.metadataCurrent(plan))) {
    await withStaging(ctx.repo, (staging) => writeHistory(ctx.repo, staging, ctx.history));
    ctx.progress(`publish: ${ctx.repo} already has these packages; nothing to do`);
    return { ...reportBase(backend, ctx), changed: false, added: [], upgraded: [], pruned: [], warnings, totals: totalsOf([]) };
  }
  await withStaging(ctx.repo, async (staging) => {
    await placeNewFiles(backend, ctx.repo, plan, staging, warnings);
    await backend.writeMetadata(plan, staging);
    await writeHistory(ctx.repo, staging, ctx.history);
    ctx.progress(`publish: ${await backend.switchMetadata(staging)} switched`);
    await backend.cleanUp(plan);
  });
  return changedReport(backend, ctx, plan, warnings);
}

async function incomingFiles(backend: RepositoryBackend<RepoPackage>, ctx: PublishContext): Promise<string[]> {
  const names = await filesBelow(ctx.packagesDir, (r) => !r.includes(path.sep) && backend.isPackageFile(r));
  if (names.length === 0) throw new InputError(`no ${backend.extension} packages in ${ctx.packagesDir}: build them first (reqset build ${ctx.reqset} --target ${ctx.target.name})`);
  return names.map((name) => path.join(ctx.packagesDir, name));
}

/** The newest version of each name and `keep` older ones, in the package manager's order. */
async function planKept<P extends RepoPackage>(backend: RepositoryBackend<P>, candidates: P[], keep: number, warnings: string[]): Promise<PublishPlan<P>> {
  const groups = [...groupByName(candidates)];
  const orders = await backend.sortVersions(groups.map(([, items]) => items.map((p) => p.versionKey)));
  const plan: PublishPlan<P> = { kept: [], pruned: [], added: [], copied: [], selections: [], rank: new Map(), upgrades: [] };
  groups.forEach(([, items], g) => {
    const rank = ranksOf(orders[g] ?? []);
    const rankOf = (p: P) => rank.get(p.versionKey) ?? 0;
    for (const p of items) plan.rank.set(p, rankOf(p));
    const selection = selectKept(items, rank, keep);
    plan.selections.push(selection);
    plan.kept.push(...selection.newest, ...selection.older);
    for (const p of selection.pruned) {
      if (p.isNew) warnings.push(backend.tooOld(p, keep));
      else plan.pruned.push(p);
    }
    const newestRank = rank.get(selection.newest[0]?.versionKey ?? '') ?? 0;
    const before = items.filter((p) => p.published && rankOf(p) < newestRank).sort((a, b) => rankOf(b) - rankOf(a));
    if (before.length === 0) return;
    for (const newest of selection.newest.filter((p) => !p.published)) plan.upgrades.push({ newest, before });
  });
  plan.added = plan.kept.filter((p) => !p.published);
  plan.copied = plan.kept.filter((p) => p.isNew);
  return plan;
}

/** New packages staged (for the backend to work on), then linked in with the backend's files: new names only, nothing a reader uses changes. */
async function placeNewFiles<P extends RepoPackage>(backend: RepositoryBackend<P>, dir: string, plan: PublishPlan<P>, staging: string, warnings: string[]): Promise<void> {
  for (const p of plan.copied) {
    const staged = path.join(staging, 'new', path.basename(p.href));
    await copyDurable(p.path, staged);
    p.path = staged;
  }
  const more = (await backend.prepare?.(plan, staging, warnings)) ?? [];
  const directories = new Set<string>();
  for (const file of [...plan.copied, ...more]) {
    const dest = path.join(dir, file.href);
    if (file.replace) await replaceFile(file.path, dest);
    else if (!(await linkNew(file.path, dest))) throw new ToolError(`${dest} appeared while publishing: is another tool writing to ${dir}?`);
    file.path = dest;
    directories.add(path.dirname(dest));
  }
  for (const directory of directories) await fsyncPath(directory);
}

function reportBase(backend: RepositoryBackend<RepoPackage>, ctx: PublishContext) {
  return { format: backend.format, reqset: ctx.reqset, target: ctx.target.name, repo: ctx.repo, signed: !!ctx.signing, keep: ctx.keep };
}

function changedReport<P extends RepoPackage>(backend: RepositoryBackend<P>, ctx: PublishContext, plan: PublishPlan<P>, warnings: string[]): PublishReport {
  const upgraded = plan.upgrades.map(
    ({ newest: n, before }): UpgradedPackage => ({
      name: n.name,
      arch: n.arch,
      oldVersions: [...new Set(before.map((b) => backend.version(b)))],
      newVersion: backend.version(n),
      file: n.href,
      fullSize: n.size,
      deltas: backend.deltas?.(n) ?? [],
    }),
  );
  const describe = (p: P): PublishedFile => ({ name: p.name, version: backend.version(p), arch: p.arch, file: p.href, size: p.size });
  return { ...reportBase(backend, ctx), changed: true, added: plan.added.map(describe), upgraded, pruned: plan.pruned.map(describe), warnings, totals: totalsOf(upgraded) };
}
