/**
 * The command line: a thin layer over src/api.ts. Parses flags, renders
 * progress and results, and maps errors to exit codes in one place.
 */
import { realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import * as api from '../api.ts';
import { InputError, isReportable, osError, type PathOptions } from '../errors.ts';
import { formatDiff } from '../packagers/diff.ts';
import { DEFAULT_WHEEL_LAYOUT, WHEEL_LAYOUTS, type WheelLayout } from '../packagers/plan.ts';
import { formatReport } from '../publish/index.ts';
import { createProgress } from '../progress.ts';
import { traceCommands } from '../run.ts';
import { DEFAULT_WHEEL_LIMITS, parseByteSize } from '../wheels/source.ts';

interface GlobalFlags {
  workspace?: string;
  out?: string;
  jobs?: number;
  findLinks?: string[];
  noIndex?: boolean;
  index?: boolean;
  indexUrl?: string;
  python?: string;
  wheelCache?: string;
  builder?: 'local' | 'podman' | 'docker';
  builderBase?: string;
  builderImage?: string;
  maxWheelSize?: number;
  maxWheelMembers?: number;
  maxCompressionRatio?: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function byteSize(value: string): number {
  try {
    return parseByteSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function ratio(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError('expected a number of at least 1');
  return n;
}

function withCommonOptions(command: Command, { build = true }: { build?: boolean } = {}): Command {
  command.option('--workspace <dir>', 'workspace directory with reqsets/, specs/, packaging/', '.');
  command.option('--json', 'print the result as JSON on stdout');
  if (!build) return command;
  return command
    .option('--quiet', 'print nothing but errors')
    .option('--verbose', 'print every external command (pip, rpmbuild, dpkg-deb, ...) as it runs')
    .option('--out <dir>', 'output directory', 'dist')
    .option('--jobs <n>', 'parallel builds (default: CPU count)', positiveInt)
    .option('--find-links <dir>', 'extra place to look for wheels and sdists (repeatable)', collect)
    .option('--no-index', 'do not use a package index, only --find-links')
    .option('--index-url <url>', 'package index to use instead of the pin list\'s')
    .option('--python <path>', "builder interpreter (default: the target's pythonX.Y on PATH)")
    .option('--wheel-cache <dir>', 'content-addressed cache of wheels and packages, shareable between jobs (default: $XDG_CACHE_HOME/reqset)')
    .addOption(new Option('--builder <kind>', "where pip builds wheels: local (this machine) or podman/docker (in the target's builder image)").choices(['local', 'podman', 'docker']).default('local'))
    .option('--builder-base <image>', "base image of the target's builder image; reqset (re)builds the builder image from it when missing or made from another base")
    .option('--builder-image <image>', "run this builder image instead of the target's")
    .option('--max-wheel-size <bytes|NNG|NNM>', `refuse a wheel that unpacks to more than this (default: ${DEFAULT_WHEEL_LIMITS.maxSize / 1024 ** 3}G)`, byteSize)
    .option('--max-wheel-members <n>', `refuse a wheel with more members than this (default: ${DEFAULT_WHEEL_LIMITS.maxMembers})`, positiveInt)
    .option('--max-compression-ratio <n>', `refuse a wheel member over 1 MiB compressed more than n:1, a zip bomb (default: ${DEFAULT_WHEEL_LIMITS.maxCompressionRatio})`, ratio);
}

function commonOptions(flags: GlobalFlags, stderr: NodeJS.WriteStream): api.CommonOptions {
  traceCommands(flags.verbose ? (command) => stderr.write(`$ ${command}\n`) : undefined);
  return {
    workspace: flags.workspace,
    out: flags.out,
    jobs: flags.jobs,
    findLinks: flags.findLinks,
    // commander turns --no-index into index: false
    noIndex: flags.index === false,
    indexUrl: flags.indexUrl,
    python: flags.python,
    wheelCache: flags.wheelCache,
    builder: flags.builder,
    builderBase: flags.builderBase,
    builderImage: flags.builderImage,
    wheelLimits: { maxSize: flags.maxWheelSize, maxMembers: flags.maxWheelMembers, maxCompressionRatio: flags.maxCompressionRatio },
    progress: createProgress(stderr, { quiet: flags.quiet }),
  };
}

function printReport(result: api.CheckReport, flags: GlobalFlags, out: NodeJS.WriteStream) {
  if (flags.json) {
    out.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (flags.quiet && result.ok) return;
  if (result.ok) out.write(`${result.reqset} on ${result.target}: ${result.pins} pins, closure complete, every wheel installable\n`);
}

interface IO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** `state.exitCode` lets a command end non-zero without an error message (e.g. check --json). */
export function buildProgram(io: IO, state: { exitCode: number }): Command {
  const program = new Command('reqset')
    .description('Turn pinned Python package sets (reqsets) into native RPM and DEB packages.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  withCommonOptions(
    program
      .command('check')
      .description('validate the pins and the dependency closure for a target (builds or collects the wheels it needs)')
      .argument('<reqset>', 'name of reqsets/<reqset>.txt')
      .addOption(new Option('--target <name>', 'target to check for').default(api.DEFAULT_TARGET)),
  ).action(async (reqset: string, flags: GlobalFlags & { target: string }) => {
    const result = await api.check(reqset, flags.target, commonOptions(flags, io.stderr));
    printReport(result, flags, io.stdout);
    if (!result.ok) {
      if (flags.json) state.exitCode = 2;
      else throw api.closureError(result);
    }
  });

  withCommonOptions(
    program
      .command('wheels')
      .description('build or collect the checked wheelhouse into <out>/<reqset>/<target>/wheels')
      .argument('<reqset>', 'name of reqsets/<reqset>.txt')
      .addOption(new Option('--target <name>', 'target to build for').default(api.DEFAULT_TARGET)),
  ).action(async (reqset: string, flags: GlobalFlags & { target: string }) => {
    const result = await api.wheels(reqset, flags.target, commonOptions(flags, io.stderr));
    if (flags.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (!flags.quiet) {
      const counts = new Map<string, number>();
      for (const w of result.wheels) counts.set(w.origin, (counts.get(w.origin) ?? 0) + 1);
      const summary = [...counts].map(([origin, n]) => `${n} ${origin}`).join(', ');
      io.stdout.write(`${result.wheels.length} wheels (${summary}) in ${result.wheelsDir}\n`);
    }
  });

  withCommonOptions(
    program
      .command('build')
      .description('wheels, then one package per wheel and the runtime package, into <out>/<reqset>/<target>/')
      .argument('<reqset>', 'name of reqsets/<reqset>.txt')
      .option('--target <name>', `target to build for, repeatable (default: ${api.DEFAULT_TARGET})`, collect)
      .option('--repo <dir|url>', 'the published repository this build continues: unchanged packages keep their versions, changed ones get the next release, rollbacks the next epoch')
      .option('--release <n>', 'one package release (RPM Release, Debian revision) for every package, instead of the one the repository history gives')
      .addOption(new Option('--venv-installer <kind>', 'how endpoint post-installs fill the venv').choices(['native', 'pip']).default('native'))
      .addOption(new Option('--layout <layout>', 'how each wheel sits in its package: unpacked tree, or one zip of stored members (smaller delta RPMs)').choices([...WHEEL_LAYOUTS]).default(DEFAULT_WHEEL_LAYOUT)),
  ).action(async (reqset: string, flags: GlobalFlags & { target?: string[]; repo?: string; release?: string; venvInstaller: 'native' | 'pip'; layout: WheelLayout }) => {
    if ((flags.target?.length ?? 0) > 1 && flags.repo) throw new InputError('--repo names the repository of one target: build one --target at a time with it');
    const results = [];
    for (const target of flags.target ?? [api.DEFAULT_TARGET]) {
      const options = { ...commonOptions(flags, io.stderr), repo: flags.repo, release: flags.release, venvInstaller: flags.venvInstaller, layout: flags.layout };
      const result = await api.buildTarget(reqset, target, options);
      results.push(result);
      if (!flags.json && !flags.quiet) {
        const all = api.manifestPackages(result.manifest);
        const reused = all.filter((p) => p.reused).length;
        io.stdout.write(`${reqset} for ${target}: ${all.length} packages (${all.length - reused} packaged, ${reused} reused) in ${path.join(result.outDir, 'packages')}\n`);
      }
    }
    if (flags.json) io.stdout.write(`${JSON.stringify(results.map((r) => r.manifest), null, 2)}\n`);
  });

  withCommonOptions(
    program
      .command('explain')
      .description('every package of the last build: version, arch, requires, and the inputs that decided its version')
      .argument('<reqset>', 'name of reqsets/<reqset>.txt')
      .addOption(new Option('--target <name>', 'target of the build').default(api.DEFAULT_TARGET))
      .option('--out <dir>', 'where build wrote the packages', 'dist'),
    { build: false },
  ).action(async (reqset: string, flags: GlobalFlags & { target: string }) => {
    const packages = await api.explain(reqset, flags.target, { out: flags.out });
    if (flags.json) io.stdout.write(`${JSON.stringify(packages, null, 2)}\n`);
    else io.stdout.write(formatExplain(packages));
  });

  withCommonOptions(
    program
      .command('diff')
      .description('the last build against the last revision published to --repo: pins added, removed, upgraded, downgraded; packages rebuilt and why')
      .argument('<reqset>', 'name of reqsets/<reqset>.txt')
      .addOption(new Option('--target <name>', 'target of the build').default(api.DEFAULT_TARGET))
      .requiredOption('--repo <dir|url>', 'the published repository')
      .option('--out <dir>', 'where build wrote the packages', 'dist'),
    { build: false },
  ).action(async (reqset: string, flags: GlobalFlags & { target: string; repo: string }) => {
    const result = await api.diff(reqset, flags.target, { out: flags.out, repo: flags.repo });
    io.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatDiff(result));
  });

  withCommonOptions(
    program
      .command('publish')
      .description('add the packages built under --out to a yum/dnf repository (with delta RPMs) or an apt repository, atomically')
      .argument('<reqset>', 'name of reqsets/<reqset>.txt')
      .requiredOption('--target <name>', 'target whose packages to publish')
      .requiredOption('--repo <dir>', 'repository directory (created if missing)')
      .option('--out <dir>', 'where build wrote the packages', 'dist')
      .option('--keep <n>', 'older versions of each package kept next to the newest (deltas are made from each)', (v) => Number.parseInt(v, 10), 2)
      .option('--sign <keyid>', 'sign packages and metadata with this GPG key')
      .option('--gpg-home <dir>', 'GNUPGHOME holding the key')
      .option('--suite <name>', "apt suite (default: the target's distribution, e.g. bookworm)")
      .option('--component <name>', 'apt component', 'main')
      .option('--jobs <n>', 'parallel delta builds (default: CPU count)', positiveInt)
      .option('--quiet', 'print nothing but errors'),
    { build: false },
  ).action(async (reqset: string, flags: GlobalFlags & { target: string; repo: string; keep: number; sign?: string; gpgHome?: string; suite?: string; component: string }) => {
    if (!Number.isInteger(flags.keep) || flags.keep < 0) throw new InputError('--keep: expected a whole number of at least 0');
    const report = await api.publish(reqset, flags.target, {
      workspace: flags.workspace,
      out: flags.out,
      repo: flags.repo,
      keep: flags.keep,
      sign: flags.sign,
      gpgHome: flags.gpgHome,
      suite: flags.suite,
      component: flags.component,
      jobs: flags.jobs,
      progress: flags.quiet || flags.json ? undefined : (line) => io.stderr.write(`${line}\n`),
    });
    if (flags.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (!flags.quiet) io.stdout.write(formatReport(report));
  });

  withCommonOptions(
    program
      .command('image')
      .description('a FROM-scratch image of the checked wheelhouse (/wheels) for multi-stage builds; writes <out>/<reqset>/<target>/image/')
      .argument('<reqset>', 'name of reqsets/<reqset>.txt')
      .addOption(new Option('--target <name>', 'target of the wheels').default(api.DEFAULT_TARGET))
      .addOption(new Option('--engine <engine>', 'default: podman if installed, else docker, else none (write the Containerfile and context only)').choices(['podman', 'docker', 'none']))
      .option('--tag <tag>', 'image tag (default localhost/<reqset>-wheelhouse:<target>)'),
  ).action(async (reqset: string, flags: GlobalFlags & { target: string; engine?: 'podman' | 'docker' | 'none'; tag?: string }) => {
    const result = await api.image(reqset, flags.target, { ...commonOptions(flags, io.stderr), engine: flags.engine, tag: flags.tag });
    if (flags.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (!flags.quiet) {
      io.stdout.write(result.id ? `built ${result.tag} (${result.wheels.length} wheels in /wheels)\n` : `wrote ${result.containerfile}; build it with: ${result.buildCommand}\n`);
    }
  });

  withCommonOptions(
    program
      .command('builder-image')
      .description("make the target's builder image from docker/<target>/Containerfile (skipped when an up-to-date one exists)")
      .requiredOption('--target <name>', 'target whose builder image to make')
      .addOption(new Option('--builder <kind>', 'container engine').choices(['podman', 'docker']).default('podman'))
      .option('--builder-base <image>', 'base image (the Containerfile\'s BASE)')
      .option('--wheel-cache <dir>', 'where reqset keeps its engine settings (default: $XDG_CACHE_HOME/reqset)')
      .option('--force', 'rebuild even when an up-to-date image exists')
      .option('--quiet', 'print nothing but errors'),
    { build: false },
  ).action(async (flags: GlobalFlags & { target: string; force?: boolean }) => {
    const result = await api.builderImage(flags.target, {
      workspace: flags.workspace,
      builder: flags.builder,
      builderBase: flags.builderBase,
      wheelCache: flags.wheelCache,
      force: flags.force,
      progress: createProgress(io.stderr, { quiet: flags.quiet }),
    });
    if (flags.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (!flags.quiet) io.stdout.write(`${result.built ? 'built' : 'up to date:'} ${result.image} (${result.id})\n`);
  });

  withCommonOptions(
    program
      .command('plan')
      .description('the (reqset, target) job matrix for a CI system, with each job\'s exact commands')
      .argument('<reqset...>', 'names of reqsets/<reqset>.txt')
      .option('--target <name>', 'only these targets, repeatable (default: every target)', collect)
      .addOption(new Option('--builder <kind>', 'where the jobs build wheels').choices(['local', 'podman', 'docker']).default('podman'))
      .option('--builder-base <image>', 'base image for the builder images')
      .option('--wheel-cache <dir>', 'the wheel cache every job shares (a mounted volume)')
      .option('--out <dir>', 'output directory of the jobs', 'dist')
      .option('--repo <dir>', 'also publish each job\'s packages to <dir>/<target>')
      .option('--release <n>', 'package release of the builds'),
    { build: false },
  ).action(async (reqsets: string[], flags: GlobalFlags & { target?: string[]; repo?: string; release?: string }) => {
    const jobs = await api.plan(reqsets, {
      workspace: flags.workspace,
      targets: flags.target,
      builder: flags.builder,
      builderBase: flags.builderBase,
      wheelCache: flags.wheelCache,
      out: flags.out,
      repo: flags.repo,
      release: flags.release,
    });
    if (flags.json) io.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
    else for (const job of jobs) io.stdout.write(`${job.id}\n${job.commands.map((c) => `  ${c.shell}`).join('\n')}\n`);
  });

  withCommonOptions(program.command('targets').description('list the targets (built-in and the workspace\'s own)'), { build: false }).action(
    async (flags: GlobalFlags) => {
      const targets = await api.targets(flags.workspace);
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(targets, null, 2)}\n`);
        return;
      }
      const rows = targets.map((t) => [t.name, t.format, `python${t.python.version}`, `glibc ${t.glibc}`, t.arch, t.description]);
      const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
      for (const row of rows) io.stdout.write(`${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
    },
  );

  return program;
}

/** Runs the CLI and returns the exit code; prints every reportable error once. */
export async function main(argv: string[], io: IO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const state = { exitCode: 0 };
  const program = buildProgram(io, state);
  // The directories the command was given, so an OS error can name the flag to change.
  let pathOptions: PathOptions = [];
  program.hook('preAction', async (_program, action) => {
    pathOptions = await checkPathOptions(action);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    // Expected OS errors (read-only file system, disk full, ...) are one line and exit 1, not a bug.
    const reported = isReportable(error) ? error : osError(error, pathOptions);
    if (reported) {
      io.stderr.write(`reqset: error: ${reported.message}\n`);
      return reported.exitCode;
    }
    io.stderr.write(`reqset: internal error (this is a bug in reqset, please report it):\n${(error as Error).stack ?? String(error)}\n`);
    return 70;
  }
}

/** `path` is a file (or a file stands where one of its parents should be): that path, else undefined. */
async function fileInTheWay(dir: string): Promise<string | undefined> {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    try {
      return (await stat(p)).isDirectory() ? undefined : p;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Other errors (EACCES, ENAMETOOLONG, ...) are left to the command, whose handler names them.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(p) === p) return undefined;
    }
  }
}

/**
 * Checks --workspace (an existing directory) and --out (a directory or
 * nothing yet, never "") before any work; returns the directories named.
 */
async function checkPathOptions(command: Command): Promise<PathOptions> {
  const { workspace, out, wheelCache, repo } = command.opts<{ workspace?: string; out?: string; wheelCache?: string; repo?: string }>();
  const named: PathOptions = [];
  if (workspace !== undefined) {
    const fix = 'point --workspace at the directory holding reqsets/ (or leave it out to use the current directory)';
    if (workspace === '') throw new InputError(`--workspace is empty: ${fix}`);
    const blocker = await fileInTheWay(workspace);
    if (blocker) throw new InputError(`--workspace ${workspace} ${blocker === path.resolve(workspace) ? 'is a file, not a directory' : `is not a directory (${blocker} is a file)`}: ${fix}`);
    try {
      await stat(workspace);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new InputError(`--workspace ${workspace} does not exist: ${fix}`);
    }
    if (command.getOptionValueSource('workspace') === 'cli') named.push({ option: '--workspace', dir: workspace });
  }
  if (out !== undefined) {
    if (out === '') throw new InputError('--out is empty: name the output directory (e.g. --out dist, the default)');
    const blocker = await fileInTheWay(out);
    if (blocker) {
      const what = blocker === path.resolve(out) ? 'is a file, not a directory' : `is not a directory (${blocker} is a file)`;
      throw new InputError(`--out ${out} ${what}: choose another --out, or remove the file`);
    }
    named.push({ option: '--out', dir: out });
  }
  if (wheelCache) named.push({ option: '--wheel-cache', dir: wheelCache });
  if (repo && !/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) named.push({ option: '--repo', dir: repo });
  return named;
}

const invokedDirectly = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));

/** `reqset explain` as text: one block per package. */
function formatExplain(packages: api.Manifest['runtime'][]): string {
  return packages
    .map((p) => {
      const head = `${p.name} ${p.version} ${p.arch}  ${p.reason}${p.reused ? ' (reused)' : ''}`;
      const requires = p.requires.map((r) => `    requires ${r}`);
      const sources = Object.entries(p.sources).map(([k, v]) => `    input ${k}: ${v}`);
      return [head, `    file ${p.file} sha256 ${p.sha256}`, ...requires, ...sources].join('\n');
    })
    .join('\n') + '\n';
}
