/**
 * The repository's reqset history (src/packagers/history.ts): every package a
 * publish makes public is added with the inputs its build recorded in
 * manifest.json, and the file is replaced just before the repository
 * metadata switch. If a publish dies in between, the history names packages
 * that no client saw, which only makes later builds skip those versions;
 * the other order could hand out one version twice with different content.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { diffRevision, type RevisionDiff } from '../packagers/diff.ts';
import { emptyHistory, HISTORY_FILE, historyText, latestRevision, parseHistory, recordPublished, type History } from '../packagers/history.ts';
import type { BuiltPackage } from '../packagers/build.ts';
import { wheelPackageName } from '../packagers/plan.ts';
import { discard, stagingDirFor } from '../fsutil.ts';
import { replaceFile } from './files.ts';

/** The built packages of a build's manifest.json, as publish reads them. */
/** What publish reads of each package in manifest.json: what build wrote (BuiltPackage). */
type ManifestPackage = Pick<BuiltPackage, 'name' | 'file' | 'pep440' | 'epoch' | 'release' | 'arch' | 'sha256' | 'inputs' | 'sources' | 'reason'>;

interface ManifestPackages {
  runtime: ManifestPackage;
  pinsPackage: ManifestPackage;
  endpoints: { package: ManifestPackage }[];
  pins: { version: string; package: ManifestPackage }[];
}

interface BuiltRevision {
  packages: ManifestPackage[];
  pins: { key: string; version: string }[];
}

async function readManifest(packagesDir: string, reqset: string): Promise<BuiltRevision> {
  const file = path.join(path.dirname(packagesDir), 'manifest.json');
  let manifest: ManifestPackages;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as ManifestPackages;
  } catch (error) {
    throw new InputError(`cannot read ${file} (${(error as Error).message}): publish what reqset build wrote, whole`);
  }
  const all = [manifest.runtime, manifest.pinsPackage, ...(manifest.endpoints ?? []).map((e) => e.package), ...(manifest.pins ?? []).map((p) => p.package)];
  if (all.some((p) => !p || typeof p.inputs !== 'string' || typeof p.pep440 !== 'string')) {
    throw new InputError(`${file} was written by an older reqset: build again before publishing`);
  }
  const prefix = wheelPackageName(reqset, '');
  return { packages: all, pins: manifest.pins.map((p) => ({ key: p.package.name.slice(prefix.length), version: p.version })) };
}

export interface HistoryUpdate {
  next: History;
  changed: boolean;
  /** This build against the reqset's last published revision. */
  revision: RevisionDiff;
}

/** The repository's history with this build's packages added, and as the reqset's latest revision. */
export async function historyUpdate(repo: string, packagesDir: string, reqset: string): Promise<HistoryUpdate> {
  const { packages: built, pins } = await readManifest(packagesDir, reqset);
  const current = await loadCurrent(repo);
  const revision = diffRevision(reqset, pins, built, latestRevision(current, reqset));
  let next = current;
  for (const p of built) {
    next = recordPublished(next, p.name, { pep440: p.pep440, epoch: p.epoch, release: p.release, arch: p.arch, inputs: p.inputs, sha256: p.sha256, file: p.file, sources: p.sources });
  }
  const files = built.map((p) => p.file).sort();
  if (JSON.stringify(current.latest?.[reqset] ?? []) !== JSON.stringify(files)) next = { ...next, latest: { ...next.latest, [reqset]: files } };
  return { next, changed: next !== current, revision };
}

/** A repository published before histories existed starts one. */
async function loadCurrent(repo: string): Promise<History> {
  const file = path.join(repo, HISTORY_FILE);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? emptyHistory() : parseHistory(text, file);
}

/** Replaces the history file atomically (staged in `staging`, same file system). */
export async function writeHistory(repo: string, staging: string, update: HistoryUpdate): Promise<void> {
  if (!update.changed) return;
  const staged = path.join(staging, HISTORY_FILE);
  await writeFile(staged, historyText(update.next));
  await replaceFile(staged, path.join(repo, HISTORY_FILE));
}

/** Runs `work` with a fresh staging directory in the repository, removed afterwards. */
export async function withStaging(repo: string, work: (staging: string) => Promise<void>): Promise<void> {
  const staging = await stagingDirFor(path.join(repo, 'reqset-staging'));
  try {
    await work(staging);
  } finally {
    await discard(staging);
  }
}
