/**
 * The command line: a thin layer over src/api.ts. Assembles the commands (one
 * file each in commands/), maps errors to exit codes in one place, and, as
 * the executable, owns the process: its signals and its exit code.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import * as api from '../api.ts';
import { isReportable, osError, type PathOptions } from '../errors.ts';
import { removeTempDirsSync } from '../fsutil.ts';
import { addBuildCommand } from './commands/build.ts';
import { addBuilderImageCommand } from './commands/builder-image.ts';
import { addCheckCommand } from './commands/check.ts';
import { addDiffCommand } from './commands/diff.ts';
import { addExplainCommand } from './commands/explain.ts';
import { addImageCommand } from './commands/image.ts';
import { addPlanCommand } from './commands/plan.ts';
import { addPublishCommand } from './commands/publish.ts';
import { addTargetsCommand } from './commands/targets.ts';
import { addWheelsCommand } from './commands/wheels.ts';
import type { CommandState, IO } from './options.ts';
import { checkPathOptions } from './paths.ts';

/** The program with every command, in the order `reqset --help` lists them. */
function buildProgram(io: IO, state: CommandState): Command {
  const program = new Command('reqset')
    .description('Turn pinned Python package sets (reqsets) into native RPM and DEB packages.')
    .version(api.TOOL_VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  addCheckCommand(program, io, state);
  addWheelsCommand(program, io);
  addBuildCommand(program, io);
  addExplainCommand(program, io);
  addDiffCommand(program, io);
  addPublishCommand(program, io);
  addImageCommand(program, io);
  addBuilderImageCommand(program, io);
  addPlanCommand(program, io);
  addTargetsCommand(program, io);
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

/**
 * The `reqset` executable: this process's arguments and exit code. On SIGINT
 * or SIGTERM it removes its temporary and staging directories and exits as a
 * shell reports those signals (130, 143); only the executable does, so a
 * program that calls the library keeps its own signal handling.
 */
export async function runExecutable(): Promise<void> {
  for (const [signal, exitCode] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      removeTempDirsSync();
      process.exit(exitCode);
    });
  }
  process.exitCode = await main(process.argv.slice(2));
}

const invokedDirectly = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) await runExecutable();
