/**
 * Shared-library dependencies of a staged .deb tree, as rpmbuild finds them
 * for RPM: what the ELF files need, minus what the package brings itself.
 * This file owns finding them: the ELF scan, the host's library search path,
 * dpkg's file lists, the per-build cache and the dpkg-shlibdeps fallback; the
 * Debian formats it reads and the relation rules are in symbols.ts.
 *
 * 1. ELF files are found by their header (executables and shared objects
 *    only); our own reader (`../elf-dynamic.ts`) gives each one's NEEDED,
 *    SONAME, RPATH and undefined symbols, in one read of each file.
 * 2. A NEEDED soname that is one of the plan's private libraries (wheel-bundled
 *    `*.libs/`) or the SONAME or file name of an ELF file in the package is
 *    satisfied inside the package. If nothing else is needed, we stop here.
 * 3. Otherwise `ShlibsResolver` computes what `dpkg-shlibdeps` would print
 *    for the tree (the same search, the same files, the same merging),
 *    mapping each library to the Debian package installed on the build
 *    machine and versioning it with the minimum its symbols (or shlibs) file
 *    gives for the symbols actually used, e.g. `libc6 (>= 2.14)`. One
 *    resolver lives as long as its DebPackager (one build): the library
 *    search path, dpkg's file lists and every symbols/shlibs file are read
 *    once for all the build's packages, with no process started.
 * 4. Where the resolver meets something it does not model (a symbols file
 *    with `#include`, a diverted library, a file owned by two packages, an
 *    ELF file it cannot read as objdump does...), that one package gets the
 *    real tool as before: `dpkg-shlibdeps` in a scratch directory holding the
 *    minimal `debian/control` it insists on; the tree's (empty) DEBIAN/ tells
 *    it which libraries belong to the package being built (found through
 *    `$ORIGIN` RPATHs, or the `-l` directories we add for every in-package
 *    library) and skips them. test/integration/shlibs-resolver.test.ts checks
 *    the resolver against dpkg-shlibdeps itself.
 * A soname that no installed package provides is a ToolError naming the file
 * (as installed on the target) and the soname.
 *
 * The build machine must therefore have the target's libraries installed (for
 * a Debian target: build on that release, e.g. in its builder image).
 */
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../errors.ts';
import { mapLimit } from '../../fsutil.ts';
import { run, traceNote } from '../../run.ts';
import { isLinkedElf } from '../elf.ts';
import { ET_DYN, fileAbi, readElfDynamic, UnsupportedElf, type ElfDynamic } from '../elf-dynamic.ts';
import type { PackagePlan } from '../packager.ts';
import { parseSymbolsFile, perlSplit, raiseVersion, renderRelations, shlibsEntry, smallestVersion, splitSoname, UnsupportedShlibs, type Relations, type SymbolsFile, type SymbolsObject } from './symbols.ts';
import { isWithin, type TreeEntry } from './tree.ts';

export interface ElfObject {
  /** Path relative to the tree. */
  rel: string;
  needed: string[];
  soname?: string;
  /** What our reader read, undefined symbols included, for the resolver; absent when readelf read the file instead. */
  elf?: ElfDynamic;
}

type ReadElfObject = ElfObject & { elf: ElfDynamic };

/** `objects` when our reader read each of them (the resolver needs what it read), else undefined. */
function readByOurReader(objects: ElfObject[]): ReadElfObject[] | undefined {
  return objects.every((o): o is ReadElfObject => o.elf !== undefined) ? objects : undefined;
}

/** Parses `readelf -d -W` output for `files` (given in this order). */
export function parseReadelf(output: string, files: readonly string[]): Map<string, { needed: string[]; soname?: string }> {
  const result = new Map<string, { needed: string[]; soname?: string }>();
  for (const file of files) result.set(file, { needed: [] });
  // With one file readelf prints no `File:` header.
  let current: string | undefined = files.length === 1 ? files[0] : undefined;
  for (const line of output.split('\n')) {
    const header = /^File: (.*)$/.exec(line);
    if (header) {
      current = header[1];
      continue;
    }
    const m = /\((NEEDED|SONAME)\)\s+.*?\[(.*)\]\s*$/.exec(line);
    if (!m || current === undefined) continue;
    const entry = result.get(current);
    if (!entry) throw new Error(`internal: readelf reported on an unexpected file ${current}`);
    if (m[1] === 'NEEDED') entry.needed.push(m[2] as string);
    else entry.soname = m[2] as string;
  }
  return result;
}

