/**
 * Where the wheels stage runs its builds: `local` runs pip on this machine
 * (the target's pythonX.Y on PATH, or --python), `podman` and `docker` run the
 * same command inside the target's builder image.
 *
 * A container build sees every host path it needs at the same path (read-only
 * but for its work directory), so pip's arguments are the same as on the
 * host; its environment is passed by name (`--env NAME`, the values never on a
 * command line); it has no network when the pin list says --no-index. The
 * builder's identity (the image ID, the interpreter and its version) is part
 * of every built wheel's cache key.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, ToolError } from '../errors.ts';
import { sha256, sha256File, withTempDir } from '../fsutil.ts';
import type { Progress } from '../progress.ts';
import { formatCommand, run, type RunResult } from '../run.ts';
import type { Target } from '../targets/target.ts';
import { findBuilderPython, probedVersion, VERSION_PROBE, type BuilderPython } from './python.ts';
import { installCommand, resolveContainerfile, type PackageFamily } from './containerfile.ts';
import { engineRun, findExecutable, inspectImage, openEngine, type EngineName } from './engine.ts';
import { hookPackagesFor, type Hook } from './hooks.ts';

export type BuilderKind = 'local' | EngineName;

export const BUILDER_KINDS: readonly BuilderKind[] = ['local', 'podman', 'docker'];

export interface BuilderSettings {
  kind: BuilderKind;
  target: Target;
  /**
   * --python: for `local` the interpreter to run; in a container the
   * interpreter's path inside the image (default: the target's python.path).
   */
  python?: string;
  /**
   * --builder-base: make the builder image from this base image when it is
   * missing or was made from another base or Containerfile.
   */
  base?: string;
  /** The image to run (default: the target's builder.image). */
  image?: string;
  /** The workspace: its own Containerfile for the target wins over reqset's. */
  workspace?: string;
  /** Where reqset keeps engine state (its containers.conf): the wheel cache directory. */
  stateDir: string;
  progress?: Progress;
}

export interface BuildRequest {
  /** The build command; its first element is the builder's interpreter. */
  argv: string[];
  env: Record<string, string>;
  /** Host paths the build reads (missing ones are skipped). */
  read: string[];
  /** Host paths the build writes: its work directory. */
  write: string[];
  /** Working directory (in a container: one of `write`). */
  cwd: string;
  /** False when the pin list says --no-index: containers then run without a network. */
  network: boolean;
  /** The package's build hook, whose system packages the build needs. */
  hook?: Hook;
}

export interface PreparedBuilder {
  python: BuilderPython;
  /** Goes into the cache key's `builder` field. */
  identity: string;
  /** Package family of the machine the build runs on: what BUILD_PACKAGES_<FAMILY> of a hook applies. */
  family: PackageFamily | undefined;
  /** For messages: "podman image localhost/reqset-builder-debian12 (3f2a...)". */
  description: string;
}

export interface Builder {
  readonly kind: BuilderKind;
  /** Checks the builder once (engine, image, interpreter); memoized. */
  prepare(): Promise<PreparedBuilder>;
  /**
   * Makes a hook's system packages available to its builds: a derived image
   * in a container (made once, kept by the engine); on the local builder only
   * a check that they are installed. Called before a build, not for a cached
   * wheel: the cache key has the hook's sha256, which fixes the packages.
   */
  prepareHook(hook: Hook): Promise<void>;
  /** Runs a build; a non-zero exit is returned, not thrown. */
  run(request: BuildRequest): Promise<RunResult>;
}

export function makeBuilder(settings: BuilderSettings): Builder {
  return settings.kind === 'local' ? localBuilder(settings.target.python.version, settings.python) : new ContainerBuilder(settings, settings.kind);
}

/** pip on this machine: `python`, or the target's pythonX.Y on PATH. */
export function localBuilder(pythonVersion: string, python?: string): Builder {
  return new LocalBuilder(pythonVersion, python);
}

function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}

/** The package family of this machine, by its package database tool. */
function hostFamily(): PackageFamily | undefined {
  if (findExecutable('dpkg-query')) return 'deb';
  if (findExecutable('rpm')) return 'rpm';
  return undefined;
}

async function installed(family: PackageFamily, name: string): Promise<boolean> {
  const result =
    family === 'deb'
      ? await run(['dpkg-query', '-W', '-f', '${Status}', name], { allowFailure: true })
      : await run(['rpm', '-q', '--whatprovides', name], { allowFailure: true });
  return result.exitCode === 0 && (family === 'rpm' || /\binstalled$/.test(result.stdout.trim()));
}

