/**
 * Publishing RPMs into a yum/dnf repository:
 *
 *   DIR/Packages/<name>-<version>-<release>.<arch>.rpm
 *   DIR/drpms/<name>-<old V-R>_<new V-R>.<arch>.drpm
 *   DIR/repodata/repomd.xml (+ repomd.xml.asc), <sha256>-primary.xml.gz, …, <sha256>-prestodelta.xml.gz
 *
 * Packages live in `Packages/` (as in Fedora and RHEL trees) so the root only
 * holds the three managed directories; every other *.rpm found below DIR (a
 * repository made by hand before) is adopted as it is.
 *
 * Order of writes, so a reader never sees an index naming a missing file:
 * new packages and verified deltas are linked in under names that never
 * replace a file; createrepo_c and modifyrepo_c write the new repodata in a
 * staging directory; its files (checksummed names) are linked into
 * repodata/; repomd.xml is replaced last by one rename (the switch point:
 * dnf reads it first). Only then are pruned packages, dropped deltas and
 * repodata older than the previous generation removed.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError, ToolError } from '../errors.ts';
import { discard, mapLimit, stagingDirFor } from '../fsutil.ts';
import { run } from '../run.ts';
import { copyDurable, digestFile, exists, filesBelow, fsyncPath, linkNew, removeFile, replaceFile, sameBytes } from './files.ts';
import { withStaging, writeHistory } from './history.ts';
import { groupByName, ranksOf, selectKept } from './keep.ts';
import { drpmFileName, formatEvr, parsePrestodelta, prestodeltaXml, type Evr, type PrestoDelta, type PrestoPackage } from './prestodelta.ts';
import { parsePrimary, parseRepomd, type PrimaryPackage, type RepomdRecord } from './repomd.ts';
import { totalsOf, type DeltaReport, type PublishedFile, type PublishReport, type UpgradedPackage } from './report.ts';
import { checkSigningKey, detachSign, signRpms } from './sign.ts';
import type { PublishContext } from './types.ts';
import { rpmSortGroups } from './versions.ts';

export const PACKAGES_DIR = 'Packages';
export const DRPMS_DIR = 'drpms';
export const REPODATA_DIR = 'repodata';

interface RpmHeader extends Evr {
  name: string;
  arch: string;
  /** SHA256HEADER: the same before and after signing. */
  headerSha256: string;
}

interface RpmFile extends RpmHeader {
  /** `E:V-R` for rpm.vercmp. */
  versionKey: string;
  /** Absolute path of the file to read (the repository's, or the staged copy of a new one). */
  path: string;
  /** Path relative to the repository root once published. */
  href: string;
  size: number;
  /** Known sha256 of the file (from primary.xml when it still describes the file). */
  sha256?: string;
  /** From the packages directory: to be copied in (and signed). */
  isNew: boolean;
  /** Listed by the repository's current metadata (false for new packages and for leftovers of an interrupted publish). */
  published: boolean;
  /** Replaces an unlisted file of the same name. */
  replace?: boolean;
}

const QF = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SHA256HEADER}\\n';

/** Reads NEVRA and header digests, many files per `rpm -qp` call. */
async function readHeaders(files: string[]): Promise<RpmHeader[]> {
  const headers: RpmHeader[] = [];
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    const result = await run(['rpm', '-qp', '--nosignature', '--nodigest', '--qf', QF, ...batch], { allowFailure: true });
    const lines = result.stdout.split('\n').filter(Boolean);
    if (result.exitCode !== 0 || lines.length !== batch.length) {
      // Find which files are not RPMs, to name them.
      const bad: string[] = [];
      for (const file of batch) {
        const one = await run(['rpm', '-qp', '--nosignature', '--nodigest', '--qf', QF, file], { allowFailure: true });
        if (one.exitCode !== 0 || one.stdout.split('\n').filter(Boolean).length !== 1) bad.push(`${file}: ${one.stderr.trim().split('\n')[0] ?? 'unreadable'}`);
      }
      if (bad.length) throw new InputError('not readable as RPM packages', bad);
      throw new ToolError(`rpm -qp printed ${lines.length} lines for ${batch.length} packages`);
    }
    for (const line of lines) {
      const [name, epoch, version, release, arch, headerSha256] = line.split('\t');
      headers.push({ name: name ?? '', epoch: epoch ?? '0', version: version ?? '', release: release ?? '', arch: arch ?? '', headerSha256: headerSha256 ?? '' });
    }
  }
  return headers;
}

