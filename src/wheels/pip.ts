/**
 * How the wheels stage runs `pip wheel` on an sdist: the requirement file
 * (index options and the sdist with its hashes), the isolated environment,
 * the build requirements it may use, and what its output says.
 */
import path from 'node:path';
import { InputError, ToolError } from '../errors.ts';
import { evaluateMarker, type MarkerEnvironment } from '../python/markers.ts';
import { normalizeName } from '../python/names.ts';
import { parseRequirement, RequirementSyntaxError } from '../python/requirement.ts';
import type { IndexOptions, Pin } from '../reqset/load.ts';
import { formatCommand } from '../run.ts';
import { pinLabel } from './hashes.ts';

/** pip's options that select where distributions come from, each as [option, value?]. */
function indexOptions(index: IndexOptions, extraFindLinks: string[]): string[][] {
  const options: string[][] = [];
  if (index.noIndex) options.push(['--no-index']);
  else {
    if (index.indexUrl) options.push(['--index-url', index.indexUrl]);
    for (const url of index.extraIndexUrls) options.push(['--extra-index-url', url]);
  }
  for (const link of [...index.findLinks, ...extraFindLinks]) options.push(['--find-links', link]);
  for (const value of index.onlyBinary) options.push(['--only-binary', value]);
  for (const value of index.noBinary) options.push(['--no-binary', value]);
  if (index.requireHashes) options.push(['--require-hashes']);
  return options;
}

/**
 * The requirement file pip wheel reads: the sdist itself (reqset checked it),
 * with its hashes, and where its build requirements come from: the wheelhouse
 * only, so pinned ones are used as built, or, with `fromIndex`, the index
 * options too (a file, so that no credential is on a command line another user
 * can list). pip splits option lines as a shell would.
 */
export function sdistRequirementFile(sdist: string, pin: Pin, index: IndexOptions, wheelsDir: string, fromIndex: boolean): string {
  const options = fromIndex ? indexOptions(index, [wheelsDir]) : [['--no-index'], ['--find-links', wheelsDir], ...(index.requireHashes ? [['--require-hashes']] : [])];
  return [...options.map((option) => formatCommand(option)), `${sdist}${pin.hashes.map((h) => ` --hash=${h}`).join('')}`, ''].join('\n');
}

/**
 * What is built follows from the pin list and the command line only, never
 * from the user's pip settings. pip runs with --isolated (no PIP_* variables,
 * no user config) and PIP_CONFIG_FILE=/dev/null (pip's os.devnull: no config
 * file at all, global and site ones included), which also holds for the
 * build-requirements install pip runs as a subprocess without --isolated; the
 * local builder removes every inherited PIP_* variable. The constraints reach
 * pip wheel by --constraint (--isolated ignores PIP_CONSTRAINT) and that
 * subprocess by PIP_CONSTRAINT: so pinned build requirements are used at their
 * pins. NETRC names the netrc, which a container build sees at the same path.
 */
export function pipEnvironment(constraintsFile: string, netrc: string | undefined): Record<string, string> {
  return { PIP_CONFIG_FILE: '/dev/null', PIP_CONSTRAINT: constraintsFile, ...(netrc ? { NETRC: netrc } : {}) };
}

/**
 * An sdist's build requirements that apply on the target: the keys of those
 * the reqset pins, in order, and the others as written (one that cannot be
 * read counts as not pinned).
 */
export function splitBuildRequires(requirements: string[], env: MarkerEnvironment, pins: ReadonlyMap<string, Pin>): { pinned: string[]; unpinned: string[] } {
  const pinned: string[] = [];
  const unpinned: string[] = [];
  for (const text of requirements) {
    try {
      const requirement = parseRequirement(text);
      if (requirement.marker && !evaluateMarker(requirement.marker, env)) continue;
      if (!pins.has(requirement.key)) unpinned.push(text);
      else if (!pinned.includes(requirement.key)) pinned.push(requirement.key);
    } catch (error) {
      if (!(error instanceof RequirementSyntaxError)) throw error;
      unpinned.push(text);
    }
  }
  return { pinned, unpinned };
}

export const ALLOW_UNPINNED_FLAG = '--allow-unpinned-build-requirements';

/** Build requirements of `sdist` the reqset does not pin (`asked`: those its build backend asked for while building). */
export function unpinnedError(pin: Pin, sdist: string, unpinned: string[], asked = false): InputError {
  const what = `${asked ? 'its build backend asked for' : 'it requires'} ${unpinned.length > 1 ? 'build requirements' : 'a build requirement'} the reqset does not pin (${unpinned.join(', ')})`;
  return new InputError(`${pin.source}: ${pinLabel(pin)} cannot be built from ${path.basename(sdist)}: ${what}: pin ${unpinned.length > 1 ? 'them' : 'it'} in the reqset, or pass ${ALLOW_UNPINNED_FLAG}`);
}

/**
 * A failed pip run as the error to report: a build requirement the backend
 * asked for that the wheelhouse does not have (no index in use) is an
 * unpinned one (exit 2), anything else pip's.
 */
export function pipFailure(pin: Pin, sdist: string, result: { exitCode: number; output: string; log: string; fromIndex: boolean }): Error {
  const missing = [...result.output.matchAll(/No matching distribution found for (\S+)/g)].map((m) => m[1] ?? '');
  if (missing.length && !result.fromIndex) return unpinnedError(pin, sdist, [...new Set(missing)], true);
  const tail = result.output.trim().split('\n').slice(-15).join('\n');
  return new ToolError(`pip could not build ${pinLabel(pin)} (exit code ${result.exitCode}); last lines:\n${tail.replace(/^/gm, '  | ')}\n  full log: ${result.log}`);
}

/**
 * What pip installed in the build environment that the reqset does not pin,
 * as `name==version`, from its "Successfully installed a-1.0 b-2.0" lines
 * (printed with -v).
 */
export function installedUnpinned(output: string, pins: ReadonlyMap<string, Pin>): string[] {
  const installed = new Set<string>();
  for (const line of output.matchAll(/^\s*Successfully installed (.+)$/gm)) {
    for (const item of (line[1] ?? '').trim().split(/\s+/)) {
      const dash = item.lastIndexOf('-');
      const name = item.slice(0, dash);
      if (dash > 0 && !pins.has(normalizeName(name))) installed.add(`${name}==${item.slice(dash + 1)}`);
    }
  }
  return [...installed].sort();
}
