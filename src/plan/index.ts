/**
 * Scaling out: the (reqset, target) job matrix for a CI system, each job
 * with the exact commands it runs. Pure and JSON-serialisable.
 *
 * Which targets: every target (built-in and the workspace's own), or only
 * those named with --target (the same for every reqset). Jobs share the wheel
 * cache given with --wheel-cache (content-addressed, safe for concurrent
 * writers: an entry appears by rename and the first writer of a key wins), so
 * a pin built by one job is reused by every other job with the same builder.
 * With a container builder each job first makes (or reuses) its target's
 * builder image, so a job can run on a fresh machine.
 */
import { InputError } from '../errors.ts';
import { formatCommand } from '../run.ts';
import type { Target } from '../targets/target.ts';
import type { BuilderKind } from '../builders/builder.ts';

export interface PlanOptions {
  /** Only these targets (--target, repeatable); default every target. */
  targets?: string[];
  /** Where builds run; default podman (each target's own builder image). */
  builder?: BuilderKind;
  /** --builder-base for builder images. */
  builderBase?: string;
  /** The shared wheel cache every job uses. */
  wheelCache?: string;
  out?: string;
  workspace?: string;
  /** Publish each job's packages to `<repo>/<target>`. */
  repo?: string;
  release?: string;
  /** How a job invokes reqset; default `npx reqset`. */
  command?: string[];
}

export interface PlannedCommand {
  argv: string[];
  /** The same, quoted for a POSIX shell. */
  shell: string;
}

export interface PlannedJob {
  /** `<reqset>/<target>`: unique, usable as a CI job name. */
  id: string;
  reqset: string;
  target: string;
  format: 'rpm' | 'deb';
  builder: BuilderKind;
  /** The builder image the job runs pip in (container builders). */
  builderImage?: string;
  /** Where the job's packages end up: `<out>/<reqset>/<target>`. */
  outDir: string;
  commands: PlannedCommand[];
}

const REQSET_NAME = /^[a-z0-9][a-z0-9-]*$/;

function command(argv: string[]): PlannedCommand {
  return { argv, shell: formatCommand(argv) };
}

export function planJobs(reqsets: string[], targets: Target[], options: PlanOptions = {}): PlannedJob[] {
  const problems: string[] = [];
  if (reqsets.length === 0) problems.push('no reqset given: name at least one (reqset plan <reqset>...)');
  for (const name of reqsets) if (!REQSET_NAME.test(name)) problems.push(`${JSON.stringify(name)} is not a reqset name (lower-case letters, digits and -)`);
  const byName = new Map(targets.map((t) => [t.name, t]));
  for (const name of options.targets ?? []) {
    if (!byName.has(name)) problems.push(`unknown target ${JSON.stringify(name)}: known targets are ${[...byName.keys()].join(', ')}`);
  }
  if (problems.length) throw new InputError('cannot plan the jobs', problems);

  const chosen = options.targets?.length ? [...new Set(options.targets)].map((n) => byName.get(n) as Target) : targets;
  const builder = options.builder ?? 'podman';
  const reqset = options.command ?? ['npx', 'reqset'];
  const out = options.out ?? 'dist';
  const common = [...(options.workspace ? ['--workspace', options.workspace] : [])];
  const build = [...common, '--out', out, ...(options.wheelCache ? ['--wheel-cache', options.wheelCache] : [])];
  const builderFlags = ['--builder', builder, ...(builder !== 'local' && options.builderBase ? ['--builder-base', options.builderBase] : [])];

  const jobs: PlannedJob[] = [];
  for (const name of [...new Set(reqsets)]) {
    for (const target of chosen) {
      const commands: PlannedCommand[] = [];
      if (builder !== 'local') {
        commands.push(
          command([...reqset, 'builder-image', '--target', target.name, ...builderFlags, ...common, ...(options.wheelCache ? ['--wheel-cache', options.wheelCache] : [])]),
        );
      }
      // The build continues the history of the repository the job publishes to.
      const repo = options.repo ? `${options.repo.replace(/\/+$/, '')}/${target.name}` : undefined;
      const history = repo ? ['--repo', repo] : [];
      commands.push(command([...reqset, 'build', name, '--target', target.name, ...builderFlags, ...build, ...history, ...(options.release ? ['--release', options.release] : [])]));
      if (repo) commands.push(command([...reqset, 'publish', name, '--target', target.name, '--repo', repo, ...common, '--out', out]));
      jobs.push({
        id: `${name}/${target.name}`,
        reqset: name,
        target: target.name,
        format: target.format,
        builder,
        ...(builder !== 'local' ? { builderImage: target.builder.image } : {}),
        outDir: `${out.replace(/\/+$/, '')}/${name}/${target.name}`,
        commands,
      });
    }
  }
  return jobs;
}
