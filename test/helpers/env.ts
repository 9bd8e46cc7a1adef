/**
 * The one place tests learn their environment from: target interpreters, the
 * wheel corpus, the wheels an offline setuptools build needs. Something
 * missing is an error that names it and what provides it, so a test fails
 * where it would otherwise silently not run.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/run.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const SETUP_PYENV = 'pyenv installs Python 3.6 to 3.13 on these machines (`pyenv install <version>` adds one)';
const SETUP_DEBIAN = 'scripts/setup-debian.sh installs it';

export class MissingTestEnvironment extends Error {
  constructor(what: string, provider: string) {
    super(`test environment: ${what} is missing; ${provider}`);
    this.name = 'MissingTestEnvironment';
  }
}

/** `pyenv root` (PYENV_ROOT when set, as pyenv itself does). */
async function findPyenvRoot(): Promise<string> {
  if (process.env.PYENV_ROOT) return process.env.PYENV_ROOT;
  const result = await run(['pyenv', 'root'], { allowFailure: true }).catch(() => null);
  return result?.exitCode === 0 ? result.stdout.trim() : path.join(homedir(), '.pyenv');
}

const PYENV_ROOT = await findPyenvRoot();

/** The newest `X.Y.Z` pyenv version of `minor` ("3.6"). */
function pyenvPython(minor: string): string {
  const versions = path.join(PYENV_ROOT, 'versions');
  const patches = existsSync(versions)
    ? readdirSync(versions)
        .filter((v) => v.startsWith(`${minor}.`) && /^\d+\.\d+\.\d+$/.test(v))
        .map((v) => ({ v, patch: Number(v.split('.')[2]) }))
        .sort((a, b) => b.patch - a.patch)
    : [];
  const python = patches.map(({ v }) => path.join(versions, v, 'bin', `python${minor}`)).find((p) => existsSync(p));
  if (!python) throw new MissingTestEnvironment(`Python ${minor} (${versions}/${minor}.*/bin/python${minor})`, SETUP_PYENV);
  return python;
}

/** Debian 12's interpreter: the debian12 target's Python, with venv. */
export function debianPython(): string {
  const python = '/usr/bin/python3.11';
  if (!existsSync(python) || !existsSync('/usr/lib/python3.11/ensurepip')) throw new MissingTestEnvironment(`${python} with venv (python3-venv)`, SETUP_DEBIAN);
  return python;
}

/** The helper's target interpreters: el8's 3.6 up to 3.13 (3.11 is Debian's own). */
export const TARGET_PYTHON_VERSIONS = ['3.6', '3.9', '3.11', '3.13'] as const;
export type TargetPythonVersion = (typeof TARGET_PYTHON_VERSIONS)[number];

export function targetPython(version: TargetPythonVersion): string {
  return version === '3.11' ? debianPython() : pyenvPython(version);
}

export function targetPythons(): Record<TargetPythonVersion, string> {
  return Object.fromEntries(TARGET_PYTHON_VERSIONS.map((v) => [v, targetPython(v)])) as Record<TargetPythonVersion, string>;
}

/** ../shared/corpus/wheels: real third-party wheels, laid beside the clone (CI included). */
export function corpusWheelsDir(): string {
  const dir = path.resolve(REPO_ROOT, '..', 'shared', 'corpus', 'wheels');
  if (!existsSync(dir)) throw new MissingTestEnvironment(`the wheel corpus ${dir}`, 'it comes with ../shared, beside the repository');
  return dir;
}

/** The corpus wheel whose file name starts with `prefix` ("numpy-2.4.6-"). */
export function corpusWheel(prefix: string): string {
  const dir = corpusWheelsDir();
  const file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  if (!file) throw new MissingTestEnvironment(`the corpus wheel ${prefix}*.whl in ${dir}`, 'it comes with ../shared, beside the repository');
  return path.join(dir, file);
}

/** The first `<prefix>*.whl` in `dir`, or null. */
function wheelIn(dir: string, prefix: string): string | null {
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl')) : undefined;
  return file ? path.join(dir, file) : null;
}

/**
 * What an offline `pip wheel` of a setuptools project needs: pyenv 3.11's
 * bundled setuptools (Debian's is patched for Debian's Python only) and
 * Debian's wheel.
 */
export function buildWheels(): string[] {
  const bundled = path.join(path.dirname(path.dirname(pyenvPython('3.11'))), 'lib', 'python3.11', 'ensurepip', '_bundled');
  const setuptools = wheelIn(bundled, 'setuptools-');
  if (!setuptools) throw new MissingTestEnvironment(`${bundled}/setuptools-*.whl`, SETUP_PYENV);
  const wheel = wheelIn('/usr/share/python-wheels', 'wheel-');
  if (!wheel) throw new MissingTestEnvironment('/usr/share/python-wheels/wheel-*.whl (python3-wheel-whl)', SETUP_DEBIAN);
  return [setuptools, wheel];
}

/** Info-ZIP `zip`, for archives made the way many old wheels were. */
export function infoZip(): string {
  const zip = ['/usr/bin/zip', '/bin/zip'].find((p) => existsSync(p));
  if (!zip) throw new MissingTestEnvironment('Info-ZIP zip', SETUP_DEBIAN);
  return zip;
}

/** `python3 -m pyflakes` with Debian's python3-pyflakes. */
export function pyflakesPython(): string {
  const python = '/usr/bin/python3';
  if (!existsSync('/usr/lib/python3/dist-packages/pyflakes')) throw new MissingTestEnvironment('pyflakes (python3-pyflakes)', SETUP_DEBIAN);
  return python;
}
