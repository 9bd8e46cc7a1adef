/**
 * The apt repository backend:
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
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { mapLimit, sha256 } from '../fsutil.ts';
import { run } from '../run.ts';
import { admitIncoming, describeDeb, existingDebs, readSuite, type DebFile, type PublishedSuite } from './apt-packages.ts';
import type { PublishPlan, RepositoryBackend } from './backend.ts';
import { digestFile, exists, filesBelow, fsyncPath, linkNew, removeEmptyDirs, removeFile, replaceFile } from './files.ts';
import { debianArch, formatStanza, releaseFile, type IndexFile } from './release.ts';
import { clearSign, detachSign } from './sign.ts';
import type { PublishContext } from './types.ts';
import { dpkgSort } from './versions.ts';

type Plan = PublishPlan<DebFile>;

const INDEX_NAMES = ['Packages', 'Packages.gz', 'Packages.xz'];

export class AptRepository implements RepositoryBackend<DebFile> {
  readonly format = 'deb';
  readonly extension = '.deb';
  private readonly suite: string;
  private readonly component: string;
  private readonly distDir: string;
  private published: PublishedSuite = { previousHashes: new Map(), currentIndexes: new Map(), knownStanzas: new Map(), referencedElsewhere: new Set() };
  /** What the new Release lists. */
  private files: IndexFile[] = [];
  /** The staged plain indexes, by path relative to the suite's directory. */
  private stagedIndexes = new Map<string, string>();

  constructor(private readonly ctx: PublishContext) {
    this.suite = ctx.suite ?? ctx.target.distribution;
    this.component = ctx.component ?? 'main';
    this.distDir = path.join(ctx.repo, 'dists', this.suite);
  }

  isPackageFile(name: string): boolean {
    return name.endsWith('.deb');
  }

  async candidates(files: string[], warnings: string[]): Promise<DebFile[]> {
    const incoming = await mapLimit(files, this.ctx.jobs, (file) => describeDeb(file, this.component));
    this.published = await readSuite(this.ctx.repo, this.suite, this.component);
    const existing = await existingDebs(this.ctx.repo, this.suite, this.published.knownStanzas, warnings);
    return admitIncoming(this.ctx.repo, this.ctx.packagesDir, incoming, existing, this.published.referencedElsewhere);
  }

  async sortVersions(groups: string[][]): Promise<string[][][]> {
    const sorted: string[][][] = [];
    for (const versions of groups) sorted.push(await dpkgSort(versions));
    return sorted;
  }

  version(p: DebFile): string {
    return p.versionKey;
  }

  tooOld(p: DebFile, keep: number): string {
    return `${p.name} ${p.versionKey} (${p.arch}) is older than the ${keep + 1} newest versions in the repository: not published`;
  }

  /**
   * The suite's indexes already hold exactly these stanzas, the Release lists
   * those very indexes (a publish killed between replacing the Packages files
   * and Release left them apart) and they are signed if asked.
   */
  async metadataCurrent(plan: Plan): Promise<boolean> {
    const { previousRelease, currentIndexes, previousHashes } = this.published;
    const indexes = this.indexes(plan);
    const listed = (arch: string, text: string) => previousHashes.get(`${this.component}/binary-${arch}/Packages`)?.sha256 === sha256(text);
    return (
      previousRelease !== undefined &&
      [...indexes].every(([arch, text]) => currentIndexes.get(arch) === text && listed(arch, text)) &&
      (!this.ctx.signing || ((await exists(path.join(this.distDir, 'InRelease'))) && (await exists(path.join(this.distDir, 'Release.gpg')))))
    );
  }

  /** The Packages text per architecture (the target's and the kept packages'), `all` packages in each. */
  private indexes(plan: Plan): Map<string, string> {
    const architectures = [...new Set([debianArch(this.ctx.target.arch), ...plan.kept.map((p) => p.arch).filter((a) => a !== 'all')])].sort();
    const rankOf = (p: DebFile) => plan.rank.get(p) ?? 0;
    const order = (a: DebFile, b: DebFile) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : rankOf(a) - rankOf(b) || (a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
    return new Map(architectures.map((arch) => [arch, plan.kept.filter((p) => p.arch === arch || p.arch === 'all').sort(order).map((p) => formatStanza(p.stanza)).join('\n')]));
  }

  /** Indexes staged with their by-hash copies (new names, never replaced), then Release listing them and the suite's other components. */
  async writeMetadata(plan: Plan, staging: string): Promise<void> {
    const indexes = this.indexes(plan);
    for (const [arch, text] of indexes) {
      const sub = `${this.component}/binary-${arch}`;
      const work = path.join(staging, 'dists', `binary-${arch}`);
      const plain = path.join(work, 'Packages');
      await writeText(plain, text);
      await writeFile(`${plain}.gz`, gzipSync(await readFile(plain), { level: 9 }));
      await run(['xz', '-9', '-T1', '-k', '-f', plain]);
      for (const name of INDEX_NAMES) {
        const file = path.join(work, name);
        await fsyncPath(file);
        const digest = await digestFile(file);
        this.files.push({ path: `${sub}/${name}`, ...digest });
        this.stagedIndexes.set(`${sub}/${name}`, file);
        await linkNew(file, path.join(this.distDir, sub, 'by-hash', 'SHA256', digest.sha256));
      }
      await fsyncPath(path.join(this.distDir, sub, 'by-hash', 'SHA256'));
    }
    const others = await this.otherComponents();
    const release = path.join(staging, 'Release');
    await writeText(
      release,
      releaseFile({
        origin: 'reqset',
        label: 'reqset',
        suite: this.suite,
        codename: this.suite,
        date: new Date(),
        architectures: [...new Set([...indexes.keys(), ...others.architectures])],
        components: [this.component, ...others.components].sort(),
        description: `packages published by reqset`,
        files: this.files,
      }),
    );
    if (this.ctx.signing) {
      await detachSign(release, path.join(staging, 'Release.gpg'), this.ctx.signing);
      await clearSign(release, path.join(staging, 'InRelease'), this.ctx.signing);
    }
  }

  /** The suite's other components, listed in Release as they are published now (their indexes added to `files`). */
  private async otherComponents(): Promise<{ components: Set<string>; architectures: Set<string> }> {
    const components = new Set<string>();
    const architectures = new Set<string>();
    for (const rel of await filesBelow(this.distDir, (r) => /^[^/]+\/binary-[^/]+\/Packages(\.gz|\.xz)?$/.test(r.split(path.sep).join('/')))) {
      const [other, binary] = rel.split(path.sep);
      if (!other || other === this.component) continue;
      components.add(other);
      architectures.add((binary ?? '').replace(/^binary-/, ''));
      this.files.push({ path: rel.split(path.sep).join('/'), ...(await digestFile(path.join(this.distDir, rel))) });
    }
    return { components, architectures };
  }

  /** Plain index names, then Release, Release.gpg and InRelease last. */
  async switchMetadata(staging: string): Promise<string> {
    const { distDir, ctx } = this;
    for (const [rel, file] of this.stagedIndexes) await replaceFile(file, path.join(distDir, rel));
    const release = path.join(staging, 'Release');
    if (ctx.signing) {
      await replaceFile(release, path.join(distDir, 'Release'));
      await replaceFile(path.join(staging, 'Release.gpg'), path.join(distDir, 'Release.gpg'));
      await replaceFile(path.join(staging, 'InRelease'), path.join(distDir, 'InRelease'));
    } else {
      // An old signature would describe the old Release.
      await removeFile(path.join(distDir, 'InRelease'));
      await removeFile(path.join(distDir, 'Release.gpg'));
      await replaceFile(release, path.join(distDir, 'Release'));
    }
    await fsyncPath(distDir);
    return path.join(distDir, ctx.signing ? 'InRelease' : 'Release');
  }

  /** Pruned packages no other index lists, by-hash files named by neither this Release nor the previous one. */
  async cleanUp(plan: Plan): Promise<void> {
    const { previousHashes, referencedElsewhere } = this.published;
    for (const p of plan.pruned) {
      if (referencedElsewhere.has(p.href)) continue;
      await removeFile(p.path);
      await removeEmptyDirs(path.dirname(p.path), this.ctx.repo);
    }
    const componentDir = path.join(this.distDir, this.component);
    const referenced = new Set([...this.files.map((f) => f.sha256), ...[...previousHashes.values()].map((h) => h.sha256)]);
    for (const byHash of await filesBelow(componentDir, (r) => /^binary-[^/]+\/by-hash\/SHA256\/[0-9a-f]{64}$/.test(r.split(path.sep).join('/')))) {
      if (!referenced.has(path.basename(byHash))) await removeFile(path.join(componentDir, byHash));
    }
  }
}

async function writeText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}