/** Files looked at at a time (a wheel can hold thousands of libraries). */
const FILE_CONCURRENCY = 16;

/**
 * The executables and shared objects of the tree, each read once with all
 * the resolver needs of it (undefined symbols included); `unreadable` names
 * the first one our reader could not read (readelf read it instead, and the
 * package gets dpkg-shlibdeps).
 */
export async function scanElf(dir: string, entries: readonly TreeEntry[]): Promise<{ objects: ElfObject[]; unreadable?: string }> {
  const candidates = entries.filter((entry) => entry.type === 'file' && entry.size >= 18);
  const linked = await mapLimit(candidates, FILE_CONCURRENCY, async (entry) => ((await isLinkedElf(path.join(dir, entry.rel))) ? entry.rel : undefined));
  const elf = linked.filter((rel): rel is string => rel !== undefined);
  let unreadable: string | undefined;
  const objects = await mapLimit(elf, FILE_CONCURRENCY, async (rel): Promise<ElfObject> => {
    try {
      const elf = await readElfDynamic(path.join(dir, rel), { symbols: true });
      return { rel, needed: elf.needed, ...(elf.soname !== undefined ? { soname: elf.soname } : {}), elf };
    } catch (error) {
      if (!(error instanceof UnsupportedElf)) throw error;
      unreadable ??= error.message;
      const file = path.join(dir, rel);
      const info = parseReadelf((await run(['readelf', '-d', '-W', file], { env: { LC_ALL: 'C' } })).stdout, [file]).get(file) ?? { needed: [] };
      return { rel, needed: info.needed, ...(info.soname ? { soname: info.soname } : {}) };
    }
  });
  return { objects, ...(unreadable !== undefined ? { unreadable } : {}) };
}

/** Names under which a NEEDED entry is satisfied inside the package. */
export function internalSonames(objects: readonly ElfObject[], privateLibraries: readonly string[]): Set<string> {
  const names = new Set(privateLibraries);
  for (const object of objects) {
    names.add(path.posix.basename(object.rel));
    if (object.soname) names.add(object.soname);
  }
  return names;
}

/** The sonames that must come from the system: `{ file (target path), soname }`, in file order. */
export function externalNeeds(objects: readonly ElfObject[], privateLibraries: readonly string[]): { file: string; soname: string }[] {
  const internal = internalSonames(objects, privateLibraries);
  return objects.flatMap((object) => object.needed.filter((soname) => !internal.has(soname)).map((soname) => ({ file: `/${object.rel}`, soname })));
}

/** The `shlibs:Depends` value printed by `dpkg-shlibdeps -O`, as a list of relations. */
export function parseShlibdepsOutput(stdout: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith('shlibs:Depends='));
  if (!line) return [];
  return line
    .slice('shlibs:Depends='.length)
    .split(',')
    .map((relation) => relation.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
}

const missingLibrary = (file: string, soname: string) => `${file} needs ${soname}, which is neither in the package nor in any library installed on the build machine`;
const unownedLibrary = (file: string, library: string) =>
  `${file} needs ${path.posix.basename(library)} (found at ${library}), which belongs to no installed Debian package (or its package has no shlibs/symbols file)`;