class LocalBuilder implements Builder {
  readonly kind = 'local' as const;
  private readonly family = hostFamily();
  private readonly hookChecks = new Map<string, Promise<void>>();

  constructor(
    private readonly pythonVersion: string,
    private readonly python: string | undefined,
  ) {}

  prepare = memo(async (): Promise<PreparedBuilder> => {
    const python = await findBuilderPython(this.pythonVersion, this.python);
    // The same identity as before builders existed: caches stay valid.
    return { python, identity: `${python.path} ${python.fullVersion}`, family: this.family, description: `${python.path} (Python ${python.fullVersion}) on this machine` };
  });

  prepareHook(hook: Hook): Promise<void> {
    let check = this.hookChecks.get(hook.key);
    if (!check) {
      check = this.checkInstalled(hook);
      this.hookChecks.set(hook.key, check);
    }
    return check;
  }

  private async checkInstalled(hook: Hook): Promise<void> {
    const family = this.family;
    const wanted = family ? hookPackagesFor(hook, family) : [...hook.packages.all, ...hook.packages.deb, ...hook.packages.rpm];
    if (wanted.length === 0) return;
    if (!family) throw new InputError(`${hook.file}: names build packages, but this machine has neither dpkg nor rpm to check them: build in a container (--builder podman)`);
    const missing: string[] = [];
    for (const name of wanted) if (!(await installed(family, name))) missing.push(name);
    if (missing.length) {
      const how = family === 'deb' ? `apt-get install ${missing.join(' ')}` : `dnf install ${missing.join(' ')}`;
      throw new InputError(
        `${hook.file}: the build of ${hook.key} needs system packages that are not installed on this machine: ${missing.join(', ')}. ` +
          `The local builder never installs packages: install them (${how}) or build in a container (--builder podman), where reqset installs them in a derived builder image`,
      );
    }
  }

  run(request: BuildRequest): Promise<RunResult> {
    return run(request.argv, { env: { ...withoutPipVariables(process.env), ...request.env }, replaceEnv: true, allowFailure: true });
  }
}

/**
 * An environment without pip's settings (PIP_*): the user's find-links,
 * index or constraints must not change what a build makes. A container build
 * never sees them: it gets only the request's variables.
 */
function withoutPipVariables(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('PIP_')));
}

/** Labels reqset puts on builder images it makes, to know when one is stale. */
const LABEL_CONTAINERFILE = 'io.reqset.containerfile-sha256';
const LABEL_BASE = 'io.reqset.base';
const LABEL_BASE_ID = 'io.reqset.base-id';

export interface BuilderImageOptions {
  target: Target;
  engine: EngineName;
  /** BASE build argument (default: the target's builder.base, else the Containerfile's own default). */
  base?: string;
  /** Tag (default: the target's builder.image). */
  image?: string;
  workspace?: string;
  stateDir: string;
  /** Build even when an image made from the same Containerfile and base exists. */
  force?: boolean;
  progress?: Progress;
}

export interface BuilderImageResult {
  image: string;
  id: string;
  containerfile: string;
  base?: string;
  /** False when an up-to-date image was already there. */
  built: boolean;
  /** The build command (for messages and --verbose). */
  command: string;
}

/** The build command of a target's builder image, as a user would type it. */
export function builderImageCommand(target: Target, engine: EngineName, options: { base?: string; image?: string; workspace?: string } = {}): string {
  let containerfile = target.builder.containerfile;
  try {
    containerfile = resolveContainerfile(target, options.workspace);
  } catch {
    /* name it as the target does */
  }
  const base = options.base ?? target.builder.base;
  return formatCommand([engine, 'build', '-t', options.image ?? target.builder.image, ...(base ? ['--build-arg', `BASE=${base}`] : []), '-f', containerfile, path.dirname(containerfile)]);
}

/**
 * Builds a target's builder image from its Containerfile (`reqset
 * builder-image`), unless an image made from the same Containerfile and base
 * is already there.
 */