const evrKey = (evr: Evr) => `${evr.epoch || '0'}:${evr.version}-${evr.release}`;
const canonicalName = (h: RpmHeader) => `${h.name}-${h.version}-${h.release}.${h.arch}.rpm`;
const nevra = (h: RpmHeader) => `${h.name}-${formatEvr(h)}.${h.arch}`;

async function readMetadataText(file: string): Promise<string> {
  if (file.endsWith('.gz')) return gunzipSync(await readFile(file)).toString('utf8');
  const tools: Record<string, string[]> = { '.xz': ['xz', '-dc'], '.zst': ['zstd', '-dcq'], '.bz2': ['bzip2', '-dc'] };
  const tool = tools[path.extname(file)];
  if (tool) return (await run([...tool, file])).stdout;
  return readFile(file, 'utf8');
}

interface CurrentRepo {
  repomd?: string;
  records: RepomdRecord[];
  primary: PrimaryPackage[];
  presto: PrestoPackage[];
}

async function readCurrent(dir: string): Promise<CurrentRepo> {
  let repomd: string;
  try {
    repomd = await readFile(path.join(dir, REPODATA_DIR, 'repomd.xml'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], primary: [], presto: [] };
    throw error;
  }
  const records = parseRepomd(repomd);
  const read = async (type: string) => {
    const record = records.find((r) => r.type === type);
    if (!record) return undefined;
    try {
      return await readMetadataText(path.join(dir, record.href));
    } catch {
      return undefined; // damaged: regenerated below
    }
  };
  const primary = await read('primary');
  const presto = await read('prestodelta');
  return { repomd, records, primary: primary ? parsePrimary(primary) : [], presto: presto ? parsePrestodelta(presto) : [] };
}

function isManagedRpm(relative: string): boolean {
  if (!relative.endsWith('.rpm') || relative.endsWith('.src.rpm')) return false;
  const parts = relative.split(path.sep);
  if (parts.some((p) => p.startsWith('.'))) return false;
  return parts[0] !== DRPMS_DIR && parts[0] !== REPODATA_DIR;
}

/** Every package the repository directory holds, described by primary.xml where it still matches the file. */
async function existingPackages(dir: string, current: CurrentRepo): Promise<{ packages: RpmFile[]; foreign: string[] }> {
  const byHref = new Map(current.primary.map((p) => [p.href, p]));
  const relatives = await filesBelow(dir, isManagedRpm);
  const foreign = (await filesBelow(dir, (r) => r.endsWith('.src.rpm') && !r.split(path.sep).some((p) => p.startsWith('.')))).map((r) => r.split(path.sep).join('/'));
  const packages: RpmFile[] = [];
  const unknown: { href: string; file: string; size: number }[] = [];
  for (const relative of relatives) {
    const href = relative.split(path.sep).join('/');
    const file = path.join(dir, relative);
    const info = await stat(file);
    const known = byHref.get(href);
    if (known && known.size === info.size && known.fileTime === Math.floor(info.mtimeMs / 1000)) {
      packages.push({ ...known, versionKey: evrKey(known), headerSha256: '', path: file, href, size: info.size, sha256: known.sha256, isNew: false, published: true });
    } else {
      unknown.push({ href, file, size: info.size });
    }
  }
  const headers = await readHeaders(unknown.map((u) => u.file));
  for (const [i, u] of unknown.entries()) {
    const h = headers[i] as RpmHeader;
    // Listed with this checksum (the file was only touched, e.g. copied without its mtime): still published.
    const sha256 = (await digestFile(u.file)).sha256;
    const published = byHref.get(u.href)?.sha256 === sha256;
    packages.push({ ...h, versionKey: evrKey(h), path: u.file, href: u.href, size: u.size, sha256, isNew: false, published });
  }
  return { packages, foreign };
}

