/** `reqset build`: the packages of one or more targets, one target after another. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { InputError } from '../../errors.ts';
import { collect, commonOptions, printJson, REQSET_ARGUMENT, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

interface BuildFlags extends GlobalFlags {
  target?: string[];
  repo?: string;
  release?: string;
  venvInstaller: 'native' | 'pip';
  layout: api.WheelLayout;
  packager: api.PackagerBackend;
}

export function addBuildCommand(program: Command, io: IO): void {
  withCommonOptions(
    program
      .command('build')
      .description('wheels, then one package per wheel and the runtime package, into <out>/<reqset>/<target>/')
      .argument(...REQSET_ARGUMENT)
      .option('--target <name>', `target to build for, repeatable (default: ${api.DEFAULT_TARGET})`, collect)
      .option('--repo <dir|url>', 'the published repository this build continues: unchanged packages keep their versions, changed ones get the next release, rollbacks the next epoch')
      .option('--release <n>', 'one package release (RPM Release, Debian revision) for every package, instead of the one the repository history gives')
      .addOption(new Option('--venv-installer <kind>', 'how endpoint post-installs fill the venv').choices(['native', 'pip']).default('native'))
      .addOption(new Option('--layout <layout>', 'how each wheel sits in its package: unpacked tree, or one zip of stored members (smaller delta RPMs)').choices(api.WHEEL_LAYOUTS).default(api.DEFAULT_WHEEL_LAYOUT))
      .addOption(new Option('--packager <backend>', 'who writes the package files: the format\'s own tools (rpmbuild, dpkg-deb), or fpm (REQSET_FPM, else fpm on PATH) from the same package contents').choices(api.PACKAGER_BACKENDS).default('native')),
  ).action(async (reqset: string, flags: BuildFlags) => {
    if ((flags.target?.length ?? 0) > 1 && flags.repo) throw new InputError('--repo names the repository of one target: build one --target at a time with it');
    const manifests = [];
    for (const target of flags.target ?? [api.DEFAULT_TARGET]) {
      const options = { ...commonOptions(flags, io.stderr), repo: flags.repo, release: flags.release, venvInstaller: flags.venvInstaller, layout: flags.layout, packager: flags.packager };
      const result = await api.buildTarget(reqset, target, options);
      manifests.push(result.manifest);
      if (!flags.json && !flags.quiet) {
        const all = api.manifestPackages(result.manifest);
        const reused = all.filter((p) => p.reused).length;
        io.stdout.write(`${reqset} for ${target}: ${all.length} packages (${all.length - reused} packaged, ${reused} reused) in ${path.join(result.outDir, 'packages')}\n`);
      }
    }
    if (flags.json) printJson(io, manifests);
  });
}
