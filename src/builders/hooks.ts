/**
 * Per-package build hooks: `packaging/hooks/<distribution>.sh` in the
 * workspace, matched to a pin by PEP 503 normalized name. A hook is a bash
 * file that may
 *
 * - set `BUILD_PACKAGES="a b"` (any builder), `BUILD_PACKAGES_DEB="..."`
 *   (apt builders) and `BUILD_PACKAGES_RPM="..."` (dnf builders): system
 *   packages the builder needs for this package's build. Each is read by
 *   reqset without running the file, so it must be set once, at the start of
 *   a line, to a literal (no `$`, no backquotes);
 * - define `pre_build()`: runs before the build in the same shell, so what
 *   it exports is seen by pip's build (and by nothing else's); not PIP_*
 *   variables: pip runs with --isolated (src/wheels/wheelhouse.ts), so its
 *   options come from the pin list and the command line only;
 * - define `build()`: replaces the pip command; it gets that command as
 *   "$@" and must leave exactly one wheel in $WHEEL_DIR.
 *
 * The build runs as `bash -c <HOOK_RUNNER> reqset-hook <pip argv...>`: the
 * runner is a constant, every value reaches it through the environment or
 * "$@", never spliced into shell text.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { sha256 } from '../fsutil.ts';
import { isValidName, normalizeName } from '../python/names.ts';
import { SYSTEM_PACKAGE, type PackageFamily } from './containerfile.ts';

export interface HookPackages {
  /** BUILD_PACKAGES: for every builder. */
  all: string[];
  /** BUILD_PACKAGES_DEB */
  deb: string[];
  /** BUILD_PACKAGES_RPM */
  rpm: string[];
}

export interface Hook {
  /** PEP 503 normalized distribution name. */
  key: string;
  /** Absolute path of the hook file. */
  file: string;
  /** sha256 of the file's bytes: part of the cache key of its package's wheel. */
  sha256: string;
  packages: HookPackages;
}

export type Hooks = ReadonlyMap<string, Hook>;

export const HOOKS_DIR = path.join('packaging', 'hooks');

const VARIABLES: Record<string, keyof HookPackages> = { BUILD_PACKAGES: 'all', BUILD_PACKAGES_DEB: 'deb', BUILD_PACKAGES_RPM: 'rpm' };

