/**
 * The .deb files of an apt repository and of a build: what a suite's indexes
 * list now, which pool files other suites and components list (the pool is
 * shared, as in Debian's archive), and which incoming packages the suite may
 * take.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { run } from '../run.ts';
import type { RepoPackage } from './backend.ts';
import { digestFile, filesBelow } from './files.ts';
import { debFileName, field, packageStanza, parseStanzas, poolDir, releaseHashes, type Stanza } from './release.ts';

export interface DebFile extends RepoPackage {
  /** The Debian version (what dpkg compares). */
  versionKey: string;
  /** `href` is the Packages `Filename`. */
  sha256: string;
  stanza: Stanza;
}

/** An incoming .deb: its control fields and where the pool puts it. */
export async function describeDeb(file: string, component: string): Promise<DebFile> {
  const result = await run(['dpkg-deb', '-f', file], { allowFailure: true });
  const control = parseStanzas(result.stdout)[0];
  const name = control && field(control, 'Package');
  const version = control && field(control, 'Version');
  const arch = control && field(control, 'Architecture');
  if (result.exitCode !== 0 || !name || !version || !arch) {
    throw new InputError(`${file} is not a readable .deb package: ${result.stderr.trim().split('\n')[0] ?? 'no Package/Version/Architecture'}`);
  }
  const digest = await digestFile(file);
  const href = `${poolDir(component, name)}/${debFileName(name, version, arch)}`;
  const stanza = packageStanza(result.stdout, { filename: href, ...digest });
  return { name, versionKey: version, arch, path: file, href, size: digest.size, sha256: digest.sha256, stanza, isNew: true, published: false };
}

/** What one suite and component of the repository publish now. */
export interface PublishedSuite {
  previousRelease?: string;
  /** The SHA256 section of the suite's Release. */
  previousHashes: Map<string, { sha256: string; size: number }>;
  /** This component's Packages text per architecture. */
  currentIndexes: Map<string, string>;
  /** This component's stanzas by Filename. */
  knownStanzas: Map<string, Stanza>;
  /** Pool files the indexes of other suites or components list: never pruned nor replaced. */
  referencedElsewhere: Set<string>;
}

export async function readSuite(dir: string, suite: string, component: string): Promise<PublishedSuite> {
  const previousRelease = await readFile(path.join(dir, 'dists', suite, 'Release'), 'utf8').catch(() => undefined);
  const published: PublishedSuite = {
    previousRelease,
    previousHashes: previousRelease ? releaseHashes(previousRelease) : new Map(),
    currentIndexes: new Map(),
    knownStanzas: new Map(),
    referencedElsewhere: new Set(),
  };
  const indexFiles = await filesBelow(path.join(dir, 'dists'), (r) => /^[^/]+\/[^/]+\/binary-[^/]+\/Packages$/.test(r.split(path.sep).join('/')));
  for (const rel of indexFiles) {
    const [indexSuite, indexComponent, binary] = rel.split(path.sep);
    const text = await readFile(path.join(dir, 'dists', rel), 'utf8');
    const ours = indexSuite === suite && indexComponent === component;
    if (ours) published.currentIndexes.set((binary ?? '').replace(/^binary-/, ''), text);
    for (const stanza of parseStanzas(text)) {
      const filename = field(stanza, 'Filename');
      if (!filename) continue;
      if (ours) published.knownStanzas.set(filename, stanza);
      else published.referencedElsewhere.add(filename);
    }
  }
  return published;
}

/** The packages the suite's indexes list; those missing from the pool or incompletely described are dropped with a warning. */
export async function existingDebs(dir: string, suite: string, knownStanzas: Map<string, Stanza>, warnings: string[]): Promise<DebFile[]> {
  const existing: DebFile[] = [];
  for (const [href, stanza] of knownStanzas) {
    const file = path.join(dir, href);
    const size = await stat(file).then((i) => i.size, () => undefined);
    const name = field(stanza, 'Package');
    const version = field(stanza, 'Version');
    const arch = field(stanza, 'Architecture');
    const sha256 = field(stanza, 'SHA256');
    if (size === undefined || !name || !version || !arch || !sha256) {
      warnings.push(`${href} is listed in the ${suite} indexes but ${size === undefined ? 'missing from the pool' : 'incompletely described'}: dropped from the indexes`);
      continue;
    }
    existing.push({ name, versionKey: version, arch, path: file, href, size, sha256, stanza, isNew: false, published: true });
  }
  return existing;
}

const identity = (p: { name: string; versionKey: string; arch: string }) => `${p.name} ${p.versionKey} ${p.arch}`;

/**
 * The existing packages and the incoming ones the suite does not list.
 * Incoming packages already published (same name, version, arch) must be
 * the same file; a pool file no index lists is taken as it is when it is the
 * same file, else replaced.
 */
export async function admitIncoming(dir: string, packagesDir: string, incoming: DebFile[], existing: DebFile[], referencedElsewhere: Set<string>): Promise<DebFile[]> {
  const byIdentity = new Map(existing.map((p) => [identity(p), p]));
  const byHref = new Map(existing.map((p) => [p.href, p]));
  const fresh: DebFile[] = [];
  const conflicts: string[] = [];
  const seen = new Set<string>();
  const conflict = (p: DebFile, where: string) =>
    conflicts.push(`${path.basename(p.path)}: ${where} has the same name and version but other content; build with --repo pointing at this repository, so reqset gives changed packages the next revision`);
  for (const p of incoming) {
    if (seen.has(identity(p))) throw new InputError(`${packagesDir} holds ${p.name} ${p.versionKey} (${p.arch}) twice`);
    seen.add(identity(p));
    const published = byIdentity.get(identity(p)) ?? byHref.get(p.href);
    if (published) {
      if (published.sha256 !== p.sha256 || identity(published) !== identity(p)) conflict(p, published.href);
      continue;
    }
    // Not in this suite: the pool may still hold the file, for another suite or left by an interrupted publish.
    const inPool = await digestFile(path.join(dir, p.href)).catch(() => undefined);
    if (inPool?.sha256 === p.sha256) fresh.push({ ...p, path: path.join(dir, p.href), isNew: false });
    else if (inPool && referencedElsewhere.has(p.href)) conflict(p, `${p.href} (published in another suite)`);
    else fresh.push({ ...p, replace: inPool !== undefined });
  }
  if (conflicts.length) throw new InputError(`${conflicts.length} package${conflicts.length > 1 ? 's are' : ' is'} already published in ${dir} with different content`, conflicts);
  return [...existing, ...fresh];
}