/** The file/soname problems in dpkg-shlibdeps' stderr, with target paths. */
export function shlibdepsProblems(stderr: string, treeDir: string): string[] {
  const toTarget = (file: string) => {
    const prefix = treeDir.endsWith('/') ? treeDir : `${treeDir}/`;
    return file.startsWith(prefix) ? `/${file.slice(prefix.length)}` : file;
  };
  const problems: string[] = [];
  for (const line of stderr.split('\n')) {
    const missing = /cannot find library (\S+) needed by (.+?) \(ELF format/.exec(line);
    if (missing) {
      problems.push(missingLibrary(toTarget(missing[2] as string), missing[1] as string));
      continue;
    }
    const unowned = /no dependency information found for (.+?) \(used by (.+?)\)\s*$/.exec(line);
    if (unowned) problems.push(unownedLibrary(toTarget(unowned[2] as string), unowned[1] as string));
  }
  return problems;
}

function shlibsFailure(name: string, body: string): ToolError {
  return new ToolError(
    `cannot compute the shared-library dependencies of ${name}:\n${body}` +
      `Build Debian packages on the target's release with the libraries installed, or bundle them in the wheel (auditwheel repair).`,
  );
}

// ---- The build machine's libraries ----------------------------------------------

const exists = (file: string) => access(file, constants.F_OK).then(() => true, () => false);

/** Dpkg::Path::canonpath: `.` and doubled `/` dropped, `dir/..` folded unless `dir` is a symbolic link. */
async function canonpath(file: string): Promise<string> {
  const absolute = file.startsWith('/');
  const parts = file.split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.pop() ?? '';
  const kept: string[] = [];
  for (const part of parts) {
    if (part !== '..' || (kept.length > 0 && kept[kept.length - 1] === '..')) {
      kept.push(part);
    } else if (kept.length === 0) {
      if (!absolute) kept.push(part);
    } else {
      const parent = `${absolute ? '/' : ''}${kept.join('/')}`;
      const isLink = await lstat(parent).then((s) => s.isSymbolicLink(), () => false);
      if (isLink) kept.push(part);
      else kept.pop();
    }
  }
  return `${absolute ? '/' : ''}${[...kept, name].join('/')}`;
}

/** Perl's glob for an ld.so.conf `include`: each word, `*`/`?` in the last component only. */
async function globWords(pattern: string): Promise<string[]> {
  const out: string[] = [];
  for (const word of pattern.split(/\s+/).filter(Boolean)) {
    const dir = path.posix.dirname(word);
    const base = path.posix.basename(word);
    if (/[*?[\]{}~]/.test(dir) || /[[\]{}]/.test(base)) throw new UnsupportedShlibs(`ld.so.conf include pattern ${word}`);
    if (!/[*?]/.test(base)) {
      out.push(word);
      continue;
    }
    const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.') && re.test(n));
    out.push(...names.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()) || (a < b ? -1 : 1)).map((n) => `${dir}/${n}`));
  }
  return out;
}

/** Dpkg::Shlibs::setup_library_paths: LD_LIBRARY_PATH, /lib, /usr/lib, ld.so.conf, the multilib directories. */
async function systemLibraryPaths(): Promise<string[]> {
  if (process.env.DEB_HOST_ARCH || process.env.DEB_TARGET_GNU_TYPE) throw new UnsupportedShlibs('a cross-build environment (DEB_HOST_ARCH / DEB_TARGET_GNU_TYPE)');
  const paths: string[] = [];
  for (const entry of perlSplit(process.env.LD_LIBRARY_PATH ?? '', /:/)) {
    if (entry === '') throw new UnsupportedShlibs('an empty LD_LIBRARY_PATH entry');
    if (await exists(entry)) paths.push(entry.replace(/\/+$/, ''));
  }
  paths.push('/lib', '/usr/lib');
  const visited = new Set<string>();
  const parse = async (file: string): Promise<void> => {
    visited.add(file);
    for (const raw of perlSplit(await readFile(file, 'utf8'), /\n/)) {
      if (/^\s*$/.test(raw)) continue;
      const line = raw.replace(/\/+$/, '');
      const include = /^include\s+(\S.*\S)\s*$/.exec(line);
      if (include) {
        for (const found of await globWords(include[1] as string)) if (!visited.has(found) && (await exists(found))) await parse(found);
      } else if (/^\s*\//.test(line)) {
        const dir = line.replace(/^\s+/, '');
        if (!paths.includes(dir)) paths.push(dir);
      }
    }
  };
  if (await exists('/etc/ld.so.conf')) await parse('/etc/ld.so.conf');
  paths.push('/lib32', '/usr/lib32', '/lib64', '/usr/lib64');
  return paths;
}

/**
 * Path -> the packages dpkg's file lists name for it, read once, for the
 * paths whose name has `.so` (packagesOf refuses others); and the diverted
 * paths.
 */
interface DpkgFiles {
  owners: Map<string, string[]>;
  diverted: Set<string>;
}