const ASSIGNMENT = /^(?:export\s+)?(BUILD_PACKAGES\w*)=(.*)$/;
/** A literal value then an optional comment. */
const VALUE = /^(?:"([^"$`\\]*)"|'([^']*)'|([A-Za-z0-9+._:-]*))\s*(?:#.*)?$/;

/** The BUILD_PACKAGES* lists of a hook's text; every problem reported at once as `file:line: ...`. */
export function parseHookPackages(text: string, file: string): HookPackages {
  const packages: HookPackages = { all: [], deb: [], rpm: [] };
  const seen = new Set<string>();
  const problems: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    const where = `${file}:${index + 1}`;
    const assignment = ASSIGNMENT.exec(line);
    if (!assignment) {
      if (/BUILD_PACKAGES\w*\+?=/.test(line) && !/^\s*#/.test(line)) {
        problems.push(`${where}: BUILD_PACKAGES is read without running the hook: set it at the start of a line, once, to a literal list (BUILD_PACKAGES="libfoo-dev libbar-dev")`);
      }
      return;
    }
    const [, name = '', rawValue = ''] = assignment;
    const field = VARIABLES[name];
    if (!field) {
      problems.push(`${where}: unknown variable ${name}: use BUILD_PACKAGES (every builder), BUILD_PACKAGES_DEB (apt) or BUILD_PACKAGES_RPM (dnf)`);
      return;
    }
    if (seen.has(name)) {
      problems.push(`${where}: ${name} is set twice: set it once, with every package`);
      return;
    }
    seen.add(name);
    const value = VALUE.exec(rawValue.trimEnd());
    if (!value) {
      problems.push(`${where}: ${name} must be a literal list in quotes, without $, backquotes or backslashes (e.g. ${name}="libfoo-dev libbar-dev")`);
      return;
    }
    const names = (value[1] ?? value[2] ?? value[3] ?? '').split(/\s+/).filter(Boolean);
    const bad = names.filter((n) => !SYSTEM_PACKAGE.test(n));
    if (bad.length) {
      problems.push(`${where}: ${name}: not system package names: ${bad.join(', ')} (no version relations; the builder image pins versions)`);
      return;
    }
    packages[field] = names;
  });
  if (problems.length) throw new InputError(`${file}: invalid build hook`, problems);
  return packages;
}

/** The system packages a hook needs on a builder of the given family. */
export function hookPackagesFor(hook: Hook, family: PackageFamily): string[] {
  return [...new Set([...hook.packages.all, ...hook.packages[family]])].sort();
}

/** The hooks of `dir` (usually `<workspace>/packaging/hooks`), by normalized name; none when it does not exist. */
export async function loadHooks(dir: string): Promise<Map<string, Hook>> {
  const hooks = new Map<string, Hook>();
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return hooks;
    throw error;
  }
  const problems: string[] = [];
  for (const entry of entries.sort()) {
    if (!entry.endsWith('.sh')) continue;
    const file = path.resolve(dir, entry);
    const stem = entry.slice(0, -3);
    if (!isValidName(stem)) {
      problems.push(`${file}: ${JSON.stringify(stem)} is not a distribution name: name the hook <distribution>.sh`);
      continue;
    }
    const key = normalizeName(stem);
    const other = hooks.get(key);
    if (other) {
      problems.push(`${file}: ${path.basename(other.file)} is the hook of ${key} too: keep one`);
      continue;
    }
    const bytes = await readFile(file);
    try {
      hooks.set(key, { key, file, sha256: sha256(bytes), packages: parseHookPackages(bytes.toString('utf8'), file) });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length) throw new InputError('invalid build hooks', problems);
  return hooks;
}

/** Cache-key inputs of a hook: only the packages it belongs to get them. */
export function hookKeyInputs(hook: Hook | undefined): Record<string, string> {
  return hook ? { hook: hook.sha256 } : {};
}

/**
 * The constant bash program that runs a build with a hook: `$REQSET_HOOK`
 * sourced with `set -e`, then pre_build, then build "$@" or "$@" itself.
 */
export const HOOK_RUNNER = [
  'set -eo pipefail',
  'source "$REQSET_HOOK"',
  'if declare -F pre_build >/dev/null; then pre_build; fi',
  'if declare -F build >/dev/null; then build "$@"; else "$@"; fi',
].join('\n');

/** Values a hook sees, besides PIP_CONFIG_FILE, PIP_CONSTRAINT, SOURCE_DATE_EPOCH and PYTHONHASHSEED. */
export interface HookContext {
  distribution: string;
  version: string;
  target: string;
  /** The target's package format, when known. */
  format?: 'rpm' | 'deb';
  python: string;
  wheelDir: string;
  sdist?: string;
}

/** argv and environment of a build run through a hook. */
export function hookCommand(hook: Hook, argv: string[], context: HookContext): { argv: string[]; env: Record<string, string> } {
  return {
    argv: ['bash', '-c', HOOK_RUNNER, 'reqset-hook', ...argv],
    env: {
      REQSET_HOOK: hook.file,
      REQSET_HOOKS_DIR: path.dirname(hook.file),
      REQSET_DISTRIBUTION: context.distribution,
      REQSET_VERSION: context.version,
      REQSET_TARGET: context.target,
      REQSET_FORMAT: context.format ?? '',
      PYTHON: context.python,
      WHEEL_DIR: context.wheelDir,
      SDIST: context.sdist ?? '',
    },
  };
}
