/**
 * Builder Containerfiles, generated from the target YAML (the source of
 * truth): `ARG BASE=<target builder.base>`, then the target's build packages
 * installed with its package manager and a check that `python.path` is the
 * target's Python with pip. `docker/<target>/Containerfile` is this text,
 * checked in (`node --import tsx docker/generate.ts` rewrites them; a test
 * keeps them in sync).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { loadTargets, TOOL_ROOT, type Target } from '../targets/target.ts';

/** A system package name as a package manager takes it on its command line (no version relation). */
export const SYSTEM_PACKAGE = /^[A-Za-z0-9][A-Za-z0-9+._:-]*$/;

export type PackageFamily = 'deb' | 'rpm';

/**
 * The shell command that installs `packages` in a builder of the given
 * family, leaving no package-manager caches in the layer. Names must match
 * SYSTEM_PACKAGE (checked here: they end up in a RUN line).
 */
export function installCommand(family: PackageFamily, packages: readonly string[]): string {
  const bad = packages.filter((p) => !SYSTEM_PACKAGE.test(p));
  if (bad.length) throw new InputError(`not plain system package names: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  if (packages.length === 0) return 'true';
  const list = packages.join(' ');
  return family === 'deb'
    ? `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${list} && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin`
    : `dnf install -y --setopt=install_weak_deps=False ${list} && dnf clean all`;
}

/** Lines continued with ` \` for a readable RUN instruction. */
function continued(lines: string[]): string {
  return lines.join(' \\\n    ');
}

/** The builder Containerfile of a target. */
export function builderContainerfile(target: Target): string {
  const base = target.builder.base;
  if (!base) throw new InputError(`target ${target.name}: builder.base is not set: name the public image its builder starts from`);
  const { path: python, version } = target.python;
  const [major, minor] = version.split('.');
  const family: PackageFamily = target.format;
  const packages = target.packages.build;
  const install =
    family === 'deb'
      ? ['apt-get update', 'DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\\n        ' + packages.join(' \\\n        '), 'rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin']
      : ['dnf install -y --setopt=install_weak_deps=False \\\n        ' + packages.join(' \\\n        '), 'dnf clean all'];
  const bad = packages.filter((p) => !SYSTEM_PACKAGE.test(p));
  if (bad.length) throw new InputError(`target ${target.name}: packages.build: not plain package names: ${bad.join(', ')}`);
  return [
    `# The reqset builder image for target ${target.name}: ${target.description}.`,
    '# GENERATED from packaging/targets/' + target.name + '.yml by docker/generate.ts: do not edit,',
    '# change the target and regenerate (node --import tsx docker/generate.ts).',
    '#',
    '# Build it (reqset does this with `reqset builder-image --target ' + target.name + '`):',
    `#   podman build -t ${target.builder.image} --build-arg BASE=${base} -f ${target.builder.containerfile} ${path.posix.dirname(target.builder.containerfile)}`,
    '# BASE may be any image of the same distribution, e.g. a local one made with',
    '#   tar -C ROOT -c . | podman import - localhost/my-base',
    `ARG BASE=${base}`,
    'FROM ${BASE}',
    '',
    `LABEL io.reqset.target="${target.name}" io.reqset.python="${python}"`,
    '',
    '# The target\'s build packages (packages.build of the target), nothing else.',
    `RUN ${continued(install.map((l, i) => (i === 0 ? l : `&& ${l}`)))}`,
    '',
    `# The target's interpreter (python.path) must be Python ${version} with pip.`,
    `RUN ${python} -c 'import sys; assert sys.version_info[:2] == (${major}, ${minor}), sys.version' \\`,
    `    && ${python} -m pip --version`,
    '',
    '# Builds run as whatever user the engine maps in: a world-writable work',
    '# directory and HOME, pip without a cache or version check, never online',
    '# unless the pin list uses an index.',
    'RUN mkdir -p /build && chmod 1777 /build',
    'WORKDIR /build',
    'ENV HOME=/build PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1',
    '',
  ].join('\n');
}

/** The Containerfile of a target: the workspace's own file if it has one, else reqset's. */
export function resolveContainerfile(target: Target, workspace?: string): string {
  const candidates = [workspace && path.resolve(workspace, target.builder.containerfile), path.resolve(TOOL_ROOT, target.builder.containerfile)].filter(
    (c): c is string => !!c,
  );
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new InputError(
      `target ${target.name}: builder.containerfile ${target.builder.containerfile} not found (looked in ${candidates.join(', ')}): add it to the workspace or fix the target`,
    );
  }
  return found;
}

/** Writes (or, with check, compares) docker/<target>/Containerfile of every built-in target; returns the files that differ. */
export async function writeBuilderContainerfiles(options: { check?: boolean } = {}): Promise<string[]> {
  // Only the tool's own targets: a workspace directory without targets adds none.
  const targets = await loadTargets(path.join(TOOL_ROOT, '.no-workspace'));
  const differ: string[] = [];
  for (const target of targets) {
    const file = path.join(TOOL_ROOT, target.builder.containerfile);
    const text = builderContainerfile(target);
    const current = existsSync(file) ? await readFile(file, 'utf8') : undefined;
    if (current === text) continue;
    differ.push(file);
    if (!options.check) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
    }
  }
  return differ;
}
