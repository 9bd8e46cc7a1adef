/** What the commands share: their streams, flag parsers, the options most commands take, and JSON output. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import * as api from '../api.ts';
import { createProgress } from '../progress.ts';
import { traceCommands } from '../run.ts';

export interface IO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** `exitCode` lets a command end non-zero without an error message (e.g. check --json). */
export interface CommandState {
  exitCode: number;
}

/** The flags of withCommonOptions, as commander names them. */
export interface GlobalFlags {
  workspace?: string;
  out?: string;
  jobs?: number;
  findLinks?: string[];
  index?: boolean;
  indexUrl?: string;
  extraIndexUrl?: string[];
  requireHashes?: boolean;
  allowUnpinnedBuildRequirements?: boolean;
  python?: string;
  wheelCache?: string;
  builder?: api.CommonOptions['builder'];
  builderBase?: string;
  builderImage?: string;
  maxWheelSize?: number;
  maxWheelMembers?: number;
  maxCompressionRatio?: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export const REQSET_ARGUMENT = ['<reqset>', 'name of reqsets/<reqset>.txt'] as const;

/** For repeatable flags. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function byteSize(value: string): number {
  try {
    return api.parseByteSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function ratio(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError('expected a number of at least 1');
  return n;
}

/** --workspace and --json for every command; with `build`, the flags of the commands that make wheels. */
export function withCommonOptions(command: Command, { build = true }: { build?: boolean } = {}): Command {
  command.option('--workspace <dir>', 'workspace directory with reqsets/, specs/, packaging/', '.');
  command.option('--json', 'print the result as JSON on stdout');
  if (!build) return command;
  const limits = api.DEFAULT_WHEEL_LIMITS;
  return command
    .option('--quiet', 'print nothing but errors')
    .option('--verbose', 'print every external command (pip, rpmbuild, dpkg-deb, ...) as it runs')
    .option('--out <dir>', 'output directory', 'dist')
    .option('--jobs <n>', 'parallel builds (default: CPU count)', positiveInt)
    .option('--find-links <dir>', 'extra place to look for wheels and sdists (repeatable)', collect)
    .option('--no-index', 'do not use a package index, only --find-links')
    .option('--index-url <url>', 'package index to use instead of the pin list\'s')
    .option('--extra-index-url <url>', 'another package index besides the pin list\'s (repeatable)', collect)
    .option('--require-hashes', 'refuse a pin without --hash, as pip --require-hashes does')
    .option(api.ALLOW_UNPINNED_FLAG, "take an sdist's build requirements the reqset does not pin from the index (the manifest records their versions) instead of refusing it")
    .option('--python <path>', "builder interpreter (default: the target's pythonX.Y on PATH)")
    .option('--wheel-cache <dir>', 'content-addressed cache of wheels and packages, shareable between jobs (default: $XDG_CACHE_HOME/reqset)')
    .addOption(new Option('--builder <kind>', "where pip builds wheels: local (this machine) or podman/docker (in the target's builder image)").choices(api.BUILDER_KINDS).default('local'))
    .option('--builder-base <image>', "base image of the target's builder image; reqset (re)builds the builder image from it when missing or made from another base")
    .option('--builder-image <image>', "run this builder image instead of the target's")
    .option('--max-wheel-size <bytes|NNG|NNM>', `refuse a wheel that unpacks to more than this (default: ${limits.maxSize / 1024 ** 3}G)`, byteSize)
    .option('--max-wheel-members <n>', `refuse a wheel with more members than this (default: ${limits.maxMembers})`, positiveInt)
    .option('--max-compression-ratio <n>', `refuse a wheel member over ${api.RATIO_FLOOR_TEXT} compressed more than n:1, a zip bomb (default: ${limits.maxCompressionRatio})`, ratio);
}

/** The api's options from withCommonOptions' flags; --verbose traces every external command on stderr. */
export function commonOptions(flags: GlobalFlags, stderr: NodeJS.WriteStream): api.CommonOptions {
  traceCommands(flags.verbose ? (command) => stderr.write(`$ ${command}\n`) : undefined);
  return {
    workspace: flags.workspace,
    out: flags.out,
    jobs: flags.jobs,
    findLinks: flags.findLinks,
    // commander turns --no-index into index: false
    noIndex: flags.index === false,
    indexUrl: flags.indexUrl,
    extraIndexUrls: flags.extraIndexUrl,
    requireHashes: flags.requireHashes,
    allowUnpinnedBuildRequirements: flags.allowUnpinnedBuildRequirements,
    python: flags.python,
    wheelCache: flags.wheelCache,
    builder: flags.builder,
    builderBase: flags.builderBase,
    builderImage: flags.builderImage,
    wheelLimits: { maxSize: flags.maxWheelSize, maxMembers: flags.maxWheelMembers, maxCompressionRatio: flags.maxCompressionRatio },
    progress: createProgress(stderr, { quiet: flags.quiet }),
  };
}

export function printJson(io: IO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
