/** `reqset builder-image`: the target's builder image. */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { createProgress } from '../../progress.ts';
import { printJson, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

export function addBuilderImageCommand(program: Command, io: IO): void {
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
    if (flags.json) printJson(io, result);
    else if (!flags.quiet) io.stdout.write(`${result.built ? 'built' : 'up to date:'} ${result.image} (${result.id})\n`);
  });
}
