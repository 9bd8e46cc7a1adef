/**
 * The directories a command is given, checked before any work: --workspace an
 * existing directory, --out a directory or nothing yet. The ones named are
 * kept, so that an OS error later can name the flag to change.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { InputError, type PathOptions } from '../errors.ts';

/** `path` is a file (or a file stands where one of its parents should be): that path, else undefined. */
async function fileInTheWay(dir: string): Promise<string | undefined> {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    try {
      return (await stat(p)).isDirectory() ? undefined : p;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Other errors (EACCES, ENAMETOOLONG, ...) are left to the command, whose handler names them.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(p) === p) return undefined;
    }
  }
}

/**
 * Checks --workspace (an existing directory) and --out (a directory or
 * nothing yet, never "") before any work; returns the directories named.
 */
export async function checkPathOptions(command: Command): Promise<PathOptions> {
  const { workspace, out, wheelCache, repo } = command.opts<{ workspace?: string; out?: string; wheelCache?: string; repo?: string }>();
  const named: PathOptions = [];
  if (workspace !== undefined) {
    const fix = 'point --workspace at the directory holding reqsets/ (or leave it out to use the current directory)';
    if (workspace === '') throw new InputError(`--workspace is empty: ${fix}`);
    const blocker = await fileInTheWay(workspace);
    if (blocker) throw new InputError(`--workspace ${workspace} ${blocker === path.resolve(workspace) ? 'is a file, not a directory' : `is not a directory (${blocker} is a file)`}: ${fix}`);
    try {
      await stat(workspace);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new InputError(`--workspace ${workspace} does not exist: ${fix}`);
    }
    if (command.getOptionValueSource('workspace') === 'cli') named.push({ option: '--workspace', dir: workspace });
  }
  if (out !== undefined) {
    if (out === '') throw new InputError('--out is empty: name the output directory (e.g. --out dist, the default)');
    const blocker = await fileInTheWay(out);
    if (blocker) {
      const what = blocker === path.resolve(out) ? 'is a file, not a directory' : `is not a directory (${blocker} is a file)`;
      throw new InputError(`--out ${out} ${what}: choose another --out, or remove the file`);
    }
    named.push({ option: '--out', dir: out });
  }
  if (wheelCache) named.push({ option: '--wheel-cache', dir: wheelCache });
  if (repo && !/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) named.push({ option: '--repo', dir: repo });
  return named;
}
