/**
 * Container engines (podman, docker) as reqset runs them.
 *
 * podman always runs with reqset's own containers.conf (in reqset's cache
 * dir, passed as CONTAINERS_CONF unless the caller's environment already
 * names one) that sets `[containers] default_ulimits = []`, and with
 * `--runtime runc` whenever runc is installed. Both are harmless where they
 * are not needed and are what makes podman work at all where setting
 * rlimits is not permitted and crun cannot manage cgroups (containers inside
 * containers, CI sandboxes). Note that CONTAINERS_CONF replaces the system's
 * containers.conf for these calls: set CONTAINERS_CONF yourself to keep yours.
 */
import { accessSync, constants } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { run, type RunOptions, type RunResult } from '../run.ts';

export type EngineName = 'podman' | 'docker';

export const CONTAINERS_CONF = '# Written by reqset: podman as reqset runs it (see src/builders/engine.ts).\n[containers]\ndefault_ulimits = []\n';

export interface Engine {
  name: EngineName;
  /** The engine's argv prefix, e.g. ['podman', '--runtime', 'runc']. */
  argv: string[];
  /** Environment for every engine call. */
  env: Record<string, string>;
}

/** An executable on PATH (or in the sbin directories runc usually lives in). */
export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

const INSTALL: Record<EngineName, string> = {
  podman: 'apt-get install podman runc (Debian/Ubuntu) or dnf install podman (RHEL/Fedora)',
  docker: 'install Docker Engine and make sure its daemon runs (https://docs.docker.com/engine/install/), or use --builder podman',
};

const opened = new Map<string, Promise<Engine>>();

/**
 * The engine, checked once per process: on PATH and (docker) its daemon
 * reachable. `stateDir` holds reqset's containers.conf.
 */
export function openEngine(name: EngineName, stateDir: string): Promise<Engine> {
  const key = `${name}\0${stateDir}`;
  let engine = opened.get(key);
  if (!engine) {
    engine = probeEngine(name, stateDir);
    opened.set(key, engine);
    engine.catch(() => opened.delete(key));
  }
  return engine;
}

async function probeEngine(name: EngineName, stateDir: string): Promise<Engine> {
  const executable = findExecutable(name);
  if (!executable) throw new ToolError(`${name} is not installed (not on PATH): ${INSTALL[name]}; or build on this machine with --builder local`);
  if (name === 'docker') {
    const version = await run([executable, 'version', '--format', '{{.Server.Version}}'], { allowFailure: true });
    if (version.exitCode !== 0) {
      const why = version.stderr.trim().split('\n').slice(-2).join(' ');
      throw new ToolError(`docker is installed but cannot reach its daemon (${why}): start it, or use --builder podman`);
    }
    return { name, argv: [executable], env: {} };
  }
  const argv = [executable];
  const runc = findExecutable('runc', ['/usr/sbin', '/usr/bin', '/sbin', '/usr/local/sbin']);
  if (runc) argv.push('--runtime', runc);
  const env: Record<string, string> = {};
  if (!process.env.CONTAINERS_CONF) env.CONTAINERS_CONF = await writeContainersConf(stateDir);
  return { name, argv, env };
}

/** reqset's containers.conf, written atomically when missing or different. */
export async function writeContainersConf(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'containers.conf');
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current !== CONTAINERS_CONF) {
    await mkdir(stateDir, { recursive: true });
    const part = `${file}.${process.pid}.part`;
    await writeFile(part, CONTAINERS_CONF);
    await rename(part, file);
  }
  return file;
}

/** Runs `<engine> ...args`. */
export function engineRun(engine: Engine, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return run([...engine.argv, ...args], { ...options, env: { ...engine.env, ...options.env } });
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
}

/** The local image's ID and labels, or undefined when the engine does not have it. */
export async function inspectImage(engine: Engine, image: string): Promise<ImageInfo | undefined> {
  // The JSON, not --format: podman's and docker's template fields differ.
  const result = await engineRun(engine, ['image', 'inspect', image], { allowFailure: true });
  if (result.exitCode !== 0) return undefined;
  const [info] = JSON.parse(result.stdout) as { Id: string; Labels?: Record<string, string> | null; Config?: { Labels?: Record<string, string> | null } }[];
  if (!info) return undefined;
  return { id: info.Id, labels: info.Config?.Labels ?? info.Labels ?? {} };
}
