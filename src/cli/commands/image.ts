/** `reqset image`: a FROM-scratch image of the checked wheelhouse. */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { commonOptions, printJson, REQSET_ARGUMENT, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

export function addImageCommand(program: Command, io: IO): void {
  withCommonOptions(
    program
      .command('image')
      .description('a FROM-scratch image of the checked wheelhouse (/wheels) for multi-stage builds; writes <out>/<reqset>/<target>/image/')
      .argument(...REQSET_ARGUMENT)
      .addOption(new Option('--target <name>', 'target of the wheels').default(api.DEFAULT_TARGET))
      .addOption(new Option('--engine <engine>', 'default: podman if installed, else docker, else none (write the Containerfile and context only)').choices(['podman', 'docker', 'none']))
      .option('--tag <tag>', 'image tag (default localhost/<reqset>-wheelhouse:<target>)'),
  ).action(async (reqset: string, flags: GlobalFlags & { target: string; engine?: 'podman' | 'docker' | 'none'; tag?: string }) => {
    const result = await api.image(reqset, flags.target, { ...commonOptions(flags, io.stderr), engine: flags.engine, tag: flags.tag });
    if (flags.json) printJson(io, result);
    else if (!flags.quiet) {
      io.stdout.write(result.id ? `built ${result.tag} (${result.wheels.length} wheels in /wheels)\n` : `wrote ${result.containerfile}; build it with: ${result.buildCommand}\n`);
    }
  });
}
