/** Finding the builder's Python: the target's X.Y on PATH, or --python. */
import { InputError } from '../errors.ts';
import { run } from '../run.ts';

export interface BuilderPython {
  path: string;
  /** "3.11" */
  version: string;
  fullVersion: string;
}

/** What a builder's interpreter is asked, on this machine or in a builder container: its X.Y.Z. */
export const VERSION_PROBE = 'import sys; print("%d.%d.%d" % sys.version_info[:3])';

/** The X.Y.Z a VERSION_PROBE printed, or undefined if it printed something else. */
export function probedVersion(stdout: string): string | undefined {
  const full = stdout.trim();
  return /^\d+\.\d+\.\d+$/.test(full) ? full : undefined;
}

async function probe(executable: string): Promise<BuilderPython | undefined> {
  const result = await run([executable, '-c', VERSION_PROBE], { allowFailure: true }).catch(() => undefined);
  const full = result?.exitCode === 0 ? probedVersion(result.stdout) : undefined;
  if (!full) return undefined;
  return { path: executable, version: full.split('.').slice(0, 2).join('.'), fullVersion: full };
}

/**
 * With `explicit`, that interpreter (whatever its version: the caller decides
 * whether a mismatch matters). Otherwise python<X.Y> from PATH, then python3
 * if it is X.Y.
 */
export async function findBuilderPython(targetVersion: string, explicit?: string): Promise<BuilderPython> {
  if (explicit) {
    const found = await probe(explicit);
    if (!found) throw new InputError(`--python ${explicit}: not a working Python interpreter`);
    return found;
  }
  for (const candidate of [`python${targetVersion}`, 'python3']) {
    const found = await probe(candidate);
    if (found?.version === targetVersion) return found;
  }
  const fallback = await probe('python3');
  if (fallback) return fallback;
  throw new InputError(`no Python found to build wheels: install python${targetVersion} or pass --python PATH`);
}
