/**
 * Targets: where packages get installed. One schema (unknown keys rejected,
 * every problem of a file reported at once); built-in targets live in the
 * tool's packaging/targets, a workspace may add or override its own.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import type { MarkerEnvironment } from '../python/markers.ts';
import { parseYamlWith, readYamlFile, type FieldHelpTable } from '../yamlfile.ts';

const packageList = z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._()<>=~ :,-]*$/, 'a system package name, optionally with a version relation'));

/**
 * How a target's packages compress their payload (the RPM payload; the .deb's
 * data.tar and control.tar members), chosen per target because the target's
 * package manager has to read it. xz is read by the rpm and dpkg of every
 * target reqset knows; zstd by rpm >= 4.14 (RHEL 8's 4.14.3 included, RHEL 9
 * has 4.16, Fedora 41 4.20) and by dpkg >= 1.21.18 (Debian 12 has 1.21.22,
 * Ubuntu 24.04 1.22.6; Ubuntu's own packages are zstd since 21.10). zstd at
 * a low level compresses several times faster than xz for a somewhat larger
 * package; gzip is not offered (zstd is both faster and smaller). Which
 * threads compress, and why the bytes do not depend on them, is each
 * packager's business (src/packagers/rpm/spec.ts, src/packagers/deb/index.ts).
 * Without `payload`, a target gets xz (level 2 for RPM, 6 for .deb): what
 * every rpm and dpkg reads, and what reqset built before targets could choose.
 */
export const payloadSchema = z.discriminatedUnion('compression', [
  z.strictObject({ compression: z.literal('zstd'), level: z.number().int().min(1).max(19) }),
  z.strictObject({ compression: z.literal('xz'), level: z.number().int().min(0).max(9) }),
]);

export type Payload = z.infer<typeof payloadSchema>;

/**
 * `payload: small`: xz, level 2 for RPM and 6 for .deb, the sizes reqset's
 * packages had before targets chose zstd: for users whose bandwidth costs
 * more than the build's time (several times slower to build than zstd 3, for
 * packages about a fifth smaller; `npm run bench packages` prints both). Also
 * what a target without `payload` gets.
 */
export const SMALL_PAYLOAD: Readonly<Record<'rpm' | 'deb', Payload>> = { rpm: { compression: 'xz', level: 2 }, deb: { compression: 'xz', level: 6 } };

export const targetSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  description: z.string(),
  format: z.enum(['rpm', 'deb']),
  distribution: z.string(),
  python: z.strictObject({
    path: z.string().startsWith('/'),
    version: z.string().regex(/^3\.\d+$/, 'major.minor, e.g. "3.11"'),
    /** Used for python_full_version markers; defaults to X.Y.0. */
    fullVersion: z.string().regex(/^3\.\d+\.\d+$/).optional(),
    /** The system package that provides the interpreter (deb dependencies). */
    package: z.string(),
  }),
  glibc: z.string().regex(/^\d+\.\d+$/, 'major.minor, e.g. "2.34"'),
  arch: z.enum(['x86_64', 'aarch64']),
  packages: z.strictObject({
    /** What the runtime and endpoint packages need on the target (e.g. the venv module). */
    runtime: packageList,
    /** What a builder needs to compile wheels for this target. */
    build: packageList,
  }),
  builder: z.strictObject({
    /** The builder image's name (`--builder podman|docker` runs pip in it). */
    image: z.string().regex(/^[a-z0-9][A-Za-z0-9._\/:@-]*$/, 'an image name, e.g. localhost/reqset-builder-debian12'),
    /** The Containerfile that makes it, relative to the workspace (or, for built-in targets, to reqset's own directory). */
    containerfile: z.string(),
    /** The public image the Containerfile starts from (its `ARG BASE` default; `--builder-base` overrides). */
    base: z.string().regex(/^[a-z0-9][A-Za-z0-9._\/:@-]*$/, 'an image name, e.g. docker.io/library/debian:bookworm').optional(),
  }),
  /** The payload compression, e.g. `{ compression: zstd, level: 3 }` (see payloadSchema); a file may say `small` (SMALL_PAYLOAD). */
  payload: payloadSchema.optional(),
  /** Where packages put systemd unit files (see systemdUnitDir); none: the format's convention. */
  systemdUnitDir: z.enum(['/usr/lib/systemd/system', '/lib/systemd/system']).optional(),
});

export type Target = z.infer<typeof targetSchema>;

/**
 * The distribution's directory for the unit files of packages: RPM
 * distributions use /usr/lib/systemd/system; Debian 12 packages still ship
 * /lib/systemd/system (dpkg does not know /lib is /usr/lib on a usr-merged
 * system), Ubuntu 24.04's /usr/lib/systemd/system (its target says so).
 */
export function systemdUnitDir(target: Pick<Target, 'format' | 'systemdUnitDir'>): string {
  return target.systemdUnitDir ?? (target.format === 'rpm' ? '/usr/lib/systemd/system' : '/lib/systemd/system');
}