export async function buildBuilderImage(options: BuilderImageOptions): Promise<BuilderImageResult> {
  const { target } = options;
  const engine = await openEngine(options.engine, options.stateDir);
  const containerfile = resolveContainerfile(target, options.workspace);
  const image = options.image ?? target.builder.image;
  const base = options.base ?? target.builder.base;
  const labels: Record<string, string> = {
    [LABEL_CONTAINERFILE]: await sha256File(containerfile),
    [LABEL_BASE]: base ?? '(the Containerfile default)',
  };
  if (base) {
    const baseInfo = await inspectImage(engine, base);
    if (baseInfo) labels[LABEL_BASE_ID] = baseInfo.id;
  }
  const argv = ['build', '-t', image, '-f', containerfile, ...(base ? ['--build-arg', `BASE=${base}`] : [])];
  for (const [name, value] of Object.entries(labels)) argv.push('--label', `${name}=${value}`);
  argv.push(path.dirname(containerfile));
  const command = formatCommand([options.engine, ...argv]);
  const existing = await inspectImage(engine, image);
  if (!options.force && existing && Object.entries(labels).every(([k, v]) => existing.labels[k] === v)) {
    return { image, id: existing.id, containerfile, base, built: false, command };
  }
  const started = Date.now();
  options.progress?.({ stage: 'builder', item: image, state: 'start' });
  await engineRun(engine, argv, {
    timeoutMs: 60 * 60_000,
    tailLines: 30,
    failureNote: `the builder image of ${target.name} could not be built from ${containerfile}${base ? ` with BASE=${base}` : ''}: the base image must be local or pullable, and its package repositories reachable`,
  });
  const info = await inspectImage(engine, image);
  if (!info) throw new ToolError(`${options.engine} build reported success but ${image} is not in its image store`);
  options.progress?.({ stage: 'builder', item: image, state: 'built', elapsedMs: Date.now() - started, detail: info.id.slice(0, 12) });
  return { image, id: info.id, containerfile, base, built: true, command };
}

class ContainerBuilder implements Builder {
  private readonly hookImages = new Map<string, Promise<{ image: string; id: string } | undefined>>();

  constructor(
    private readonly settings: BuilderSettings,
    readonly kind: EngineName,
  ) {}

  private engine = memo(() => openEngine(this.kind, this.settings.stateDir));

  private image = memo(async (): Promise<{ name: string; id: string }> => {
    const { target } = this.settings;
    const engine = await this.engine();
    const name = this.settings.image ?? target.builder.image;
    if (this.settings.base) {
      const made = await buildBuilderImage({
        target,
        engine: this.kind,
        base: this.settings.base,
        image: name,
        workspace: this.settings.workspace,
        stateDir: this.settings.stateDir,
        progress: this.settings.progress,
      });
      return { name, id: made.id };
    }
    const info = await inspectImage(engine, name);
    if (!info) {
      const own = name === target.builder.image;
      throw new ToolError(
        `the builder image ${name} of target ${target.name} is not in ${this.kind}'s image store. Make it with\n` +
          (own ? `  reqset builder-image --target ${target.name} --builder ${this.kind} [--builder-base IMAGE]\nor ` : '') +
          `pass --builder-base IMAGE here to have reqset make it, or build it yourself:\n` +
          `  ${builderImageCommand(target, this.kind, { workspace: this.settings.workspace, image: name })}\n` +
          `(BASE: any image of ${target.distribution} that can install packages; or build with --builder local)`,
      );
    }
    return { name, id: info.id };
  });

  prepare = memo(async (): Promise<PreparedBuilder> => {
    const { target } = this.settings;
    const engine = await this.engine();
    const image = await this.image();
    const python = this.settings.python ?? target.python.path;
    const probe = await engineRun(engine, ['run', '--rm', '--pull=never', '--network=none', '--security-opt', 'label=disable', image.id, python, '-c', VERSION_PROBE], {
      allowFailure: true,
    });
    const full = probedVersion(probe.stdout);
    if (probe.exitCode !== 0 || !full) {
      throw new ToolError(
        `the builder image ${image.name} has no working ${python} (the target's python.path${this.settings.python ? ', from --python' : ''}): ` +
          `rebuild it from docker/${target.name}/Containerfile, or fix the target.\n  ${probe.stderr.trim().split('\n').slice(-3).join('\n  ')}`,
      );
    }
    const version = full.split('.').slice(0, 2).join('.');
    if (version !== target.python.version) {
      throw new InputError(`the builder image ${image.name} has Python ${full} at ${python}, but target ${target.name} has Python ${target.python.version}: use the target's builder image`);
    }
    return {
      python: { path: python, version, fullVersion: full },
      identity: `${this.kind}:${image.id} ${python} ${full}`,
      family: target.format,
      description: `${this.kind} image ${image.name} (${image.id.replace(/^sha256:/, '').slice(0, 12)})`,
    };
  });

