/** `reqset diff`: the last build against the last revision published to --repo. */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { printJson, REQSET_ARGUMENT, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

export function addDiffCommand(program: Command, io: IO): void {
  withCommonOptions(
    program
      .command('diff')
      .description('the last build against the last revision published to --repo: pins added, removed, upgraded, downgraded; packages rebuilt and why')
      .argument(...REQSET_ARGUMENT)
      .addOption(new Option('--target <name>', 'target of the build').default(api.DEFAULT_TARGET))
      .requiredOption('--repo <dir|url>', 'the published repository')
      .option('--out <dir>', 'where build wrote the packages', 'dist'),
    { build: false },
  ).action(async (reqset: string, flags: GlobalFlags & { target: string; repo: string }) => {
    const result = await api.diff(reqset, flags.target, { out: flags.out, repo: flags.repo });
    if (flags.json) printJson(io, result);
    else io.stdout.write(api.formatDiff(result));
  });
}
