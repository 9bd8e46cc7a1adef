/**
 * Shared-library dependencies of a staged .deb tree, as rpmbuild finds them
 * for RPM: what the ELF files need, minus what the package brings itself.
 *
 * 1. ELF files are found by their header (executables and shared objects
 *    only); `readelf -d` gives each one's NEEDED and SONAME entries.
 * 2. A NEEDED soname that is one of the plan's private libraries (wheel-bundled
 *    `*.libs/`) or the SONAME or file name of an ELF file in the package is
 *    satisfied inside the package. If nothing else is needed, we stop here.
 * 3. Otherwise the real tool, `dpkg-shlibdeps`, maps the rest to the Debian
 *    packages installed on the build machine and versions each with the
 *    minimum its symbols (or shlibs) file gives for the symbols actually used,
 *    e.g. `libc6 (>= 2.14)`. It runs in a scratch directory holding the
 *    minimal `debian/control` it insists on; the tree already has its DEBIAN/
 *    directory, which is how dpkg-shlibdeps knows which libraries belong to
 *    the package being built (found through `$ORIGIN` RPATHs, or the `-l`
 *    directories we add for every in-package library) and skips them.
 * A soname that no installed package provides is a ToolError naming the file
 * (as installed on the target) and the soname.
 *
 * The build machine must therefore have the target's libraries installed (for
 * a Debian target: build on that release, e.g. in its builder image).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../errors.ts';
import { run } from '../../run.ts';
import { isLinkedElf } from '../elf.ts';
import type { PackagePlan } from '../packager.ts';
import type { TreeEntry } from './tree.ts';

export interface ElfObject {
  /** Path relative to the tree. */
  rel: string;
  needed: string[];
  soname?: string;
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

/** The executables and shared objects of the tree, with their NEEDED and SONAME. */
export async function scanElf(dir: string, entries: readonly TreeEntry[]): Promise<ElfObject[]> {
  const elf: string[] = [];
  for (const entry of entries) {
    if (entry.type === 'file' && entry.size >= 18 && (await isLinkedElf(path.join(dir, entry.rel)))) elf.push(entry.rel);
  }
  const out: ElfObject[] = [];
  // Batches keep the command line short for wheels with thousands of libraries.
  for (let i = 0; i < elf.length; i += 200) {
    const batch = elf.slice(i, i + 200);
    const files = batch.map((rel) => path.join(dir, rel));
    const { stdout } = await run(['readelf', '-d', '-W', ...files], { env: { LC_ALL: 'C' } });
    const parsed = parseReadelf(stdout, files);
    batch.forEach((rel, index) => {
      const info = parsed.get(files[index] as string) ?? { needed: [] };
      out.push({ rel, needed: info.needed, ...(info.soname ? { soname: info.soname } : {}) });
    });
  }
  return out;
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
      problems.push(`${toTarget(missing[2] as string)} needs ${missing[1]}, which is neither in the package nor in any library installed on the build machine`);
      continue;
    }
    const unowned = /no dependency information found for (.+?) \(used by (.+?)\)\s*$/.exec(line);
    if (unowned) {
      problems.push(`${toTarget(unowned[2] as string)} needs ${path.posix.basename(unowned[1] as string)} (found at ${unowned[1]}), which belongs to no installed Debian package (or its package has no shlibs/symbols file)`);
    }
  }
  return problems;
}

/**
 * The shared-library relations for the package in `treeDir` (which must
 * already contain its DEBIAN/ directory). `scratch` is an empty directory.
 */
export async function shlibsDepends(plan: PackagePlan, treeDir: string, entries: readonly TreeEntry[], scratch: string): Promise<string[]> {
  const objects = await scanElf(treeDir, entries);
  const external = externalNeeds(objects, plan.privateLibraries);
  if (external.length === 0) return [];

  // Where the libraries that the package's own files need live inside the package.
  const wanted = new Set([...plan.privateLibraries, ...objects.flatMap((o) => o.needed)]);
  const providers = objects.filter((o) => wanted.has(path.posix.basename(o.rel)) || (o.soname !== undefined && wanted.has(o.soname)));
  const libraryDirs = [...new Set(providers.map((o) => path.join(treeDir, path.posix.dirname(o.rel))))].sort();
  const scanned = objects.filter((o) => o.needed.length > 0).map((o) => path.join(treeDir, o.rel));

  await mkdir(path.join(scratch, 'debian'), { recursive: true });
  await writeFile(path.join(scratch, 'debian', 'control'), `Source: reqset-shlibdeps\n\nPackage: ${plan.name}\nArchitecture: any\n`);
  const result = await run(['dpkg-shlibdeps', '-O', ...libraryDirs.map((d) => `-l${d}`), ...scanned.map((f) => `-e${f}`)], {
    cwd: scratch,
    env: { LC_ALL: 'C' },
    allowFailure: true,
  });
  if (result.exitCode !== 0) {
    const problems = shlibdepsProblems(result.stderr, treeDir);
    const output = result.stderr.trim().split('\n').slice(-10).map((l) => `  | ${l}`).join('\n');
    throw new ToolError(
      `cannot compute the shared-library dependencies of ${plan.name}:\n` +
        (problems.length
          ? problems.map((p) => `  - ${p}\n`).join('')
          : `${external.map(({ file, soname }) => `  - ${file} needs ${soname}\n`).join('')}${result.command} failed with exit code ${result.exitCode}:\n${output}\n`) +
        `Build Debian packages on the target's release with the libraries installed, or bundle them in the wheel (auditwheel repair).`,
    );
  }
  return parseShlibdepsOutput(result.stdout);
}