  async prepareHook(hook: Hook): Promise<void> {
    await this.hookImage(hook);
  }

  /** The builder image plus a hook's packages, made once and kept by the engine (tagged by what went in). */
  private hookImage(hook: Hook): Promise<{ image: string; id: string } | undefined> {
    let made = this.hookImages.get(hook.key);
    if (!made) {
      made = this.makeHookImage(hook);
      this.hookImages.set(hook.key, made);
    }
    return made;
  }

  private async makeHookImage(hook: Hook): Promise<{ image: string; id: string } | undefined> {
    const { target } = this.settings;
    const packages = hookPackagesFor(hook, target.format);
    if (packages.length === 0) return undefined;
    const engine = await this.engine();
    const base = await this.image();
    const key = sha256(JSON.stringify({ from: base.id, family: target.format, packages }));
    const tag = `localhost/reqset-hook-${target.name}:${key.slice(0, 24)}`;
    const existing = await inspectImage(engine, tag);
    if (existing) return { image: tag, id: existing.id };
    const started = Date.now();
    this.settings.progress?.({ stage: 'builder', item: tag, state: 'start', detail: packages.join(' ') });
    await withTempDir('reqset-hook-image-', async (dir) => {
      const containerfile = [
        `# ${base.name} plus the build packages of ${path.basename(hook.file)}; made by reqset.`,
        `FROM ${base.id}`,
        `RUN ${installCommand(target.format, packages)}`,
        `LABEL io.reqset.hook-packages="${packages.join(' ')}" io.reqset.builder-image="${base.name}"`,
        '',
      ].join('\n');
      await writeFile(path.join(dir, 'Containerfile'), containerfile);
      // FROM the builder image's ID: local by definition, never pulled.
      const noPull = this.kind === 'podman' ? '--pull=never' : '--pull=false';
      await engineRun(engine, ['build', noPull, '-t', tag, '-f', path.join(dir, 'Containerfile'), dir], {
        timeoutMs: 30 * 60_000,
        tailLines: 30,
        failureNote: `${hook.file}: its build packages (${packages.join(' ')}) could not be installed in ${base.name}: check the names and that the image's package repositories are reachable`,
      });
    });
    const info = await inspectImage(engine, tag);
    if (!info) throw new ToolError(`${this.kind} build reported success but ${tag} is not in its image store`);
    this.settings.progress?.({ stage: 'builder', item: tag, state: 'built', elapsedMs: Date.now() - started, detail: packages.join(' ') });
    return { image: tag, id: info.id };
  }

  async run(request: BuildRequest): Promise<RunResult> {
    const engine = await this.engine();
    const base = await this.image();
    const derived = request.hook ? await this.hookImage(request.hook) : undefined;
    const args = ['run', '--rm', '--pull=never', '--security-opt', 'label=disable'];
    if (!request.network) args.push('--network=none');
    if (this.kind === 'docker' && typeof process.getuid === 'function' && process.getuid() !== 0) {
      // Files the build writes belong to the caller (rootless podman maps root to the caller already).
      args.push('--user', `${process.getuid()}:${process.getgid?.() ?? 0}`);
    }
    args.push(...mountArguments(request.read, request.write));
    args.push('--workdir', request.cwd);
    for (const name of Object.keys(request.env).sort()) args.push('--env', name);
    args.push(derived?.id ?? base.id, ...request.argv);
    return engineRun(engine, args, { env: request.env, allowFailure: true });
  }
}

/**
 * `--mount` arguments that show each host path at the same path: writable
 * ones read-write, the rest read-only, each once. Paths that do not exist are
 * skipped (a find-links directory that is not there).
 */
export function mountArguments(read: string[], write: string[], exists: (p: string) => boolean = existsSync): string[] {
  const mode = new Map<string, 'ro' | 'rw'>();
  for (const p of read) if (!mode.has(path.resolve(p))) mode.set(path.resolve(p), 'ro');
  for (const p of write) mode.set(path.resolve(p), 'rw');
  const args: string[] = [];
  for (const [p, m] of [...mode].sort(([a], [b]) => a.localeCompare(b))) {
    if (!exists(p)) continue;
    if (/[,\n]/.test(p)) throw new InputError(`${p}: a path with a comma or newline cannot be mounted into a build container: rename it, or build with --builder local`);
    args.push('--mount', `type=bind,source=${p},target=${p}${m === 'ro' ? ',readonly' : ''}`);
  }
  return args;
}
