/**
 * The history a build continues: every package version ever published to a
 * repository, with the inputs it was built from, kept by `reqset publish` in
 * `<repo>/reqset-history.json`. From it each package of a new build gets its
 * epoch and release (decideVersion), so that
 *  - a package whose inputs did not change keeps its NEVR (and, through the
 *    package cache, its bytes): clients download nothing for it;
 *  - new content at a published version gets the next release;
 *  - a version below the highest ever published (a rollback) gets the next
 *    epoch, so a plain `dnf upgrade` / `apt upgrade` brings it back.
 * History is append-only: pruned packages stay in it, since clients may
 * still have them installed.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pep440 from '@renovatebot/pep440';
import { z } from 'zod';
import { InputError, ToolError } from '../errors.ts';
import { mappedVersion } from './version.ts';

export const HISTORY_FILE = 'reqset-history.json';

const entrySchema = z.strictObject({
  pep440: z.string().min(1),
  epoch: z.number().int().min(0),
  release: z.string().min(1),
  arch: z.string().min(1),
  /** sha256 of the package's inputs (build.ts packageInputs). */
  inputs: z.string().regex(/^[0-9a-f]{64}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  file: z.string().min(1),
  /** What the inputs were made of (build.ts packageInputs), for `reqset diff`. */
  sources: z.record(z.string(), z.string()).optional(),
});

const historySchema = z.strictObject({
  format: z.literal('reqset-history'),
  version: z.literal(1),
  packages: z.record(z.string(), z.array(entrySchema)),
  /** The package files of each reqset's last publish: the revision `reqset diff` compares with. */
  latest: z.record(z.string(), z.array(z.string())).optional(),
});

export type HistoryEntry = z.infer<typeof entrySchema>;
export type History = z.infer<typeof historySchema>;

export const emptyHistory = (): History => ({ format: 'reqset-history', version: 1, packages: {} });

/** The entries of a reqset's last published revision, by package name. */
export function latestRevision(history: History, reqset: string): Map<string, HistoryEntry> {
  const files = new Set(history.latest?.[reqset] ?? []);
  const out = new Map<string, HistoryEntry>();
  for (const [name, entries] of Object.entries(history.packages)) {
    const entry = entries.find((e) => files.has(e.file));
    if (entry) out.set(name, entry);
  }
  return out;
}

/** Parses a history file's text; `where` names it in errors. */
export function parseHistory(text: string, where: string): History {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${where} is not valid JSON (${(error as Error).message}): restore it from a backup of the repository, or publish to a new repository`);
  }
  const result = historySchema.safeParse(data);
  if (!result.success) {
    throw new InputError(
      `${where} is not a reqset history file`,
      result.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`),
    );
  }
  return result.data;
}

export function historyText(history: History): string {
  const packages = Object.fromEntries(Object.keys(history.packages).sort().map((name) => [name, history.packages[name]]));
  return `${JSON.stringify({ ...history, packages }, null, 1)}\n`;
}

const isUrl = (repo: string) => /^https?:\/\//i.test(repo);

async function fetchHistory(url: string): Promise<History> {
  const where = `${url.replace(/\/+$/, '')}/${HISTORY_FILE}`;
  let response: Response;
  try {
    response = await fetch(where);
  } catch (error) {
    throw new ToolError(`cannot read the history of ${url}: ${(error as Error).message}`);
  }
  if (response.status === 404) {
    throw new InputError(`${where} does not exist: --repo must name a repository published by reqset publish (for the first build, leave --repo out)`);
  }
  if (!response.ok) throw new ToolError(`cannot read ${where}: HTTP ${response.status}`);
  return parseHistory(await response.text(), where);
}

/**
 * The history of `--repo`: a directory or an http(s) URL of a published
 * repository. A directory that does not exist or holds no repository yet has
 * an empty history; one with repository metadata but no history file was not
 * published by reqset, which is an error (its versions cannot be continued).
 */
export async function loadHistory(repo: string): Promise<History> {
  if (isUrl(repo)) return fetchHistory(repo);
  const dir = path.resolve(repo);
  const file = path.join(dir, HISTORY_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new ToolError(`cannot read ${file}: ${error.message}`);
  });
  if (text !== undefined) return parseHistory(text, file);
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new InputError(`--repo ${dir} is not a directory`);
  for (const metadata of ['repodata', 'dists']) {
    if (await stat(path.join(dir, metadata)).then(() => true, () => false)) {
      throw new InputError(`${dir} holds a repository (${metadata}/) but no ${HISTORY_FILE}: it was not published by this reqset; publish to a new repository, or restore the file`);
    }
  }
  return emptyHistory();
}

/** What decided a package's epoch and release. */
export type VersionReason = 'first' | 'unchanged' | 'new version' | 'new content' | 'new bytes' | 'rollback' | 'release override';