async function readDpkgFiles(admindir: string): Promise<DpkgFiles> {
  const info = path.join(admindir, 'info');
  const lists = (await readdir(info)).filter((name) => name.endsWith('.list')).sort();
  const owners = new Map<string, string[]>();
  const texts = await mapLimit(lists, FILE_CONCURRENCY, (name) => readFile(path.join(info, name), 'utf8'));
  lists.forEach((name, i) => {
    const pkg = name.slice(0, -'.list'.length);
    // Only shared-library-like paths: 2,000 of Debian 12's 120,000, for a fraction of the memory.
    for (const [line] of (texts[i] as string).matchAll(/^\/.*\.so[^/\n]*$/gm)) {
      const names = owners.get(line);
      if (names) names.push(pkg);
      else owners.set(line, [pkg]);
    }
  });
  const diversions = await readFile(path.join(admindir, 'diversions'), 'utf8').catch(() => '');
  const lines = diversions.split('\n');
  const diverted = new Set(lines.filter((_, i) => i % 3 !== 2 && lines[i] !== ''));
  return { owners, diverted };
}

// ---- The resolver ---------------------------------------------------------------

/** One scanned ELF file of the package: its libraries and what it uses from them. */
interface FileContext {
  root: string;
  rel: string;
  elf: ElfDynamic;
  libraryDirs: readonly string[];
  relations: Relations;
  /** The objects of the symbols files found so far for this file's sonames. */
  symbols: Map<string, SymbolsObject>;
  /** Every library path looked up for the package so far (dpkg-query --search answers for them all). */
  queried: Set<string>;
  /** Facts about the tree's files learnt for the package so far (the tree does not change while it is resolved). */
  treeFacts: Map<string, Promise<unknown>>;
}

const ADMINDIR = () => process.env.DPKG_ADMINDIR || '/var/lib/dpkg';
const SHLIBS_OVERRIDE = '/etc/dpkg/shlibs.override';
const SHLIBS_DEFAULT = '/etc/dpkg/shlibs.default';

/**
 * dpkg-shlibdeps' answer for a package's ELF files, from the host's dpkg
 * database, read once per resolver (per DebPackager, i.e. per build) and
 * shared by every package of it.
 */
export class ShlibsResolver {
  private systemPaths?: Promise<string[]>;
  private dpkgFiles?: Promise<DpkgFiles>;
  private readonly texts = new Map<string, Promise<string | undefined>>();
  private readonly symbolsFiles = new Map<string, SymbolsFile>();
  private readonly hostFacts = new Map<string, Promise<unknown>>();

  /**
   * The shared-library relations for the package in `treeDir` (which must
   * already contain its DEBIAN/ directory). `scratch` is an empty directory,
   * used only when the package needs dpkg-shlibdeps.
   */
  async depends(plan: PackagePlan, treeDir: string, entries: readonly TreeEntry[], scratch: string): Promise<string[]> {
    const job = await shlibsJob(plan, treeDir, entries);
    if (job.external.length === 0) return [];
    let why = job.unreadable;
    // Any file our reader could not read sends the whole package to dpkg-shlibdeps.
    const read = why === undefined ? readByOurReader(job.scanned) : undefined;
    if (read) {
      try {
        return await this.resolve(plan, job, read);
      } catch (error) {
        if (!(error instanceof UnsupportedShlibs || error instanceof UnsupportedElf)) throw error;
        why = error.message;
      }
    }
    traceNote(`dpkg-shlibdeps for ${plan.name}: ${why}`);
    return dpkgShlibdeps(plan, job, scratch);
  }

  /** The relations from what our reader read of the `scanned` files. */
  private async resolve(plan: PackagePlan, { root, libraryDirs }: ShlibsJob, scanned: readonly ReadElfObject[]): Promise<string[]> {
    const relations: Relations = new Map();
    const problems: string[] = [];
    const queried = new Set<string>();
    const treeFacts = new Map<string, Promise<unknown>>();
    // In file order, as dpkg-shlibdeps would.
    for (const { rel, elf } of scanned) {
      const context: FileContext = { root, rel, elf, libraryDirs, relations, symbols: new Map(), queried, treeFacts };
      // dpkg-shlibdeps stops at the first library with no dependency information.
      if (await this.resolveFile(context, problems)) break;
    }
    if (problems.length) throw shlibsFailure(plan.name, problems.map((p) => `  - ${p}\n`).join(''));
    return renderRelations(relations);
  }

