/**
 * Builds the sdists of the example projects under examples/ (the sources of the
 * bundled reqset `reqsset3`) into a find-links directory, together with the two
 * wheels an offline setuptools build needs (setuptools from the builder
 * Python's ensurepip bundle, wheel from Debian's python3-wheel-whl).
 *
 * The archives are deterministic: sorted entries, fixed mtime, owner 0/0, fixed
 * modes and a gzip header without a timestamp, so two runs give byte-identical
 * files (reqset caches wheels by content).
 *
 *   node --import tsx scripts/example-sdists.ts [OUTDIR] [--set-version NAME=VERSION]...
 *
 * OUTDIR defaults to examples/dist. --set-version rewrites a project's version
 * (in the archive's pyproject.toml and PKG-INFO, and in the file name), e.g. to
 * make an upgrade.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import pep440 from '@renovatebot/pep440';
import { InputError, isReportable } from '../src/errors.ts';
import { run } from '../src/run.ts';

export interface ExampleSdistOptions {
  /** Version overrides, keyed by distribution name (any PEP 503 spelling). */
  versions?: Record<string, string>;
  /** The builder's interpreter, whose ensurepip bundle provides setuptools. Default `python3`. */
  python?: string;
}

/** The setuptools that reqsset3 pins and that ensurepip of CPython 3.11 bundles. */
export const SETUPTOOLS_WHEEL = 'setuptools-65.5.0-py3-none-any.whl';
/** Where Debian's python3-wheel-whl puts its wheel. */
export const DEBIAN_WHEELS_DIR = '/usr/share/python-wheels';

export const EXAMPLES_DIR = fileURLToPath(new URL('../examples/', import.meta.url));
const DEFAULT_OUT_DIR = path.join(EXAMPLES_DIR, 'dist');

/** 2020-01-01T00:00:00Z: the mtime of every archive entry. */
const FIXED_MTIME = 1577836800;
/** Not part of an sdist. */
const SKIPPED_NAMES = new Set(['__pycache__', 'build', 'dist', '.git', '.tox', '.venv', 'PKG-INFO']);
const SKIPPED_SUFFIXES = ['.pyc', '.pyo', '.so', '.o', '.egg-info'];

interface ProjectMetadata {
  name: string;
  version: string;
  summary?: string;
  license?: string;
  requiresPython?: string;
  dependencies: string[];
  readme?: string;
}

interface ArchiveEntry {
  /** Path inside the archive, `/`-separated, without a trailing slash. */
  name: string;
  type: 'file' | 'dir';
  data: Buffer;
}

function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** The name as it appears in sdist and wheel file names. */
function fileNameName(name: string): string {
  return name.replace(/[-_.]+/g, '_').toLowerCase();
}

// ---------------------------------------------------------------------------
// pyproject.toml: just enough TOML for the [project] table of our own examples.

function tomlString(raw: string, file: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    throw new InputError(`${file}: cannot read the TOML string ${raw}`);
  }
}

function projectTableRange(lines: string[]): [number, number] | undefined {
  const start = lines.findIndex((line) => line.trim() === '[project]');
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && !/^\s*\[/.test(lines[end] ?? '')) end++;
  return [start + 1, end];
}

function readProjectMetadata(text: string, file: string): ProjectMetadata {
  const lines = text.split('\n');
  const range = projectTableRange(lines);
  if (!range) throw new InputError(`${file}: no [project] table`);
  const values = new Map<string, string | string[]>();
  for (let i = range[0]; i < range[1]; i++) {
    const line = lines[i] ?? '';
    const m = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = m[1] ?? '';
    let value = (m[2] ?? '').trim();
    if (value.startsWith('"')) {
      const s = /^"(?:[^"\\]|\\.)*"/.exec(value);
      if (s) values.set(key, tomlString(s[0], file));
    } else if (value.startsWith('[')) {
      while (!value.includes(']') && i + 1 < range[1]) value += `\n${lines[++i] ?? ''}`;
      values.set(key, [...value.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((s) => tomlString(s[0], file)));
    } else if (value.startsWith('{')) {
      const t = /\btext\s*=\s*("(?:[^"\\]|\\.)*")/.exec(value);
      if (key === 'license' && t?.[1]) values.set(key, tomlString(t[1], file));
    }
  }
  const str = (key: string): string | undefined => {
    const v = values.get(key);
    return typeof v === 'string' ? v : undefined;
  };
  const name = str('name');
  const version = str('version');
  if (!name || !version) throw new InputError(`${file}: [project] needs a literal name and version`);
  const deps = values.get('dependencies');
  return {
    name,
    version,
    summary: str('description'),
    license: str('license'),
    requiresPython: str('requires-python'),
    dependencies: Array.isArray(deps) ? deps : [],
    readme: str('readme'),
  };
}

