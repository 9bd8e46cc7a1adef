/** `reqset check`: the pins and the closure for a target; exit 2 when they do not fit. */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { commonOptions, printJson, REQSET_ARGUMENT, withCommonOptions, type CommandState, type GlobalFlags, type IO } from '../options.ts';

export function addCheckCommand(program: Command, io: IO, state: CommandState): void {
  withCommonOptions(
    program
      .command('check')
      .description('validate the pins and the dependency closure for a target (builds or collects the wheels it needs)')
      .argument(...REQSET_ARGUMENT)
      .addOption(new Option('--target <name>', 'target to check for').default(api.DEFAULT_TARGET)),
  ).action(async (reqset: string, flags: GlobalFlags & { target: string }) => {
    const result = await api.check(reqset, flags.target, commonOptions(flags, io.stderr));
    if (flags.json) {
      printJson(io, result);
      // The problems are in the JSON: exit 2 without an error message.
      if (!result.ok) state.exitCode = 2;
      return;
    }
    if (!result.ok) throw api.closureError(result);
    if (!flags.quiet) io.stdout.write(`${result.reqset} on ${result.target}: ${result.pins} pins, closure complete, every wheel installable\n`);
  });
}