  /** One file's libraries and symbols into `context.relations`; true when dpkg-shlibdeps would stop here. */
  private async resolveFile(context: FileContext, problems: string[]): Promise<boolean> {
    const { elf, rel } = context;
    const found = new Map<string, string[]>();
    for (const soname of elf.needed) {
      const libraries = await this.findLibrary(soname, context);
      // An unversioned soname that is not found is only a warning.
      if (libraries.length === 0 && splitSoname(soname)) problems.push(missingLibrary(`/${rel}`, soname));
      found.set(soname, [...(found.get(soname) ?? []), ...libraries]);
      libraries.forEach((library) => context.queried.add(library));
    }
    for (const soname of elf.needed) {
      for (const library of found.get(soname) ?? []) {
        const outcome = await this.libraryRelations(soname, library, context);
        if (outcome === 'done') break;
        if (outcome === 'missing' && !isWithin(library, context.root) && splitSoname(soname)) {
          problems.push(unownedLibrary(`/${rel}`, library));
          return true;
        }
      }
    }
    for (const symbol of elf.undefinedSymbols) {
      const name = `${symbol.name}@${symbol.version ?? 'Base'}`;
      for (const soname of elf.needed) {
        const object = context.symbols.get(soname);
        const entry = object?.symbols.get(name);
        if (!object || !entry || entry.deprecated) continue;
        const dep = object.deps[entry.depId];
        if (dep === undefined) throw new UnsupportedShlibs(`${name} of ${soname} names dependency template ${entry.depId}, which its symbols file lacks`);
        raiseVersion(context.relations, dep, entry.minver);
        break;
      }
    }
    return false;
  }

  /**
   * One candidate library of a soname: 'done' when its symbols or shlibs
   * file gave the relation, 'missing' when a public library has neither,
   * 'next' to try the next candidate.
   */
  private async libraryRelations(soname: string, library: string, context: FileContext): Promise<'done' | 'missing' | 'next'> {
    let missing = false;
    for (const pkg of await this.packagesOf(library, context)) {
      const symbolsFile = pkg ? await this.controlFile(pkg, 'symbols', context) : await this.unpackagedControlFile(library, 'symbols', context);
      const object = symbolsFile ? await this.symbolsObject(symbolsFile, soname) : undefined;
      if (object) {
        if (!context.symbols.has(soname)) context.symbols.set(soname, object);
        const first = context.symbols.get(soname) as SymbolsObject;
        raiseVersion(context.relations, first.deps[0] as string, smallestVersion(first, 0) || '');
        return 'done';
      }
      const elf = await this.fact('elf', library, context, () => readElfDynamic(library));
      // Only a public library (a shared object with a SONAME) gets a shlibs relation.
      if (elf.type !== ET_DYN || !elf.soname) continue;
      if (await this.shlibsRelations(soname, pkg, library, context)) return 'done';
      missing = true;
    }
    return missing ? 'missing' : 'next';
  }

  /** add_shlibs_dep: the first of shlibs.override, the package's shlibs, shlibs.default that has the soname. */
  private async shlibsRelations(soname: string, pkg: string, library: string, context: FileContext): Promise<boolean> {
    const own = pkg ? await this.controlFile(pkg, 'shlibs', context) : await this.unpackagedControlFile(library, 'shlibs', context);
    for (const file of [SHLIBS_OVERRIDE, ...(own ? [own] : []), SHLIBS_DEFAULT]) {
      const text = await this.text(file);
      const dep = text === undefined ? undefined : shlibsEntry(text, soname);
      if (dep === undefined) continue;
      for (const relation of perlSplit(dep, /,\s*/)) context.relations.set(relation, '');
      return true;
    }
    return false;
  }

  /** A file's text, read once per build (undefined: no such file). */
  private text(file: string): Promise<string | undefined> {
    let text = this.texts.get(file);
    if (!text) {
      text = readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      this.texts.set(file, text);
    }
    return text;
  }

