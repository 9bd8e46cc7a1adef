/** `reqset plan`: the (reqset, target) job matrix for a CI system. */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { collect, printJson, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

export function addPlanCommand(program: Command, io: IO): void {
  withCommonOptions(
    program
      .command('plan')
      .description('the (reqset, target) job matrix for a CI system, with each job\'s exact commands')
      .argument('<reqset...>', 'names of reqsets/<reqset>.txt')
      .option('--target <name>', 'only these targets, repeatable (default: every target)', collect)
      .addOption(new Option('--builder <kind>', 'where the jobs build wheels').choices(api.BUILDER_KINDS).default('podman'))
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
    if (flags.json) printJson(io, jobs);
    else for (const job of jobs) io.stdout.write(`${job.id}\n${job.commands.map((c) => `  ${c.shell}`).join('\n')}\n`);
  });
}
