/**
 * Publishing DEBs into an apt repository:
 *
 *   DIR/pool/<component>/<p>/<name>/<name>_<version>_<arch>.deb
 *   DIR/dists/<suite>/Release, Release.gpg, InRelease
 *   DIR/dists/<suite>/<component>/binary-<arch>/Packages, Packages.gz, Packages.xz
 *   DIR/dists/<suite>/<component>/binary-<arch>/by-hash/SHA256/<sha256>
 *
 * `Architecture: all` packages are listed in every binary-<arch> index (what
 * apt expects without a binary-all index). Release says `Acquire-By-Hash:
 * yes`, so apt fetches indexes by content hash: the by-hash files are written
 * before the Release that names them, and those of the previous Release are
 * kept, so a client that read the old Release still finds its indexes. The
 * switch point is InRelease (apt reads it first), renamed last.
 *
 * The pool is shared by every suite and component (as in Debian's archive):
 * a suite's packages are what its own indexes list, pool files another
 * index lists are never pruned, and the Release of a suite lists the indexes
 * of all its components.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError, ToolError } from '../errors.ts';
import { discard, mapLimit, stagingDirFor } from '../fsutil.ts';
import { run } from '../run.ts';
import { copyDurable, digestFile, exists, filesBelow, fsyncPath, linkNew, removeEmptyDirs, removeFile, replaceFile, type FileDigest } from './files.ts';
import { withStaging, writeHistory } from './history.ts';
import { groupByName, ranksOf, selectKept } from './keep.ts';
import { debFileName, debianArch, field, formatStanza, packageStanza, parseStanzas, poolDir, releaseFile, releaseHashes, type IndexFile, type Stanza } from './release.ts';
import { totalsOf, type PublishedFile, type PublishReport, type UpgradedPackage } from './report.ts';
import { checkSigningKey, clearSign, detachSign } from './sign.ts';
import type { PublishContext } from './types.ts';
import { dpkgSort } from './versions.ts';

interface DebFile {
  name: string;
  /** The Debian version (what dpkg compares). */
  versionKey: string;
  arch: string;
  /** Absolute path of the file to read. */
  path: string;
  /** Relative to the repository root once published (the Packages `Filename`). */
  filename: string;
  size: number;
  sha256: string;
  stanza: Stanza;
  /** From the packages directory: to be copied into the pool. */
  isNew: boolean;
  /** Listed by this suite's current indexes. */
  published: boolean;
  /** The pool holds another file under this name that no index lists (left by an interrupted publish): replace it. */
  replace?: boolean;
}

const INDEX_NAMES = ['Packages', 'Packages.gz', 'Packages.xz'];

async function describeDeb(file: string, filename: string | undefined, component: string): Promise<Omit<DebFile, 'isNew' | 'published' | 'path'> & { digest: FileDigest }> {
  const result = await run(['dpkg-deb', '-f', file], { allowFailure: true });
  const control = parseStanzas(result.stdout)[0];
  const name = control && field(control, 'Package');
  const version = control && field(control, 'Version');
  const arch = control && field(control, 'Architecture');
  if (result.exitCode !== 0 || !name || !version || !arch) {
    throw new InputError(`${file} is not a readable .deb package: ${result.stderr.trim().split('\n')[0] ?? 'no Package/Version/Architecture'}`);
  }
  const digest = await digestFile(file);
  const rel = filename ?? `${poolDir(component, name)}/${debFileName(name, version, arch)}`;
  return { name, versionKey: version, arch, filename: rel, size: digest.size, sha256: digest.sha256, stanza: packageStanza(result.stdout, { filename: rel, ...digest }), digest };
}