export async function publishRpm(ctx: PublishContext): Promise<PublishReport> {
  const dir = ctx.repo;
  const signing = ctx.sign ? { key: ctx.sign, gpgHome: ctx.gpgHome } : undefined;
  if (signing) await checkSigningKey(signing);
  const incomingFiles = (await filesBelow(ctx.packagesDir, (r) => !r.includes(path.sep) && r.endsWith('.rpm') && !r.endsWith('.src.rpm'))).map((r) => path.join(ctx.packagesDir, r));
  if (incomingFiles.length === 0) throw new InputError(`no .rpm packages in ${ctx.packagesDir}: build them first (reqset build ${ctx.reqset} --target ${ctx.target.name})`);
  const incomingHeaders = await readHeaders(incomingFiles);

  const current = await readCurrent(dir);
  const { packages: existing, foreign } = await existingPackages(dir, current);
  const warnings: string[] = [];

  // Incoming packages already in the repository (same NEVRA) must be the same build.
  const existingByNevra = new Map(existing.map((p) => [nevra(p), p]));
  const existingByName = new Map(existing.map((p) => [path.basename(p.href), p]));
  const seen = new Map<string, string>();
  const fresh: RpmFile[] = [];
  const conflicts: { incoming: string; header: RpmHeader; published: RpmFile }[] = [];
  for (const [i, header] of incomingHeaders.entries()) {
    const file = incomingFiles[i] as string;
    const key = nevra(header);
    const other = seen.get(key);
    if (other) throw new InputError(`${ctx.packagesDir} holds ${key} twice: ${path.basename(other)} and ${path.basename(file)}`);
    seen.set(key, file);
    const published = existingByNevra.get(key) ?? existingByName.get(canonicalName(header));
    if (published) {
      conflicts.push({ incoming: file, header, published });
      continue;
    }
    const info = await stat(file);
    fresh.push({ ...header, versionKey: evrKey(header), path: file, href: `${PACKAGES_DIR}/${canonicalName(header)}`, size: info.size, isNew: true, published: false });
  }
  const replaced = new Set<RpmFile>();
  if (conflicts.length) {
    const publishedHeaders = await readHeaders(conflicts.map((c) => c.published.path));
    const differing = conflicts.filter((c, i) => nevra(c.header) !== nevra(publishedHeaders[i] as RpmHeader) || c.header.headerSha256 !== publishedHeaders[i]?.headerSha256);
    const listed = differing.filter((c) => c.published.published);
    if (listed.length) {
      throw new InputError(
        `${listed.length} package${listed.length > 1 ? 's are' : ' is'} already published in ${dir} with different content`,
        listed.map((c) => `${path.basename(c.incoming)}: ${c.published.href} has the same name and version but another header; build with --repo pointing at this repository, so reqset gives changed packages the next release`),
      );
    }
    // A file no metadata lists (left by an interrupted publish of another build): replaced.
    for (const c of differing) {
      replaced.add(c.published);
      const info = await stat(c.incoming);
      fresh.push({ ...c.header, versionKey: evrKey(c.header), path: c.incoming, href: c.published.href, size: info.size, isNew: true, published: false, replace: true });
    }
  }

  // Keep the newest version of each name and `keep` older ones, in rpm's order.
  const all = [...existing.filter((p) => !replaced.has(p)), ...fresh];
  const groups = [...groupByName(all)];
  const orders = await rpmSortGroups(groups.map(([, items]) => items.map((p) => p.versionKey)));
  const kept: RpmFile[] = [];
  const pruned: RpmFile[] = [];
  const pairs: { old: RpmFile; new: RpmFile }[] = [];
  const upgradedGroups: { newest: RpmFile[]; before: RpmFile[]; name: string }[] = [];
  groups.forEach(([name, items], g) => {
    const rank = ranksOf(orders[g] ?? []);
    const selection = selectKept(items, rank, ctx.keep);
    kept.push(...selection.newest, ...selection.older);
    for (const p of selection.pruned) {
      if (p.isNew) warnings.push(`${nevra(p)} is older than the ${ctx.keep + 1} newest versions of ${name} in the repository: not published`);
      else pruned.push(p);
    }
    for (const n of selection.newest) {
      for (const o of selection.older) if (o.arch === n.arch) pairs.push({ old: o, new: n });
    }
    if (selection.newest.some((n) => !n.published)) {
      const newestRank = rank.get(selection.newest[0]?.versionKey ?? '') ?? 0;
      const before = items.filter((p) => p.published && (rank.get(p.versionKey) ?? 0) < newestRank).sort((a, b) => (rank.get(b.versionKey) ?? 0) - (rank.get(a.versionKey) ?? 0));
      if (before.length) upgradedGroups.push({ name, newest: selection.newest.filter((n) => !n.published), before });
    }
  });
  // New to the repository's metadata: copied in now, or left on disk by an interrupted publish.
  const added = kept.filter((p) => !p.published);
  const copied = kept.filter((p) => p.isNew);

  if (signing) {
    // Packages published earlier without --sign stay as they are (re-signing would change published files).
    const earlier = kept.filter((p) => !p.isNew);
    const unsigned: string[] = [];
    for (let i = 0; i < earlier.length; i += 200) {
      const batch = earlier.slice(i, i + 200);
      const { stdout } = await run(['rpm', '-qp', '--nosignature', '--nodigest', '--qf', '%|RSAHEADER?{signed}:{%|DSAHEADER?{signed}:{unsigned}|}|\\n', ...batch.map((p) => p.path)]);
      stdout.split('\n').forEach((state, k) => {
        if (state === 'unsigned' && batch[k]) unsigned.push(path.basename(batch[k].href));
      });
    }
    if (unsigned.length) warnings.push(`${unsigned.length} package${unsigned.length > 1 ? 's' : ''} already in the repository ${unsigned.length > 1 ? 'are' : 'is'} not signed (published without --sign): ${unsigned.join(', ')}`);
  }

  // Unchanged: the metadata already lists exactly the kept packages (and is signed if asked).
  const metadataSet = new Map(current.primary.map((p) => [p.href, p.sha256]));
  const keptUnchanged =
    added.length === 0 &&
    pruned.length === 0 &&
    current.repomd !== undefined &&
    metadataSet.size === kept.length + foreign.length &&
    kept.every((p) => p.sha256 !== undefined && metadataSet.get(p.href) === p.sha256) &&
    foreign.every((f) => metadataSet.has(f)) &&
    (!signing || (await exists(path.join(dir, REPODATA_DIR, 'repomd.xml.asc'))));
  const base = {
    format: 'rpm' as const,
    reqset: ctx.reqset,
    target: ctx.target.name,
    repo: dir,
    signed: !!signing,
    keep: ctx.keep,
  };
  if (keptUnchanged) {
    await withStaging(dir, (staging) => writeHistory(dir, staging, ctx.history));
    ctx.progress(`publish: ${dir} already has these packages; nothing to do`);
    return { ...base, changed: false, added: [], upgraded: [], pruned: [], warnings, totals: totalsOf([]) };
  }

  const staging = await stagingDirFor(path.join(dir, 'reqset-staging'));
  try {
    // 1. New packages: staged copies, signed there.
    for (const p of copied) {
      const staged = path.join(staging, 'new', path.basename(p.href));
      await copyDurable(p.path, staged);
      p.path = staged;
    }
    if (signing && copied.length) {
      ctx.progress(`publish: signing ${copied.length} package${copied.length > 1 ? 's' : ''} with ${signing.key}`);
      await signRpms(copied.map((p) => p.path), signing);
      for (const p of copied) await fsyncPath(p.path);
    }
    for (const p of copied) p.size = (await stat(p.path)).size;

    // 2. Deltas from each kept older version to the newest: reused if published before, else made and verified.
    const publishedDeltas = new Map<string, PrestoDelta>();
    for (const pkg of current.presto) {
      for (const delta of pkg.deltas) publishedDeltas.set(`${pkg.name}.${pkg.arch}:${evrKey(delta.old)}>${evrKey(pkg)}`, delta);
    }
    const made = await mapLimit(pairs, ctx.jobs, async (pair) => {
      const key = `${pair.new.name}.${pair.new.arch}:${pair.old.versionKey}>${pair.new.versionKey}`;
      const filename = `${DRPMS_DIR}/${drpmFileName(pair.new.name, pair.new.arch, pair.old, pair.new)}`;
      const previous = publishedDeltas.get(key);
      if (previous && pair.new.published && previous.filename === filename) {
        const info = await stat(path.join(dir, filename)).catch(() => undefined);
        if (info?.size === previous.size) return { pair, delta: previous, created: false };
      }
      return makeDelta(ctx, staging, pair, filename, warnings);
    });
    const deltas = made.filter((m): m is NonNullable<typeof m> => m !== undefined);

    // 3. Packages and deltas into place (new names only: nothing a reader uses changes).
    for (const p of copied) {
      const dest = path.join(dir, p.href);
      if (p.replace) await replaceFile(p.path, dest);
      else if (!(await linkNew(p.path, dest))) throw new ToolError(`${dest} appeared while publishing: is another tool writing to ${dir}?`);
      p.path = dest;
    }
    for (const d of deltas.filter((d) => d.created)) await replaceFile(path.join(staging, d.delta.filename), path.join(dir, d.delta.filename));
    for (const sub of [PACKAGES_DIR, DRPMS_DIR]) if (await exists(path.join(dir, sub))) await fsyncPath(path.join(dir, sub));

    // 4. New repodata in the staging directory.
    const pkglist = path.join(staging, 'pkglist');
    await writeLines(pkglist, [...kept.map((p) => p.href), ...foreign].sort());
    ctx.progress(`publish: createrepo_c (${kept.length + foreign.length} packages)`);
    await run(['createrepo_c', '--quiet', '--update', '--update-md-path', dir, '--outputdir', staging, '--pkglist', pkglist, '--no-database', dir], { timeoutMs: 60 * 60_000 });
    const stagedRepodata = path.join(staging, REPODATA_DIR);
    const presto = prestoPackages(deltas.map((d) => ({ new: d.pair.new, delta: d.delta })));
    if (presto.length) {
      const xml = path.join(staging, 'prestodelta.xml');
      await writeLines(xml, [prestodeltaXml(presto).trimEnd()]);
      await run(['modifyrepo_c', '--mdtype', 'prestodelta', '--compress-type', 'gz', xml, stagedRepodata]);
    }
    if (signing) await detachSign(path.join(stagedRepodata, 'repomd.xml'), path.join(stagedRepodata, 'repomd.xml.asc'), signing);

    // 5. The switch: history, data files (checksummed names), repomd.xml last.
    await writeHistory(dir, staging, ctx.history);
    const repodata = path.join(dir, REPODATA_DIR);
    const staged = await filesBelow(stagedRepodata, (r) => !r.includes(path.sep));
    for (const name of staged.filter((n) => n !== 'repomd.xml' && n !== 'repomd.xml.asc')) {
      await fsyncPath(path.join(stagedRepodata, name));
      await linkNew(path.join(stagedRepodata, name), path.join(repodata, name));
    }
    await fsyncPath(repodata);
    if (signing) await replaceFile(path.join(stagedRepodata, 'repomd.xml.asc'), path.join(repodata, 'repomd.xml.asc'));
    await replaceFile(path.join(stagedRepodata, 'repomd.xml'), path.join(repodata, 'repomd.xml'));
    if (!signing) await removeFile(path.join(repodata, 'repomd.xml.asc'));
    await fsyncPath(repodata);
    ctx.progress(`publish: ${dir}/repodata/repomd.xml switched`);

    // 6. Clean up: pruned packages, deltas no longer listed, repodata of generations before the previous one.
    for (const p of pruned) await removeFile(p.path);
    const listed = new Set(deltas.map((d) => path.basename(d.delta.filename)));
    for (const name of await filesBelow(path.join(dir, DRPMS_DIR), (r) => !r.includes(path.sep))) {
      if (!listed.has(name)) await removeFile(path.join(dir, DRPMS_DIR, name));
    }
    const newRecords = parseRepomd(await readFile(path.join(repodata, 'repomd.xml'), 'utf8'));
    const keepNames = new Set(['repomd.xml', 'repomd.xml.asc', ...[...newRecords, ...current.records].map((r) => path.posix.basename(r.href))]);
    for (const name of await filesBelow(repodata, (r) => !r.includes(path.sep))) {
      if (!keepNames.has(name)) await removeFile(path.join(repodata, name));
    }

    // 7. Report.
    const deltasByNew = new Map<RpmFile, DeltaReport[]>();
    for (const d of deltas) {
      const list = deltasByNew.get(d.pair.new) ?? [];
      list.push({ fromVersion: formatEvr(d.pair.old), file: d.delta.filename, size: d.delta.size, ratio: d.delta.size / d.pair.new.size, created: d.created });
      deltasByNew.set(d.pair.new, list);
    }
    const upgraded: UpgradedPackage[] = [];
    for (const group of upgradedGroups) {
      for (const n of group.newest) {
        upgraded.push({
          name: n.name,
          arch: n.arch,
          oldVersions: [...new Set(group.before.map((b) => formatEvr(b)))],
          newVersion: formatEvr(n),
          file: n.href,
          fullSize: n.size,
          deltas: deltasByNew.get(n) ?? [],
        });
      }
    }
    const describe = (p: RpmFile): PublishedFile => ({ name: p.name, version: formatEvr(p), arch: p.arch, file: p.href, size: p.size });
    return { ...base, changed: true, added: added.map(describe), upgraded, pruned: pruned.map(describe), warnings, totals: totalsOf(upgraded) };
  } finally {
    await discard(staging);
  }
}

async function writeLines(file: string, lines: string[]): Promise<void> {
  await writeFile(file, lines.length ? `${lines.join('\n')}\n` : '');
}

function prestoPackages(entries: { new: RpmFile; delta: PrestoDelta }[]): PrestoPackage[] {
  const byNew = new Map<RpmFile, PrestoPackage>();
  for (const entry of entries) {
    let pkg = byNew.get(entry.new);
    if (!pkg) {
      const n = entry.new;
      pkg = { name: n.name, epoch: n.epoch || '0', version: n.version, release: n.release, arch: n.arch, deltas: [] };
      byNew.set(entry.new, pkg);
    }
    pkg.deltas.push(entry.delta);
  }
  return [...byNew.values()];
}

/**
 * makedeltarpm old new, then applydeltarpm -r old on the result must give
 * the new RPM byte for byte; otherwise (or when the delta is not smaller
 * than the package) the delta is dropped with a warning.
 */
async function makeDelta(
  ctx: PublishContext,
  staging: string,
  pair: { old: RpmFile; new: RpmFile },
  filename: string,
  warnings: string[],
): Promise<{ pair: typeof pair; delta: PrestoDelta; created: boolean } | undefined> {
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
