/**
 * The yum/dnf repository backend:
 *
 *   DIR/Packages/<name>-<version>-<release>.<arch>.rpm
 *   DIR/drpms/<name>-<old V-R>_<new V-R>.<arch>.drpm
 *   DIR/repodata/repomd.xml (+ repomd.xml.asc), <sha256>-primary.xml.gz, …, <sha256>-prestodelta.xml.gz
 *
 * Packages live in `Packages/` (as in Fedora and RHEL trees) so the root only
 * holds the three managed directories; every other *.rpm found below DIR (a
 * repository made by hand before) is adopted as it is.
 *
 * New packages are signed in staging, and the deltas made from the signed
 * files; createrepo_c and modifyrepo_c write the new repodata in staging; its
 * files (checksummed names) are linked into repodata/; repomd.xml is
 * replaced last by one rename (the switch point: dnf reads it first). Only
 * then are pruned packages, dropped deltas and repodata older than the
 * previous generation removed.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../run.ts';
import type { PublishPlan, RepositoryBackend, StagedFile } from './backend.ts';
import { exists, filesBelow, fsyncPath, linkNew, removeFile, replaceFile } from './files.ts';
import { formatEvr, prestodeltaXml } from './prestodelta.ts';
import type { DeltaReport } from './report.ts';
import { parseRepomd } from './repomd.ts';
import { deltasFor, prestoPackages, type DeltaPair, type MadeDelta } from './rpm-deltas.ts';
import { admitIncoming, existingPackages, nevra, readCurrent, readHeaders, DRPMS_DIR, REPODATA_DIR, type CurrentRepo, type RpmFile } from './rpm-packages.ts';
import { detachSign, signRpms } from './sign.ts';
import type { PublishContext } from './types.ts';
import { rpmSortGroups } from './versions.ts';

type Plan = PublishPlan<RpmFile>;

export class RpmRepository implements RepositoryBackend<RpmFile> {
  readonly format = 'rpm';
  readonly extension = '.rpm';
  private current: CurrentRepo = { records: [], primary: [], presto: [] };
  /** Source RPMs below the repository: listed as they are, never managed. */
  private foreign: string[] = [];
  private made: MadeDelta[] = [];

  constructor(private readonly ctx: PublishContext) {}

  isPackageFile(name: string): boolean {
    return name.endsWith('.rpm') && !name.endsWith('.src.rpm');
  }

  async candidates(files: string[]): Promise<RpmFile[]> {
    const headers = await readHeaders(files);
    this.current = await readCurrent(this.ctx.repo);
    const existing = await existingPackages(this.ctx.repo, this.current);
    this.foreign = existing.foreign;
    return admitIncoming(this.ctx.repo, this.ctx.packagesDir, { files, headers }, existing.packages);
  }

  sortVersions(groups: string[][]): Promise<string[][][]> {
    return rpmSortGroups(groups);
  }

  version(p: RpmFile): string {
    return formatEvr(p);
  }

  tooOld(p: RpmFile, keep: number): string {
    return `${nevra(p)} is older than the ${keep + 1} newest versions of ${p.name} in the repository: not published`;
  }

  /** Packages published earlier without --sign stay as they are (re-signing would change published files): said when signing. */
  async keptWarnings(plan: Plan): Promise<string[]> {
    if (!this.ctx.signing) return [];
    const earlier = plan.kept.filter((p) => !p.isNew);
    const unsigned: string[] = [];
    for (let i = 0; i < earlier.length; i += 200) {
      const batch = earlier.slice(i, i + 200);
      const { stdout } = await run(['rpm', '-qp', '--nosignature', '--nodigest', '--qf', '%|RSAHEADER?{signed}:{%|DSAHEADER?{signed}:{unsigned}|}|\\n', ...batch.map((p) => p.path)]);
      stdout.split('\n').forEach((state, k) => {
        if (state === 'unsigned' && batch[k]) unsigned.push(path.basename(batch[k].href));
      });
    }
    if (unsigned.length === 0) return [];
    return [`${unsigned.length} package${unsigned.length > 1 ? 's' : ''} already in the repository ${unsigned.length > 1 ? 'are' : 'is'} not signed (published without --sign): ${unsigned.join(', ')}`];
  }

  /** primary.xml lists exactly the kept packages (and repomd.xml is signed if asked). */
  async metadataCurrent(plan: Plan): Promise<boolean> {
    const listed = new Map(this.current.primary.map((p) => [p.href, p.sha256]));
    return (
      this.current.repomd !== undefined &&
      listed.size === plan.kept.length + this.foreign.length &&
      plan.kept.every((p) => p.sha256 !== undefined && listed.get(p.href) === p.sha256) &&
      this.foreign.every((f) => listed.has(f)) &&
      (!this.ctx.signing || (await exists(path.join(this.ctx.repo, REPODATA_DIR, 'repomd.xml.asc'))))
    );
  }

  /** Signs the staged new packages, then makes the deltas from each kept older version to the newest. */
  async prepare(plan: Plan, staging: string, warnings: string[]): Promise<StagedFile[]> {
    const { signing } = this.ctx;
    if (signing && plan.copied.length) {
      this.ctx.progress(`publish: signing ${plan.copied.length} package${plan.copied.length > 1 ? 's' : ''} with ${signing.key}`);
      await signRpms(plan.copied.map((p) => p.path), signing);
      for (const p of plan.copied) await fsyncPath(p.path);
    }
    for (const p of plan.copied) p.size = (await stat(p.path)).size;
    const pairs: DeltaPair[] = [];
    for (const selection of plan.selections) {
      for (const n of selection.newest) {
        for (const o of selection.older) if (o.arch === n.arch) pairs.push({ old: o, new: n });
      }
    }
    this.made = await deltasFor(this.ctx, staging, pairs, this.current.presto, warnings);
    return this.made.filter((d) => d.created).map((d) => ({ path: path.join(staging, d.delta.filename), href: d.delta.filename, replace: true }));
  }

  async writeMetadata(plan: Plan, staging: string): Promise<void> {
    const pkglist = path.join(staging, 'pkglist');
    await writeLines(pkglist, [...plan.kept.map((p) => p.href), ...this.foreign].sort());
    this.ctx.progress(`publish: createrepo_c (${plan.kept.length + this.foreign.length} packages)`);
    const dir = this.ctx.repo;
    await run(['createrepo_c', '--quiet', '--update', '--update-md-path', dir, '--outputdir', staging, '--pkglist', pkglist, '--no-database', dir], { timeoutMs: 60 * 60_000 });
    const stagedRepodata = path.join(staging, REPODATA_DIR);
    const presto = prestoPackages(this.made);
    if (presto.length) {
      const xml = path.join(staging, 'prestodelta.xml');
      await writeLines(xml, [prestodeltaXml(presto).trimEnd()]);
      await run(['modifyrepo_c', '--mdtype', 'prestodelta', '--compress-type', 'gz', xml, stagedRepodata]);
    }
    if (this.ctx.signing) await detachSign(path.join(stagedRepodata, 'repomd.xml'), path.join(stagedRepodata, 'repomd.xml.asc'), this.ctx.signing);
  }

  /** Data files (checksummed names) first, repomd.xml last. */
  async switchMetadata(staging: string): Promise<string> {
    const stagedRepodata = path.join(staging, REPODATA_DIR);
    const repodata = path.join(this.ctx.repo, REPODATA_DIR);
    const staged = await filesBelow(stagedRepodata, (r) => !r.includes(path.sep));
    for (const name of staged.filter((n) => n !== 'repomd.xml' && n !== 'repomd.xml.asc')) {
      await fsyncPath(path.join(stagedRepodata, name));
      await linkNew(path.join(stagedRepodata, name), path.join(repodata, name));
    }
    await fsyncPath(repodata);
    if (this.ctx.signing) await replaceFile(path.join(stagedRepodata, 'repomd.xml.asc'), path.join(repodata, 'repomd.xml.asc'));
    await replaceFile(path.join(stagedRepodata, 'repomd.xml'), path.join(repodata, 'repomd.xml'));
    if (!this.ctx.signing) await removeFile(path.join(repodata, 'repomd.xml.asc'));
    await fsyncPath(repodata);
    return `${this.ctx.repo}/${REPODATA_DIR}/repomd.xml`;
  }

  /** Pruned packages, deltas no longer listed, repodata of generations before the previous one. */
  async cleanUp(plan: Plan): Promise<void> {
    const dir = this.ctx.repo;
    for (const p of plan.pruned) await removeFile(p.path);
    const listed = new Set(this.made.map((d) => path.basename(d.delta.filename)));
    for (const name of await filesBelow(path.join(dir, DRPMS_DIR), (r) => !r.includes(path.sep))) {
      if (!listed.has(name)) await removeFile(path.join(dir, DRPMS_DIR, name));
    }
    const repodata = path.join(dir, REPODATA_DIR);
    const newRecords = parseRepomd(await readFile(path.join(repodata, 'repomd.xml'), 'utf8'));
    const keepNames = new Set(['repomd.xml', 'repomd.xml.asc', ...[...newRecords, ...this.current.records].map((r) => path.posix.basename(r.href))]);
    for (const name of await filesBelow(repodata, (r) => !r.includes(path.sep))) {
      if (!keepNames.has(name)) await removeFile(path.join(repodata, name));
    }
  }

  deltas(p: RpmFile): DeltaReport[] {
    return this.made
      .filter((d) => d.pair.new === p)
      .map((d) => ({ fromVersion: formatEvr(d.pair.old), file: d.delta.filename, size: d.delta.size, ratio: d.delta.size / d.pair.new.size, created: d.created }));
  }
}

async function writeLines(file: string, lines: string[]): Promise<void> {
  await writeFile(file, lines.length ? `${lines.join('\n')}\n` : '');
}