export async function publishApt(ctx: PublishContext): Promise<PublishReport> {
  const dir = ctx.repo;
  const suite = ctx.suite ?? ctx.target.distribution;
  const component = ctx.component ?? 'main';
  const signing = ctx.sign ? { key: ctx.sign, gpgHome: ctx.gpgHome } : undefined;
  if (signing) await checkSigningKey(signing);
  const incomingFiles = (await filesBelow(ctx.packagesDir, (r) => !r.includes(path.sep) && r.endsWith('.deb'))).map((r) => path.join(ctx.packagesDir, r));
  if (incomingFiles.length === 0) throw new InputError(`no .deb packages in ${ctx.packagesDir}: build them first (reqset build ${ctx.reqset} --target ${ctx.target.name})`);
  const warnings: string[] = [];
  const incoming = await mapLimit(incomingFiles, ctx.jobs, async (file) => ({ ...(await describeDeb(file, undefined, component)), path: file, isNew: true, published: false }));

  // What is published now: this suite's indexes. The pool is shared by every suite and
  // component of the repository: files another index names are never pruned nor replaced.
  const distDir = path.join(dir, 'dists', suite);
  const componentDir = path.join(distDir, component);
  const releasePath = path.join(distDir, 'Release');
  const previousRelease = await readFile(releasePath, 'utf8').catch(() => undefined);
  const previousHashes = previousRelease ? releaseHashes(previousRelease) : new Map<string, { sha256: string; size: number }>();
  const currentIndexes = new Map<string, string>();
  const knownStanzas = new Map<string, Stanza>();
  const referencedElsewhere = new Set<string>();
  const indexFiles = await filesBelow(path.join(dir, 'dists'), (r) => /^[^/]+\/[^/]+\/binary-[^/]+\/Packages$/.test(r.split(path.sep).join('/')));
  for (const rel of indexFiles) {
    const [indexSuite, indexComponent, binary] = rel.split(path.sep);
    const text = await readFile(path.join(dir, 'dists', rel), 'utf8');
    const ours = indexSuite === suite && indexComponent === component;
    if (ours) currentIndexes.set((binary ?? '').replace(/^binary-/, ''), text);
    for (const stanza of parseStanzas(text)) {
      const filename = field(stanza, 'Filename');
      if (!filename) continue;
      if (ours) knownStanzas.set(filename, stanza);
      else referencedElsewhere.add(filename);
    }
  }
  const existing: DebFile[] = [];
  for (const [filename, stanza] of knownStanzas) {
    const file = path.join(dir, filename);
    const size = await stat(file).then((i) => i.size, () => undefined);
    const name = field(stanza, 'Package');
    const version = field(stanza, 'Version');
    const arch = field(stanza, 'Architecture');
    const sha256 = field(stanza, 'SHA256');
    if (size === undefined || !name || !version || !arch || !sha256) {
      warnings.push(`${filename} is listed in the ${suite} indexes but ${size === undefined ? 'missing from the pool' : 'incompletely described'}: dropped from the indexes`);
      continue;
    }
    existing.push({ name, versionKey: version, arch, path: file, filename, size, sha256, stanza, isNew: false, published: true });
  }

  // Incoming packages already published (same name, version, arch) must be the same file.
  const identity = (p: { name: string; versionKey: string; arch: string }) => `${p.name} ${p.versionKey} ${p.arch}`;
  const byIdentity = new Map(existing.map((p) => [identity(p), p]));
  const byFilename = new Map(existing.map((p) => [p.filename, p]));
  const fresh: DebFile[] = [];
  const conflicts: string[] = [];
  const seen = new Set<string>();
  const conflict = (p: DebFile, where: string) =>
    conflicts.push(`${path.basename(p.path)}: ${where} has the same name and version but other content; build with --repo pointing at this repository, so reqset gives changed packages the next revision`);
  for (const p of incoming) {
    if (seen.has(identity(p))) throw new InputError(`${ctx.packagesDir} holds ${p.name} ${p.versionKey} (${p.arch}) twice`);
    seen.add(identity(p));
    const published = byIdentity.get(identity(p)) ?? byFilename.get(p.filename);
    if (published) {
      if (published.sha256 !== p.sha256 || identity(published) !== identity(p)) conflict(p, published.filename);
      continue;
    }
    // Not in this suite: the pool may still hold the file, for another suite or left by an interrupted publish.
    const inPool = await digestFile(path.join(dir, p.filename)).catch(() => undefined);
    if (inPool?.sha256 === p.sha256) fresh.push({ ...p, path: path.join(dir, p.filename), isNew: false });
    else if (inPool && referencedElsewhere.has(p.filename)) conflict(p, `${p.filename} (published in another suite)`);
    else fresh.push({ ...p, replace: inPool !== undefined });
  }
  if (conflicts.length) throw new InputError(`${conflicts.length} package${conflicts.length > 1 ? 's are' : ' is'} already published in ${dir} with different content`, conflicts);

  // Keep the newest version of each package and `keep` older ones, in dpkg's order.
  const kept: DebFile[] = [];
  const pruned: DebFile[] = [];
  const upgraded: UpgradedPackage[] = [];
  const rankOf = new Map<DebFile, number>();
  for (const [name, items] of groupByName([...existing, ...fresh])) {
    const rank = ranksOf(await dpkgSort(items.map((p) => p.versionKey)));
    for (const p of items) rankOf.set(p, rank.get(p.versionKey) ?? 0);
    const selection = selectKept(items, rank, ctx.keep);
    kept.push(...selection.newest, ...selection.older);
    for (const p of selection.pruned) {
      if (p.isNew) warnings.push(`${p.name} ${p.versionKey} (${p.arch}) is older than the ${ctx.keep + 1} newest versions in the repository: not published`);
      else pruned.push(p);
    }
    const newestRank = rank.get(selection.newest[0]?.versionKey ?? '') ?? 0;
    const before = items.filter((p) => p.published && (rank.get(p.versionKey) ?? 0) < newestRank).sort((a, b) => (rank.get(b.versionKey) ?? 0) - (rank.get(a.versionKey) ?? 0));
    for (const n of selection.newest.filter((p) => !p.published)) {
      if (before.length === 0) continue;
      upgraded.push({ name, arch: n.arch, oldVersions: [...new Set(before.map((b) => b.versionKey))], newVersion: n.versionKey, file: n.filename, fullSize: n.size, deltas: [] });
    }
  }
  // New to the indexes: copied in now, or left in the pool by an interrupted publish.
  const added = kept.filter((p) => !p.published);

  // The new indexes, one per architecture; `all` packages go into each.
  const architectures = [...new Set([debianArch(ctx.target.arch), ...kept.map((p) => p.arch).filter((a) => a !== 'all')])].sort();
  const order = (a: DebFile, b: DebFile) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : (rankOf.get(a) ?? 0) - (rankOf.get(b) ?? 0) || (a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
  const indexes = new Map(
    architectures.map((arch) => [arch, kept.filter((p) => p.arch === arch || p.arch === 'all').sort(order).map((p) => formatStanza(p.stanza)).join('\n')]),
  );

  const base = { format: 'deb' as const, reqset: ctx.reqset, target: ctx.target.name, repo: dir, signed: !!signing, keep: ctx.keep };
  const unchanged =
    added.length === 0 &&
    pruned.length === 0 &&
    previousRelease !== undefined &&
    architectures.every((arch) => currentIndexes.get(arch) === indexes.get(arch) && previousHashes.has(`${component}/binary-${arch}/Packages`)) &&
    (!signing || ((await exists(path.join(distDir, 'InRelease'))) && (await exists(path.join(distDir, 'Release.gpg')))));
  if (unchanged) {
    await withStaging(dir, (staging) => writeHistory(dir, staging, ctx.history));
    ctx.progress(`publish: ${dir} already has these packages; nothing to do`);
    return { ...base, changed: false, added: [], upgraded: [], pruned: [], warnings, totals: totalsOf([]) };
  }

  const staging = await stagingDirFor(path.join(dir, 'reqset-staging'));
  try {
    // 1. New packages into the pool (new names only).
    for (const p of kept.filter((k) => k.isNew)) {
      const staged = path.join(staging, 'pool', path.basename(p.filename));
      await copyDurable(p.path, staged);
      const dest = path.join(dir, p.filename);
      if (p.replace) await replaceFile(staged, dest);
      else if (!(await linkNew(staged, dest))) throw new ToolError(`${dest} appeared while publishing: is another tool writing to ${dir}?`);
      await fsyncPath(path.dirname(dest));
    }

    // 2. Indexes: staged, then their by-hash copies (new names, never replaced).
    const files: IndexFile[] = [];
    const staged = new Map<string, string>();
    for (const arch of architectures) {
      const sub = `${component}/binary-${arch}`;
      const work = path.join(staging, 'dists', `binary-${arch}`);
      const plain = path.join(work, 'Packages');
      await writeText(plain, indexes.get(arch) ?? '');
      await writeFile(`${plain}.gz`, gzipSync(await readFile(plain), { level: 9 }));
      await run(['xz', '-9', '-T1', '-k', '-f', plain]);
      for (const name of INDEX_NAMES) {
        const file = path.join(work, name);
        await fsyncPath(file);
        const digest = await digestFile(file);
        files.push({ path: `${sub}/${name}`, ...digest });
        staged.set(`${sub}/${name}`, file);
        await linkNew(file, path.join(distDir, sub, 'by-hash', 'SHA256', digest.sha256));
      }
      await fsyncPath(path.join(distDir, sub, 'by-hash', 'SHA256'));
    }
    // The suite's other components are listed as they are published now.
    const otherComponents = new Set<string>();
    const otherArchitectures = new Set<string>();
    for (const rel of await filesBelow(distDir, (r) => /^[^/]+\/binary-[^/]+\/Packages(\.gz|\.xz)?$/.test(r.split(path.sep).join('/')))) {
      const [other, binary] = rel.split(path.sep);
      if (!other || other === component) continue;
      otherComponents.add(other);
      otherArchitectures.add((binary ?? '').replace(/^binary-/, ''));
      files.push({ path: rel.split(path.sep).join('/'), ...(await digestFile(path.join(distDir, rel))) });
    }
    const release = path.join(staging, 'Release');
    await writeText(
      release,
      releaseFile({
        origin: 'reqset',
        label: 'reqset',
        suite,
        codename: suite,
        date: new Date(),
        architectures: [...new Set([...architectures, ...otherArchitectures])],
        components: [component, ...otherComponents].sort(),
        description: `packages published by reqset`,
        files,
      }),
    );
    if (signing) {
      await detachSign(release, path.join(staging, 'Release.gpg'), signing);
      await clearSign(release, path.join(staging, 'InRelease'), signing);
    }

    // 3. The switch: history, plain index names, then Release, Release.gpg and InRelease last.
    await writeHistory(dir, staging, ctx.history);
    for (const [rel, file] of staged) await replaceFile(file, path.join(distDir, rel));
    if (signing) {
      await replaceFile(release, releasePath);
      await replaceFile(path.join(staging, 'Release.gpg'), path.join(distDir, 'Release.gpg'));
      await replaceFile(path.join(staging, 'InRelease'), path.join(distDir, 'InRelease'));
    } else {
      // An old signature would describe the old Release.
      await removeFile(path.join(distDir, 'InRelease'));
      await removeFile(path.join(distDir, 'Release.gpg'));
      await replaceFile(release, releasePath);
    }
    await fsyncPath(distDir);
    ctx.progress(`publish: ${path.join(distDir, signing ? 'InRelease' : 'Release')} switched`);

    // 4. Clean up: pruned packages, by-hash files named by neither this Release nor the previous one.
    for (const p of pruned) {
      if (referencedElsewhere.has(p.filename)) continue;
      await removeFile(p.path);
      await removeEmptyDirs(path.dirname(p.path), dir);
    }
    const referenced = new Set([...files.map((f) => f.sha256), ...[...previousHashes.values()].map((h) => h.sha256)]);
    for (const byHash of await filesBelow(componentDir, (r) => /^binary-[^/]+\/by-hash\/SHA256\/[0-9a-f]{64}$/.test(r.split(path.sep).join('/')))) {
      if (!referenced.has(path.basename(byHash))) await removeFile(path.join(componentDir, byHash));
    }

    const describe = (p: DebFile): PublishedFile => ({ name: p.name, version: p.versionKey, arch: p.arch, file: p.filename, size: p.size });
    return { ...base, changed: true, added: added.map(describe), upgraded, pruned: pruned.map(describe), warnings, totals: totalsOf(upgraded) };
  } finally {
    await discard(staging);
  }
}

async function writeText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}