  /** The soname's object in a symbols file, if the file has it. */
  private async symbolsObject(file: string, soname: string): Promise<SymbolsObject | undefined> {
    let parsed = this.symbolsFiles.get(file);
    if (!parsed) {
      parsed = parseSymbolsFile((await this.text(file)) ?? '');
      this.symbolsFiles.set(file, parsed);
    }
    const object = parsed.objects.get(soname);
    if (object && parsed.unsupported) throw new UnsupportedShlibs(`${file}: ${parsed.unsupported}`);
    return object;
  }

  /** `dpkg-query --control-path <pkg> <kind>` (the /etc/dpkg/symbols overrides are not modelled). */
  private async controlFile(pkg: string, kind: 'symbols' | 'shlibs', context: FileContext): Promise<string | undefined> {
    if (kind === 'symbols' && (await this.fact('exists', '/etc/dpkg/symbols', context, () => exists('/etc/dpkg/symbols')))) throw new UnsupportedShlibs('/etc/dpkg/symbols exists');
    const file = path.join(ADMINDIR(), 'info', `${pkg}.${kind}`);
    return (await this.text(file)) === undefined ? undefined : file;
  }

  /** A library no package owns: its own package build tree's control file, which reqset's trees never have. */
  private async unpackagedControlFile(library: string, kind: 'symbols' | 'shlibs', context: FileContext): Promise<undefined> {
    for (let dir = path.posix.dirname(library); dir !== '/' && dir !== '.'; dir = path.posix.dirname(dir)) {
      const file = path.join(dir, 'DEBIAN', kind);
      if (await this.fact('exists', file, context, () => exists(file))) throw new UnsupportedShlibs(`${library} is in a package build tree with DEBIAN/${kind}`);
    }
    return undefined;
  }

  /** A fact about a file, learnt once per build for the machine's files, once per package for the tree's. */
  private fact<T>(kind: string, file: string, context: FileContext, compute: () => Promise<T>): Promise<T> {
    const store = isWithin(path.resolve(file), context.root) ? context.treeFacts : this.hostFacts;
    const key = `${kind}:${file}`;
    let value = store.get(key) as Promise<T> | undefined;
    if (!value) {
      value = compute();
      store.set(key, value);
    }
    return value;
  }

  /**
   * The packages owning a library (dpkg-query --search), or [''] for none.
   * As dpkg-shlibdeps: the path itself, else its real path, which dpkg also
   * credits with the owners of any other looked-up path resolving to it.
   */
  private async packagesOf(library: string, context: FileContext): Promise<string[]> {
    const { owners, diverted } = await (this.dpkgFiles ??= readDpkgFiles(ADMINDIR()));
    if (!path.posix.basename(library).includes('.so')) throw new UnsupportedShlibs(`${library}: only libraries named *.so* are looked up in dpkg's file lists`);
    const real = await this.fact('realpath', library, context, () => realpath(library).catch(() => library));
    if (diverted.has(library) || diverted.has(real)) throw new UnsupportedShlibs(`${library} is diverted`);
    const own = owners.get(library);
    const candidates = own ? [own] : [];
    if (!own) {
      if (!path.posix.basename(real).includes('.so')) throw new UnsupportedShlibs(`${library} resolves to ${real}, which is not named *.so*`);
      if (owners.has(real)) candidates.push(owners.get(real) as string[]);
      for (const other of context.queried) {
        if (other !== library && owners.has(other) && (await this.fact('realpath', other, context, () => realpath(other).catch(() => other))) === real) candidates.push(owners.get(other) as string[]);
      }
    }
    const distinct = new Set(candidates.map((c) => c.join(', ')));
    if (distinct.size > 1 || candidates.some((c) => c.length > 1)) throw new UnsupportedShlibs(`${library} belongs to ${[...distinct].join(' or ')}`);
    return candidates[0] ?? [''];
  }

