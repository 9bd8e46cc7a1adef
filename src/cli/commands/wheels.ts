/** `reqset wheels`: the checked wheelhouse under --out. */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { commonOptions, printJson, REQSET_ARGUMENT, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

export function addWheelsCommand(program: Command, io: IO): void {
  withCommonOptions(
    program
      .command('wheels')
      .description('build or collect the checked wheelhouse into <out>/<reqset>/<target>/wheels')
      .argument(...REQSET_ARGUMENT)
      .addOption(new Option('--target <name>', 'target to build for').default(api.DEFAULT_TARGET)),
  ).action(async (reqset: string, flags: GlobalFlags & { target: string }) => {
    const result = await api.wheels(reqset, flags.target, commonOptions(flags, io.stderr));
    if (flags.json) printJson(io, result);
    else if (!flags.quiet) {
      const counts = new Map<string, number>();
      for (const w of result.wheels) counts.set(w.origin, (counts.get(w.origin) ?? 0) + 1);
      const summary = [...counts].map(([origin, n]) => `${n} ${origin}`).join(', ');
      io.stdout.write(`${result.wheels.length} wheels (${summary}) in ${result.wheelsDir}\n`);
    }
  });
}
