/**
 * Fixtures for `reqset_runtime.py install-venv`: unpacked wheel trees made the
 * way wheel packages install them (openWheel + extractTo), from the example
 * reqset built offline with pip and from the wheel corpus, and small tools to
 * look at a virtualenv (a listing with hashes, grep, RECORD validation).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../../src/api.ts';
import { run, type RunResult } from '../../src/run.ts';
import { extractWheel } from '../../src/wheels/extract.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { corpusWheel, targetPython } from './env.ts';
import { makeWheel } from './make-wheel.ts';
import { RUNTIME_HELPER, parseJsonLine } from './runtime-fixtures.ts';
import { makeWorkspace, reqsset3Pins } from './workspace.ts';

export { RUNTIME_HELPER };

/** Debian 12's interpreter: the debian12 target's Python. */
export const PYTHON311 = targetPython('3.11');
/** el8's Python, the oldest the helper supports. */
export const PYTHON36 = targetPython('3.6');
export const PYTHON313 = targetPython('3.13');

/** The numpy + Flask closure of the corpus (file name prefixes). */
export const CORPUS_CLOSURE = ['numpy-2.4.6-', 'Flask-3.1.3-', 'Werkzeug-3.1.8-', 'Jinja2-3.1.6-', 'MarkupSafe-3.0.3-', 'itsdangerous-2.2.0-', 'click-8.4.0-', 'blinker-1.9.0-'];

/** The corpus wheels of CORPUS_CLOSURE (async, as bench/venv.ts awaits it). */
export async function corpusClosure(): Promise<{ wheels: string[] }> {
  return { wheels: CORPUS_CLOSURE.map(corpusWheel) };
}

/**
 * Builds the example reqset (reqsset3 pins, with version overrides) offline
 * for debian12 with pip and returns its wheel files (setuptools and wheel,
 * which are build requirements only, left out). Pass the same `wheelCache` to
 * rebuild only what changed.
 */
export async function buildExampleWheels(workDir: string, options: { versions?: Record<string, string>; wheelCache: string }): Promise<string[]> {
  const ws = await makeWorkspace({ versions: options.versions, cache: options.wheelCache });
  await ws.writeReqset('ex', `--no-index\n--find-links ../dist-src\n${reqsset3Pins(options.versions)}\n`);
  const out = path.join(workDir, `wheels-${Object.entries(options.versions ?? {}).map(([k, v]) => `${k}-${v}`).join('-') || 'base'}`);
  try {
    const result = await api.wheels('ex', 'debian12', { workspace: ws.dir, out: ws.out, wheelCache: options.wheelCache });
    await mkdir(out, { recursive: true });
    const wheels: string[] = [];
    for (const file of (await readdir(result.wheelsDir)).sort()) {
      if (file.startsWith('setuptools-') || file.startsWith('wheel-')) continue;
      const target = path.join(out, file);
      await run(['cp', path.join(result.wheelsDir, file), target]);
      wheels.push(target);
    }
    return wheels;
  } finally {
    await ws.cleanup();
  }
}

/** Unpacks each wheel to `<dir>/<wheel stem>/` exactly as a wheel package installs it; returns the trees. */
export async function makeTrees(wheels: string[], dir: string): Promise<string[]> {
  const trees: string[] = [];
  for (const wheel of wheels) {
    const tree = path.join(dir, path.basename(wheel, '.whl'));
    if (!existsSync(tree)) {
      const source = await openWheel(wheel);
      try {
        await extractWheel(source, tree);
      } finally {
        await source.close();
      }
    }
    trees.push(tree);
  }
  return trees;
}

/** A wheel whose package raises on import. */
export function makeBoomWheel(dir: string): Promise<string> {
  return makeWheel(dir, { name: 'boom', version: '1.0', files: { 'boom/__init__.py': 'raise RuntimeError("boom on import")\n' } });
}

/**
 * A pure wheel that uses every part of the binary distribution format: a
 * package, `.data/scripts` with a `#!python` header, `.data/headers`,
 * `.data/data`, `.data/purelib`, console and gui entry points, and
 * requirements with markers (textfmt, and nothing for old Pythons).
 */
export function makeFullWheel(dir: string, options: { requires?: string[] } = {}): Promise<string> {
  return makeWheel(dir, {
    name: 'fullpkg',
    version: '2.0.1',
    files: {
      'fullpkg/__init__.py': 'VERSION = "2.0.1"\n',
      'fullpkg/cli.py': [
        'import sys',
        'def main():',
        '    print("fullpkg main " + " ".join(sys.argv[1:]))',
        '    return 0',
        'class App:',
        '    @staticmethod',
        '    def gui():',
        '        print("fullpkg gui")',
        '        return 3',
        '',
      ].join('\n'),
      'fullpkg-2.0.1.data/scripts/fullpkg-tool': '#!python\nimport sys\nprint("tool", sys.executable)\n',
      'fullpkg-2.0.1.data/scripts/fullpkg-sh': '#!/bin/sh\necho shell script\n',
      'fullpkg-2.0.1.data/headers/fullpkg.h': '#define FULLPKG 1\n',
      'fullpkg-2.0.1.data/data/share/fullpkg/readme.txt': 'data file\n',
      'fullpkg-2.0.1.data/purelib/fullpkg_extra.py': 'EXTRA = True\n',
    },
    memberOptions: { 'fullpkg-2.0.1.data/scripts/fullpkg-sh': { mode: 0o100755 } },
    metadata: { 'Requires-Dist': options.requires ?? ['textfmt>=1.0', 'nosuchdist>=1; python_version < "3"', 'alsonot; extra == "never"'] },
    entryPoints: '[console_scripts]\nfullpkg = fullpkg.cli:main\n\n[gui_scripts]\nfullpkg-gui = fullpkg.cli:App.gui\n',
  });
}

