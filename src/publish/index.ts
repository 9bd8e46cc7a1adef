/**
 * `reqset publish`: add built packages to a yum/dnf repository (with delta
 * RPMs) or an apt repository, atomically for readers and one publish at a
 * time per repository. The steps are in publish.ts; rpm.ts and apt.ts are
 * the repository backends (and describe the layouts).
 */
import { mkdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { AptRepository } from './apt.ts';
import type { RepoPackage, RepositoryBackend } from './backend.ts';
import { historyUpdate } from './history.ts';
import { removeLeftovers } from './files.ts';
import { acquireLock, isDeadLockTemp } from './lock.ts';
import { publishWith } from './publish.ts';
import type { PublishReport } from './report.ts';
import { RpmRepository } from './rpm.ts';
import type { PublishContext, PublishOptions } from './types.ts';

export { formatReport, formatSize, type DeltaReport, type PublishedFile, type PublishReport, type UpgradedPackage } from './report.ts';
export type { PublishOptions } from './types.ts';

export const DEFAULT_KEEP = 2;

/** The repository backend of each package format. */
const BACKENDS: Record<PublishContext['target']['format'], (ctx: PublishContext) => RepositoryBackend<RepoPackage>> = {
  rpm: (ctx) => new RpmRepository(ctx),
  deb: (ctx) => new AptRepository(ctx),
};

/** Staging directories of publishes that were killed (see fsutil.stagingDirFor). */
const isStagingLeftover = (name: string) => /^\.reqset-staging\.tmp-/.test(name);

async function validate(options: PublishOptions): Promise<PublishContext> {
  const keep = options.keep ?? DEFAULT_KEEP;
  if (!Number.isInteger(keep) || keep < 0) throw new InputError(`--keep must be a whole number of older versions to keep (0 or more), got ${keep}`);
  const jobs = options.jobs ?? availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) throw new InputError(`--jobs must be 1 or more, got ${jobs}`);
  const packagesDir = path.resolve(options.packagesDir);
  const info = await stat(packagesDir).catch(() => undefined);
  if (!info?.isDirectory()) throw new InputError(`no packages directory ${packagesDir}: build the packages first (reqset build ${options.reqset} --target ${options.target.name})`);
  const repo = path.resolve(options.repo);
  const repoInfo = await stat(repo).catch(() => undefined);
  if (repoInfo && !repoInfo.isDirectory()) throw new InputError(`--repo ${repo} is not a directory`);
  for (const [flag, value] of [['--suite', options.suite], ['--component', options.component]] as const) {
    if (value !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) throw new InputError(`${flag} ${JSON.stringify(value)}: use letters, digits, '.', '_' and '-'`);
  }
  if (options.sign !== undefined && !/^[A-Za-z0-9@<>._+ -]+$/.test(options.sign)) throw new InputError(`--sign ${JSON.stringify(options.sign)}: not a GPG key id, fingerprint or user id`);
  const signing = options.sign ? { key: options.sign, gpgHome: options.gpgHome } : undefined;
  return { ...options, keep, jobs, packagesDir, repo, signing, progress: options.progress ?? (() => {}), history: await historyUpdate(repo, packagesDir, options.reqset) };
}

/**
 * Publishes `<out>/<reqset>/<target>/packages` into the repository `repo`,
 * rpm or apt by the target's format. Waits for another publish to the same
 * repository to finish; publishing the same build again changes nothing.
 */
export async function publish(options: PublishOptions): Promise<PublishReport> {
  const ctx = await validate(options);
  await mkdir(ctx.repo, { recursive: true });
  const release = await acquireLock(ctx.repo, { timeoutMs: ctx.lockTimeoutMs, progress: ctx.progress });
  try {
    const leftovers = await removeLeftovers(ctx.repo, (name) => isStagingLeftover(name) || isDeadLockTemp(name));
    if (leftovers.length) ctx.progress(`publish: removed leftovers of an interrupted publish: ${leftovers.join(', ')}`);
    const report = await publishWith(BACKENDS[ctx.target.format](ctx), ctx);
    return { ...report, revision: ctx.history.revision };
  } finally {
    await release();
  }
}
