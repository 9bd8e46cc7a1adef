/** `reqset publish`: the packages of the last build into a yum/dnf or apt repository. */
import type { Command } from 'commander';
import * as api from '../../api.ts';
import { InputError } from '../../errors.ts';
import { positiveInt, printJson, REQSET_ARGUMENT, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

interface PublishFlags extends GlobalFlags {
  target: string;
  repo: string;
  keep: number;
  sign?: string;
  gpgHome?: string;
  suite?: string;
  component: string;
}

export function addPublishCommand(program: Command, io: IO): void {
  withCommonOptions(
    program
      .command('publish')
      .description('add the packages built under --out to a yum/dnf repository (with delta RPMs) or an apt repository, atomically')
      .argument(...REQSET_ARGUMENT)
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
  ).action(async (reqset: string, flags: PublishFlags) => {
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
    if (flags.json) printJson(io, report);
    else if (!flags.quiet) io.stdout.write(api.formatReport(report));
  });
}