function setProjectVersion(text: string, version: string, file: string): string {
  const lines = text.split('\n');
  const range = projectTableRange(lines);
  if (range) {
    for (let i = range[0]; i < range[1]; i++) {
      if (/^\s*version\s*=/.test(lines[i] ?? '')) {
        lines[i] = `version = ${JSON.stringify(version)}`;
        return lines.join('\n');
      }
    }
  }
  throw new InputError(`${file}: no version = "..." line in [project] to override`);
}

function pkgInfo(meta: ProjectMetadata, readmeText: string | undefined): string {
  const lines = ['Metadata-Version: 2.1', `Name: ${meta.name}`, `Version: ${meta.version}`];
  if (meta.summary) lines.push(`Summary: ${meta.summary}`);
  if (meta.license) lines.push(`License: ${meta.license}`);
  if (meta.requiresPython) lines.push(`Requires-Python: ${meta.requiresPython}`);
  for (const dep of meta.dependencies) lines.push(`Requires-Dist: ${dep}`);
  if (readmeText !== undefined) {
    lines.push('Description-Content-Type: text/markdown', '', readmeText.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// A minimal deterministic ustar writer.

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function splitUstarName(name: string): [prefix: string, name: string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return [prefix, rest];
  }
  throw new InputError(`path too long for a ustar archive: ${name}`);
}

function ustarHeader(entry: ArchiveEntry): Buffer {
  const header = Buffer.alloc(512, 0);
  const isDir = entry.type === 'dir';
  const [prefix, name] = splitUstarName(isDir ? `${entry.name}/` : entry.name);
  const put = (text: string, offset: number, width: number) => {
    header.write(text, offset, Math.min(Buffer.byteLength(text), width), 'utf8');
  };
  put(name, 0, 100);
  put(octal(isDir ? 0o755 : 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8); // uid
  put(octal(0, 8), 116, 8); // gid
  put(octal(isDir ? 0 : entry.data.length, 12), 124, 12);
  put(octal(FIXED_MTIME, 12), 136, 12);
  put('        ', 148, 8); // checksum placeholder: spaces
  put(isDir ? '5' : '0', 156, 1);
  put('ustar\u000000', 257, 8); // magic "ustar\0" + version "00"
  put('root', 265, 32);
  put('root', 297, 32);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

function ustar(entries: ArchiveEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(ustarHeader(entry));
    if (entry.type === 'file' && entry.data.length > 0) {
      parts.push(entry.data);
      const pad = (512 - (entry.data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(1024, 0)); // two zero blocks end the archive
  const tarball = Buffer.concat(parts);
  // Pad to a whole 10 KiB record, as tar(1) and Python's tarfile do.
  const record = 10240;
  const rest = tarball.length % record;
  return rest ? Buffer.concat([tarball, Buffer.alloc(record - rest, 0)]) : tarball;
}

/** gzip with no name and mtime 0 in the header (Node writes neither). */
function gzip(data: Buffer): Buffer {
  return gzipSync(data, { level: 9 });
}

// ---------------------------------------------------------------------------

async function listProjectFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const dirents = await readdir(path.join(root, rel), { withFileTypes: true });
  for (const d of dirents) {
    if (d.name.startsWith('.') || SKIPPED_NAMES.has(d.name) || SKIPPED_SUFFIXES.some((s) => d.name.endsWith(s))) continue;
    const relPath = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) {
      out.push(`${relPath}/`, ...(await listProjectFiles(root, relPath)));
    } else if (d.isFile()) {
      out.push(relPath);
    }
  }
  return out;
}

/** The example project directories: every examples/<dir>/pyproject.toml, sorted. */
export async function exampleProjectDirs(examplesDir: string = EXAMPLES_DIR): Promise<string[]> {
  const dirs: string[] = [];
  for (const d of await readdir(examplesDir, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name === 'dist' || d.name.startsWith('.')) continue;
    const dir = path.join(examplesDir, d.name);
    if (await exists(path.join(dir, 'pyproject.toml'))) dirs.push(dir);
  }
  return dirs.sort();
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Write via a temporary file in the same directory, then rename: never a half-written archive. */
async function writeAtomically(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${createHash('sha256').update(file).digest('hex').slice(0, 8)}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

async function buildSdist(projectDir: string, outDir: string, versionOverride: string | undefined): Promise<string> {
  const pyprojectFile = path.join(projectDir, 'pyproject.toml');
  let pyproject = await readFile(pyprojectFile, 'utf8');
  if (versionOverride !== undefined) pyproject = setProjectVersion(pyproject, versionOverride, pyprojectFile);
  const meta = readProjectMetadata(pyproject, pyprojectFile);
  const readmeText = meta.readme ? await readFile(path.join(projectDir, meta.readme), 'utf8') : undefined;

  const top = `${fileNameName(meta.name)}-${meta.version}`;
  const files = await listProjectFiles(projectDir);
  const entries: ArchiveEntry[] = [
    { name: top, type: 'dir', data: Buffer.alloc(0) },
    { name: `${top}/PKG-INFO`, type: 'file', data: Buffer.from(pkgInfo(meta, readmeText), 'utf8') },
  ];
  for (const rel of files) {
    if (rel.endsWith('/')) {
      entries.push({ name: `${top}/${rel.slice(0, -1)}`, type: 'dir', data: Buffer.alloc(0) });
    } else {
      const data = rel === 'pyproject.toml' ? Buffer.from(pyproject, 'utf8') : await readFile(path.join(projectDir, rel));
      entries.push({ name: `${top}/${rel}`, type: 'file', data });
    }
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const file = path.join(outDir, `${top}.tar.gz`);
  await writeAtomically(file, gzip(ustar(entries)));
  return file;
}

async function copyBootstrapWheels(outDir: string, python: string): Promise<string[]> {
  const { stdout } = await run([
    python,
    '-c',
    "import ensurepip, os; print(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled'))",
  ]);
  const bundled = stdout.trim();
  const setuptools = path.join(bundled, SETUPTOOLS_WHEEL);
  if (!(await exists(setuptools))) {
    throw new InputError(
      `${SETUPTOOLS_WHEEL} is not in ${python}'s ensurepip bundle (${bundled}); ` +
        'use a CPython 3.11 as the builder python (e.g. pyenv 3.11.7), which bundles exactly that wheel',
    );
  }
  let debianWheels: string[] = [];
  try {
    debianWheels = (await readdir(DEBIAN_WHEELS_DIR)).filter((f) => /^wheel-.+\.whl$/.test(f)).sort();
  } catch {
    // reported below
  }
  const wheel = debianWheels.at(-1);
  if (!wheel) {
    throw new InputError(
      `no wheel-*.whl in ${DEBIAN_WHEELS_DIR}: install it with \`apt-get install python3-wheel-whl\` ` +
        '(or run scripts/setup-debian.sh)',
    );
  }
  const written: string[] = [];
  for (const source of [setuptools, path.join(DEBIAN_WHEELS_DIR, wheel)]) {
    const target = path.join(outDir, path.basename(source));
    await writeAtomically(target, await readFile(source));
    written.push(target);
  }
  return written;
}

/**
 * Writes `<name>-<version>.tar.gz` for every example project, plus the
 * setuptools and wheel wheels, into `outDir`. Returns the paths written.
 */
export async function buildExampleSdists(outDir: string, options: ExampleSdistOptions = {}): Promise<string[]> {
  const projects = await exampleProjectDirs();
  const names = new Map<string, string>(); // normalized name -> project dir
  for (const dir of projects) {
    const file = path.join(dir, 'pyproject.toml');
    names.set(normalizeName(readProjectMetadata(await readFile(file, 'utf8'), file).name), dir);
  }
  const overrides = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, version] of Object.entries(options.versions ?? {})) {
    const key = normalizeName(name);
    if (!names.has(key)) problems.push(`${name}: not an example project (known: ${[...names.keys()].join(', ')})`);
    else if (!pep440.valid(version)) problems.push(`${name}: ${JSON.stringify(version)} is not a PEP 440 version`);
    else overrides.set(key, version);
  }
  if (problems.length) throw new InputError('bad version override', problems);

  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const [key, dir] of [...names.entries()].sort()) {
    written.push(await buildSdist(dir, outDir, overrides.get(key)));
  }
  written.push(...(await copyBootstrapWheels(outDir, options.python ?? 'python3')));
  return written;
}

// ---------------------------------------------------------------------------
// CLI

function usage(): string {
  return 'usage: node --import tsx scripts/example-sdists.ts [OUTDIR] [--set-version NAME=VERSION]...';
}

async function main(argv: string[]): Promise<void> {
  let outDir: string | undefined;
  const versions: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help') {
      console.log(usage());
      return;
    }
    if (arg === '--set-version' || arg.startsWith('--set-version=')) {
      const value = arg === '--set-version' ? argv[++i] : arg.slice('--set-version='.length);
      const m = /^([^=]+)=(.+)$/.exec(value ?? '');
      if (!m?.[1] || !m[2]) throw new InputError(`--set-version needs NAME=VERSION\n${usage()}`);
      versions[m[1]] = m[2];
    } else if (arg.startsWith('-') || outDir !== undefined) {
      throw new InputError(`unexpected argument ${JSON.stringify(arg)}\n${usage()}`);
    } else {
      outDir = arg;
    }
  }
  const written = await buildExampleSdists(path.resolve(outDir ?? DEFAULT_OUT_DIR), { versions });
  for (const file of written) console.log(file);
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    if (isReportable(error)) {
      console.error(`example-sdists: ${error.message}`);
      process.exit(error.exitCode);
    }
    throw error;
  });
}