export interface VersionDecision {
  epoch: number;
  release: string;
  reason: VersionReason;
  /** For `unchanged`: the sha256 of the published package it keeps, which the package built now must have. */
  publishedSha256?: string;
}

const pepEpoch = (version: string) => mappedVersion(version).epoch;
/** The version without its PEP 440 epoch: the part rpm and dpkg compare after the package epoch. */
const withoutEpoch = (version: string) => version.replace(/^\s*\d+!/, '');

function compareReleases(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return Math.sign(Number(a) - Number(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders (package epoch, version) as rpm and dpkg order the mapped versions. */
function compareEV(a: { epoch: number; pep440: string }, b: { epoch: number; pep440: string }): number {
  if (a.epoch !== b.epoch) return Math.sign(a.epoch - b.epoch);
  return Math.sign(pep440.compare(withoutEpoch(a.pep440), withoutEpoch(b.pep440)));
}

/** The highest published version of a package; of entries of one version and release, the last recorded (a file publish replaced). */
function highest(entries: readonly HistoryEntry[]): HistoryEntry | undefined {
  let top: HistoryEntry | undefined;
  for (const e of entries) {
    if (!top || compareEV(e, top) > 0 || (compareEV(e, top) === 0 && compareReleases(e.release, top.release) >= 0)) top = e;
  }
  return top;
}

/**
 * The highest version published below `version` (epoch, PEP 440, release):
 * what a version's changelog entry compares with (changelog.ts). Versions
 * published later above it do not change it.
 */
export function publishedBefore(entries: readonly HistoryEntry[], version: { epoch: number; pep440: string; release: string }): HistoryEntry | undefined {
  const below = (e: HistoryEntry) => {
    const order = compareEV(e, version);
    return order < 0 || (order === 0 && compareReleases(e.release, version.release) < 0);
  };
  return highest(entries.filter(below));
}

/**
 * The epoch and release of a package at PEP 440 `version` built from
 * `inputs`, given what was published of it before (`published`).
 */
export function decideVersion(version: string, inputs: string, published: readonly HistoryEntry[], releaseOverride?: string): VersionDecision {
  const decision = decideFromHistory(version, inputs, published);
  return releaseOverride === undefined ? decision : { epoch: decision.epoch, release: releaseOverride, reason: 'release override' };
}

/**
 * The version of a package whose inputs are those of the published package
 * `unchanged` keeps, but which came out with other bytes: reqset itself
 * changed how it writes packages (or a build is not reproducible). That is
 * new content at a published version: the next release, so that no two
 * files of one name and version ever differ.
 */
export function decideNewBytes(version: string, unchanged: VersionDecision, published: readonly HistoryEntry[]): VersionDecision {
  return { epoch: unchanged.epoch, release: nextRelease(version, published), reason: 'new bytes' };
}

function decideFromHistory(version: string, inputs: string, published: readonly HistoryEntry[]): VersionDecision {
  const top = highest(published);
  if (!top) return { epoch: pepEpoch(version), release: '1', reason: 'first' };
  // The epoch a rollback added stays: versions at the old epoch would sort below it.
  const candidate = { epoch: pepEpoch(version) + top.epoch - pepEpoch(top.pep440), pep440: version };
  const order = compareEV(candidate, top);
  if (order === 0 && top.inputs === inputs) return { epoch: top.epoch, release: top.release, reason: 'unchanged', publishedSha256: top.sha256 };
  const release = nextRelease(version, published);
  if (order > 0) return { epoch: candidate.epoch, release, reason: 'new version' };
  if (order === 0) return { epoch: candidate.epoch, release, reason: 'new content' };
  return { epoch: top.epoch + 1, release, reason: 'rollback' };
}

/**
 * The release after every release published at this version, whatever its
 * epoch: package file names carry no epoch (`x-1.0-1.noarch.rpm`,
 * `x_1.0-1_all.deb`), so `1:1.0-1` after `1.0-1` would be a second file of
 * the same name.
 */
function nextRelease(version: string, published: readonly HistoryEntry[]): string {
  let last = 0;
  for (const e of published) {
    if (pep440.compare(withoutEpoch(e.pep440), withoutEpoch(version)) !== 0) continue;
    if (!/^\d+$/.test(e.release)) throw new InputError(`cannot continue after release "${e.release}" of ${e.file}: give the next release with --release`);
    last = Math.max(last, Number(e.release));
  }
  return String(last + 1);
}

/** Adds what a publish made public; entries already recorded (same file and sha256) are kept once. */
export function recordPublished(history: History, name: string, entry: HistoryEntry): History {
  const entries = history.packages[name] ?? [];
  if (entries.some((e) => e.file === entry.file && e.sha256 === entry.sha256)) return history;
  return { ...history, packages: { ...history.packages, [name]: [...entries, entry] } };
}