/** A target file: `payload: small` stands for its format's SMALL_PAYLOAD. */
const targetFileSchema = z.preprocess((raw) => {
  const fields = raw as { payload?: unknown; format?: unknown } | null;
  if (fields?.payload !== 'small' || (fields.format !== 'rpm' && fields.format !== 'deb')) return raw;
  return { ...fields, payload: SMALL_PAYLOAD[fields.format] };
}, targetSchema);

/** The repository's own directory (works from src/ under tsx and from build/). */
export const TOOL_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What each field is for, in the messages about a missing or mistyped one. */
const FIELDS: FieldHelpTable = {
  name: { what: 'the target\'s name, the same as its file name', type: 'a string' },
  description: { what: 'one line saying which systems the target is', type: 'a string' },
  format: { what: 'the package format', type: '"rpm" or "deb"' },
  distribution: { what: 'the distribution release, e.g. el9 or bookworm', type: 'a string' },
  python: { what: 'the target\'s system interpreter', type: 'a mapping with path, version, fullVersion, package' },
  'python.path': { what: 'the interpreter\'s absolute path on the target', type: 'a string' },
  'python.version': { what: 'major.minor, e.g. "3.11"', type: 'a string' },
  'python.fullVersion': { what: 'the full version for python_full_version markers, e.g. "3.11.2"', type: 'a string' },
  'python.package': { what: 'the system package that provides the interpreter', type: 'a string' },
  glibc: { what: 'the target\'s glibc, major.minor, e.g. "2.34"', type: 'a string' },
  arch: { what: 'the machine architecture', type: '"x86_64" or "aarch64"' },
  packages: { what: 'system packages the target needs', type: 'a mapping with runtime and build' },
  'packages.runtime': { what: 'what the runtime and endpoint packages need on the target', type: 'a list of package names' },
  'packages.build': { what: 'what a builder needs to compile wheels for this target', type: 'a list of package names' },
  builder: { what: 'the builder image', type: 'a mapping with image, containerfile, base' },
  'builder.image': { what: 'the builder image\'s name', type: 'a string' },
  'builder.containerfile': { what: 'the Containerfile that makes the image, relative to the workspace', type: 'a string' },
  'builder.base': { what: 'the public image the Containerfile starts from', type: 'a string' },
  payload: { what: 'the payload compression', type: '"small", or a mapping with compression (zstd or xz) and level' },
  'payload.compression': { what: 'zstd or xz', type: 'a string' },
  'payload.level': { what: 'the compression level', type: 'a number' },
  systemdUnitDir: { what: 'where packages put systemd unit files (default: /usr/lib/systemd/system for rpm, /lib/systemd/system for deb)', type: 'a string' },
};

export function parseTarget(text: string, file: string): Target {
  const yaml = readYamlFile(text, file);
  const target = parseYamlWith(yaml, targetFileSchema, FIELDS, 'invalid target');
  const expected = path.basename(file).replace(/\.ya?ml$/, '');
  if (target.name !== expected) {
    throw new InputError(`${file}:${yaml.lineOf(['name'])}: name: "${target.name}" does not match the file name: rename the file to ${target.name}.yml or set name: ${expected}`);
  }
  return target;
}

async function targetsIn(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return files;
    throw error;
  }
  for (const entry of entries.sort()) {
    if (/\.ya?ml$/.test(entry)) files.set(entry.replace(/\.ya?ml$/, ''), path.join(dir, entry));
  }
  return files;
}

/** Built-in targets, then the workspace's own (which win on a name clash). */
async function targetFiles(workspace: string): Promise<Map<string, string>> {
  const builtIn = await targetsIn(path.join(TOOL_ROOT, 'packaging', 'targets'));
  const own = await targetsIn(path.join(workspace, 'packaging', 'targets'));
  return new Map([...builtIn, ...own]);
}

export async function loadTargets(workspace: string): Promise<Target[]> {
  const files = await targetFiles(workspace);
  const targets: Target[] = [];
  const problems: string[] = [];
  for (const file of files.values()) {
    try {
      targets.push(parseTarget(await readFile(file, 'utf8'), file));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(...(error.problems.length ? error.problems : [error.message]));
    }
  }
  if (problems.length) throw new InputError('invalid target files', problems);
  return targets;
}

export async function loadTarget(workspace: string, name: string): Promise<Target> {
  const files = await targetFiles(workspace);
  const file = files.get(name);
  if (!file) {
    throw new InputError(`unknown target ${JSON.stringify(name)}: known targets are ${[...files.keys()].join(', ')} (add your own as packaging/targets/${name}.yml in the workspace)`);
  }
  return parseTarget(await readFile(file, 'utf8'), file);
}

export function markerEnvironment(target: Target): MarkerEnvironment {
  const full = target.python.fullVersion ?? `${target.python.version}.0`;
  return {
    python_version: target.python.version,
    python_full_version: full,
    os_name: 'posix',
    sys_platform: 'linux',
    platform_release: '',
    platform_system: 'Linux',
    platform_version: '',
    platform_machine: target.arch,
    platform_python_implementation: 'CPython',
    implementation_name: 'cpython',
    implementation_version: full,
  };
}