// ---------------------------------------------------------------------------
// Running the helper

export interface InstallReport {
  venv: string;
  python: string;
  installer: 'native' | 'pip';
  dists: string[];
  files: number;
  linked: number;
  copied: number;
  written: number;
  compiled: number;
  reused_pyc: number;
  not_compiled: number;
  requirements_checked: number;
  imports_checked: string[];
  notes: string[];
  replaced: boolean;
  swap: string;
  leftovers_removed: number;
  seconds: Record<string, number>;
}

export function helper(python: string, args: string[], env?: Record<string, string>): Promise<RunResult> {
  return run([python, RUNTIME_HELPER, ...args], { allowFailure: true, env, timeoutMs: 600_000 });
}

/** `install-venv --venv venv --tree ...`, expected to succeed; its JSON report. */
export async function installVenv(python: string, venv: string, trees: string[], extra: string[] = []): Promise<InstallReport> {
  const result = await helper(python, ['install-venv', '--venv', venv, ...trees.flatMap((t) => ['--tree', t]), ...extra]);
  if (result.exitCode !== 0) throw new Error(`install-venv failed (${result.exitCode}): ${result.stderr}`);
  if (result.stderr !== '') throw new Error(`install-venv wrote to stderr: ${result.stderr}`);
  return parseJsonLine<InstallReport>(result.stdout);
}

// ---------------------------------------------------------------------------
// Looking at a virtualenv

/** Every entry under `dir`: relative path -> "dir <mode>", "link -> target" or "file <mode> <sha256>". */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(dir, rel))).sort()) {
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, relPath);
      const st = await lstat(full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(relPath, `link -> ${await readlink(full)}`);
      else if (st.isDirectory()) {
        out.set(relPath, `dir ${mode}`);
        await walk(relPath);
      } else out.set(relPath, `file ${mode} ${createHash('sha256').update(await readFile(full)).digest('hex')}`);
    }
  };
  await walk('');
  return out;
}

/** Files under `dir` that contain `needle` (real `grep -r`, which does not follow symlinks). */
export async function grepTree(dir: string, needle: string): Promise<string[]> {
  const result = await run(['grep', '-r', '-l', '-F', '-a', '--', needle, dir], { allowFailure: true });
  if (result.exitCode === 1) return [];
  if (result.exitCode !== 0) throw new Error(`grep failed: ${result.stderr}`);
  return result.stdout.split('\n').filter((l) => l !== '');
}

/** Entries of `parent` that are leftovers of a venv named `name`. */
export async function leftovers(parent: string, name: string): Promise<string[]> {
  return (await readdir(parent)).filter((e) => e.startsWith(`${name}.new-`) || e.startsWith(`${name}.old-`));
}

export function sitePackages(venv: string, pythonVersion: string): string {
  return path.join(venv, 'lib', `python${pythonVersion}`, 'site-packages');
}

function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else value += line[i++];
      }
      fields.push(value);
      i++;
    } else {
      const end = line.indexOf(',', i);
      fields.push(line.slice(i, end === -1 ? line.length : end));
      i = end === -1 ? line.length + 1 : end + 1;
    }
  }
  return fields;
}

/**
 * Checks every RECORD under site-packages: each row's file exists with that
 * sha256 and size, and every file under site-packages belongs to a RECORD.
 * Returns the problems (empty when all is well) and the rows by dist-info.
 */
export async function recordProblems(site: string): Promise<{ problems: string[]; rows: Map<string, string[][]> }> {
  const problems: string[] = [];
  const rows = new Map<string, string[][]>();
  const listed = new Set<string>();
  for (const entry of (await readdir(site)).filter((e) => e.endsWith('.dist-info')).sort()) {
    const text = await readFile(path.join(site, entry, 'RECORD'), 'utf8');
    const parsed = text.split('\n').filter((l) => l !== '').map(parseCsvLine);
    rows.set(entry, parsed);
    for (const [rel = '', hash = '', size = ''] of parsed) {
      const full = path.resolve(site, rel);
      listed.add(full);
      if (rel === `${entry}/RECORD`) {
        if (hash !== '' || size !== '') problems.push(`${rel}: RECORD's own row has a hash`);
        continue;
      }
      if (!existsSync(full)) {
        problems.push(`${rel}: listed in ${entry}/RECORD but missing`);
        continue;
      }
      const data = await readFile(full);
      if (!hash.startsWith('sha256=')) problems.push(`${rel}: not a sha256 row (${hash})`);
      else if (hash !== `sha256=${createHash('sha256').update(data).digest('base64url')}`) problems.push(`${rel}: hash mismatch`);
      if (size !== String(data.length)) problems.push(`${rel}: size ${size}, file has ${data.length}`);
    }
  }
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = path.join(dir, name);
      const st = await lstat(full);
      if (st.isDirectory()) await walk(full);
      else if (!listed.has(full)) problems.push(`${path.relative(site, full)}: in site-packages but in no RECORD`);
    }
  };
  await walk(site);
  return { problems, rows };
}
