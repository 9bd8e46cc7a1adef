/** `reqset targets`: the built-in targets and the workspace's own, one aligned row each. */
import type { Command } from 'commander';
import * as api from '../../api.ts';
import { printJson, withCommonOptions, type GlobalFlags, type IO } from '../options.ts';

export function addTargetsCommand(program: Command, io: IO): void {
  withCommonOptions(program.command('targets').description('list the targets (built-in and the workspace\'s own)'), { build: false }).action(async (flags: GlobalFlags) => {
    const targets = await api.targets(flags.workspace);
    if (flags.json) {
      printJson(io, targets);
      return;
    }
    const rows = targets.map((t) => [t.name, t.format, `python${t.python.version}`, `glibc ${t.glibc}`, t.arch, t.description]);
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const row of rows) io.stdout.write(`${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
  });
}