  /**
   * The files the dynamic linker could use for `soname`, in dpkg-shlibdeps'
   * order (my_find_library): the package tree first (RPATH with $ORIGIN,
   * the system directories inside it), then the machine (RPATH, our -l
   * directories, LD_LIBRARY_PATH, /lib, /usr/lib, ld.so.conf, multilib);
   * only files of the same ELF ABI count.
   */
  private async findLibrary(soname: string, context: FileContext): Promise<string[]> {
    const origin = `/${context.rel}`.replace(/\/+[^/]*$/, '');
    const rpath = context.elf.rpath.map((p) => p.replace(/\$ORIGIN/g, () => origin).replace(/\$\{ORIGIN\}/g, () => origin));
    const dirs = [...rpath, ...context.libraryDirs, ...(await (this.systemPaths ??= systemLibraryPaths()))];
    const inTree = await this.candidates(soname, dirs, context, context.root);
    return inTree.length ? inTree : this.candidates(soname, dirs, context, '');
  }

  private async candidates(soname: string, dirs: readonly string[], context: FileContext, prefix: string): Promise<string[]> {
    const found: string[] = [];
    for (const dir of dirs) {
      const file = `${prefix}${dir}/${soname}`;
      if ((await this.fact('abi', file, context, () => abiIfExists(file))) === context.elf.abi) found.push(await this.fact('canonpath', file, context, () => canonpath(file)));
    }
    return found;
  }
}

/** dpkg's ABI key of a file that exists (following links), undefined for none or for a file that is not ELF. */
async function abiIfExists(file: string): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return undefined;
  return fileAbi(file).catch(() => undefined);
}

/** What a package's shared-library relations are computed from. */
export interface ShlibsJob {
  /** The tree, absolute. */
  root: string;
  /** The linked ELF files, as scanElf found them. */
  objects: ElfObject[];
  unreadable?: string;
  /** The sonames the system must provide; none: no relations. */
  external: { file: string; soname: string }[];
  /** The tree's directories holding libraries its own files need (dpkg-shlibdeps -l). */
  libraryDirs: string[];
  /** The ELF files with NEEDED entries (dpkg-shlibdeps -e). */
  scanned: ElfObject[];
}

export async function shlibsJob(plan: PackagePlan, treeDir: string, entries: readonly TreeEntry[]): Promise<ShlibsJob> {
  const root = path.resolve(treeDir);
  const { objects, unreadable } = await scanElf(root, entries);
  // Where the libraries that the package's own files need live inside the package.
  const wanted = new Set([...plan.privateLibraries, ...objects.flatMap((o) => o.needed)]);
  const providers = objects.filter((o) => wanted.has(path.posix.basename(o.rel)) || (o.soname !== undefined && wanted.has(o.soname)));
  return {
    root,
    objects,
    ...(unreadable !== undefined ? { unreadable } : {}),
    external: externalNeeds(objects, plan.privateLibraries),
    libraryDirs: [...new Set(providers.map((o) => path.join(root, path.posix.dirname(o.rel))))].sort(),
    scanned: objects.filter((o) => o.needed.length > 0),
  };
}

/**
 * The real dpkg-shlibdeps on the package, as every package got it before
 * the resolver (the tree must contain its DEBIAN/ directory; `scratch` is an
 * empty directory).
 */
export async function dpkgShlibdeps(plan: PackagePlan, { root, scanned, libraryDirs, external }: ShlibsJob, scratch: string): Promise<string[]> {
  await mkdir(path.join(scratch, 'debian'), { recursive: true });
  await writeFile(path.join(scratch, 'debian', 'control'), `Source: reqset-shlibdeps\n\nPackage: ${plan.name}\nArchitecture: any\n`);
  const files = scanned.map((o) => path.join(root, o.rel));
  const result = await run(['dpkg-shlibdeps', '-O', ...libraryDirs.map((d) => `-l${d}`), ...files.map((f) => `-e${f}`)], {
    cwd: scratch,
    env: { LC_ALL: 'C' },
    allowFailure: true,
  });
  if (result.exitCode !== 0) {
    const problems = shlibdepsProblems(result.stderr, root);
    const output = result.stderr.trim().split('\n').slice(-10).map((l) => `  | ${l}`).join('\n');
    throw shlibsFailure(
      plan.name,
      problems.length
        ? problems.map((p) => `  - ${p}\n`).join('')
        : `${external.map(({ file, soname }) => `  - ${file} needs ${soname}\n`).join('')}${result.command} failed with exit code ${result.exitCode}:\n${output}\n`,
    );
  }
  return parseShlibdepsOutput(result.stdout);
}
