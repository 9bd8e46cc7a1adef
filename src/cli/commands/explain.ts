/** `reqset explain`: every package of the last build and what decided its version. */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { printJson, REQSET_ARGUMENT, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

export function addExplainCommand(program: Command, io: IO): void {
  withCommonOptions(
    program
      .command('explain')
      .description('every package of the last build: version, arch, requires, and the inputs that decided its version')
      .argument(...REQSET_ARGUMENT)
      .addOption(new Option('--target <name>', 'target of the build').default(api.DEFAULT_TARGET))
      .option('--out <dir>', 'where build wrote the packages', 'dist'),
    { build: false },
  ).action(async (reqset: string, flags: GlobalFlags & { target: string }) => {
    const packages = await api.explain(reqset, flags.target, { out: flags.out });
    if (flags.json) printJson(io, packages);
    else io.stdout.write(formatExplain(packages));
  });
}

/** One block per package. */
function formatExplain(packages: api.ExplainedPackage[]): string {
  return packages
    .map((p) => {
      const head = `${p.name} ${p.version} ${p.arch}  ${p.reason}${p.reused ? ' (reused)' : ''}`;
      const requires = p.requires.map((r) => `    requires ${r}`);
      const sources = Object.entries(p.sources).map(([k, v]) => `    input ${k}: ${v}`);
      return [head, `    file ${p.file} sha256 ${p.sha256}`, ...requires, ...sources, ...rebuiltLine(p)].join('\n');
    })
    .join('\n') + '\n';
}

/** What the post-install's .whl is, as the build's check made it (with the build host's zlib). */
function rebuiltLine(p: api.ExplainedPackage): string[] {
  const wheel = p.rebuiltWheel;
  if (!wheel) return [];
  const what = wheel.identical ? 'the original, byte for byte' : 'the same members and RECORD, deflated otherwise than the original';
  return [`    rebuilt wheel: ${what} (sha256 ${wheel.sha256})`];
}
