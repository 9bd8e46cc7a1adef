/**
 * Builders: where the wheels stage runs pip (this machine, or the target's
 * builder image with podman or docker), the builder images themselves, and
 * per-package build hooks.
 */
import path from 'node:path';
import { InputError } from '../errors.ts';
import type { Progress } from '../progress.ts';
import { loadTarget, type Target } from '../targets/target.ts';
import { buildBuilderImage, makeBuilder, type Builder, type BuilderImageResult, type BuilderKind } from './builder.ts';
import { HOOKS_DIR, loadHooks, type Hooks } from './hooks.ts';

export { BUILDER_KINDS, type BuilderKind } from './builder.ts';

export interface WheelBuildSettings {
  target: Target;
  /** The workspace: its packaging/hooks and, if it has one, its own builder Containerfile. */
  workspace: string;
  /** The wheel cache directory (also where reqset keeps its containers.conf). */
  cacheDir: string;
  /** --builder (default local). */
  builder?: BuilderKind;
  /** --builder-base */
  builderBase?: string;
  /** --builder-image: run this image instead of the target's builder.image. */
  builderImage?: string;
  /** --python */
  python?: string;
  progress?: Progress;
}

/** The `builder` and `hooks` of the wheels stage's options (buildWheelhouse), from the CLI's settings. */
export async function wheelBuildOptions(settings: WheelBuildSettings): Promise<{ builder: Builder; hooks: Hooks }> {
  return {
    builder: makeBuilder({
      kind: settings.builder ?? 'local',
      target: settings.target,
      python: settings.python,
      base: settings.builderBase,
      image: settings.builderImage,
      workspace: settings.workspace,
      stateDir: settings.cacheDir,
      progress: settings.progress,
    }),
    hooks: await loadHooks(path.join(settings.workspace, HOOKS_DIR)),
  };
}

export interface BuilderImageCommandOptions {
  workspace?: string;
  /** podman (default) or docker. */
  builder?: BuilderKind;
  builderBase?: string;
  /** Where reqset keeps its container engine settings (the wheel cache directory). */
  stateDir: string;
  /** Rebuild even when an image from the same Containerfile and base exists. */
  force?: boolean;
  progress?: Progress;
}

/** `reqset builder-image --target T`: makes (or finds up to date) the target's builder image. */
export async function makeBuilderImage(targetName: string, options: BuilderImageCommandOptions): Promise<BuilderImageResult> {
  const workspace = path.resolve(options.workspace ?? '.');
  const target = await loadTarget(workspace, targetName);
  if (options.builder === 'local') throw new InputError('builder-image: --builder local has no image: use --builder podman or --builder docker');
  const engine = options.builder === 'docker' ? 'docker' : 'podman';
  return buildBuilderImage({
    target,
    engine,
    base: options.builderBase,
    workspace,
    stateDir: options.stateDir,
    force: options.force,
    progress: options.progress,
  });
}
