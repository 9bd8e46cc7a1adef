/**
 * podman for tests: that it can run containers here (a test environment
 * error, naming what is missing, if not), the local Debian 12 base image (the debootstrapped root of
 * rootTarball() imported once, kept by podman), and the debian12 builder
 * image made FROM it under a test-only name.
 */
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import * as api from '../../src/api.ts';
import { buildBuilderImage, type BuilderImageResult, type BuilderKind } from '../../src/builders/builder.ts';
import { engineRun, findExecutable, inspectImage, openEngine, type Engine } from '../../src/builders/engine.ts';
import type { ProgressEvent } from '../../src/progress.ts';
import { loadTarget, TOOL_ROOT } from '../../src/targets/target.ts';
import type { WheelRecord } from '../../src/wheels/wheelhouse.ts';
import { MissingTestEnvironment } from './env.ts';
import { rootTarball } from './target-root.ts';
import type { Workspace } from './workspace.ts';

export const TEST_BASE = 'localhost/reqset-test-bookworm';
/** Not the target's own image name: tests never replace a user's builder image. */
export const TEST_BUILDER_IMAGE = 'localhost/reqset-test-builder-debian12';

/** reqset's engine state for tests (its containers.conf). */
export const ENGINE_STATE = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'reqset-test', 'engine');

export async function testEngine(): Promise<Engine> {
  await mkdir(ENGINE_STATE, { recursive: true });
  return openEngine('podman', ENGINE_STATE);
}

/** The Debian 12 base image, imported from the debootstrapped root once. */
export async function testBase(): Promise<string> {
  const engine = await testEngine();
  if (!(await inspectImage(engine, TEST_BASE))) {
    await engineRun(engine, ['import', await rootTarball(), TEST_BASE], { timeoutMs: 10 * 60_000 });
  }
  return TEST_BASE;
}

let usable: Promise<string | undefined> | undefined;

/** Why podman cannot run containers here, or undefined when it can. */
function podmanProblem(): Promise<string | undefined> {
  return (usable ??= (async () => {
    if (!findExecutable('podman')) return 'podman is not installed (apt-get install podman runc)';
    try {
      const engine = await testEngine();
      const base = await testBase();
      const probe = await engineRun(engine, ['run', '--rm', '--pull=never', '--network=none', base, 'true'], { allowFailure: true, timeoutMs: 120_000 });
      if (probe.exitCode !== 0) return `podman cannot run containers here: ${probe.stderr.trim().split('\n').slice(-2).join(' ')}`;
    } catch (error) {
      return `podman cannot run containers here: ${(error as Error).message.split('\n')[0]}`;
    }
    return undefined;
  })());
}

/** Fails (MissingTestEnvironment) when podman cannot run containers here: the setup installs it. */
export async function requirePodman(): Promise<void> {
  const problem = await podmanProblem();
  if (problem) throw new MissingTestEnvironment(`podman that can run containers (${problem})`, 'scripts/setup-debian.sh installs podman and runc');
}

let builder: Promise<BuilderImageResult> | undefined;

/** The debian12 builder image from docker/debian12/Containerfile with BASE=the test base (podman keeps it). */
export function testBuilderImage(): Promise<BuilderImageResult> {
  return (builder ??= (async () =>
    buildBuilderImage({
      target: await loadTarget(path.join(TOOL_ROOT, '.no-workspace'), 'debian12'),
      engine: 'podman',
      base: await testBase(),
      image: TEST_BUILDER_IMAGE,
      stateDir: ENGINE_STATE,
    }))());
}

export interface BuilderRun {
  builder?: BuilderKind;
  builderBase?: string;
  builderImage?: string;
  python?: string;
  events?: ProgressEvent[];
  cache?: string;
}

/** The wheels stage of a test workspace for debian12, through api.ts as the CLI runs it. */
export async function buildWheels(ws: Workspace, reqset: string, wheelsDir: string, settings: BuilderRun = {}): Promise<WheelRecord[]> {
  const options: api.CommonOptions = {
    workspace: ws.dir,
    out: ws.out,
    wheelCache: settings.cache ?? ws.cache,
    jobs: 2,
    python: settings.python,
    builder: settings.builder,
    builderBase: settings.builderBase,
    builderImage: settings.builderImage,
    progress: (e: ProgressEvent) => settings.events?.push(e),
  };
  return api.buildJobWheels(await api.prepareJob(reqset, 'debian12', options), wheelsDir, options);
}
