/**
 * What the publish tests of both formats start from: v1, v2 (textfmt 1.0.0
 * -> 1.1.0, release 2 everywhere by --release) and v3 (release 3) of the
 * example reqset built for one target; a copy of the v2 build whose runtime
 * package is replaced by another one of the same name and version; repository
 * snapshots; fake tools in front of PATH.
 */
import { chmod, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as api from '../../src/api.ts';
import { sha256File } from '../../src/fsutil.ts';
import { run } from '../../src/run.ts';
import { loadTarget, type Target } from '../../src/targets/target.ts';
import { makeUpgradeWorkspaces, type Workspace } from './workspace.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export type Version = 'v1' | 'v2' | 'v3';

export interface PublishVersions {
  target: Target;
  built: Record<Version, api.BuildResult>;
  /** `<out>/<reqset>/<target>/packages` of each build. */
  packages: Record<Version, string>;
  /** Packages of one build: runtime, pins and the wheel packages. */
  count: number;
  cleanup(): Promise<void>;
}

/** Builds v1, v2 and v3 of the example reqset for `targetName` (one wheel cache). */
export async function buildPublishVersions(reqset: string, targetName: string): Promise<PublishVersions> {
  let workspaces: { v1: Workspace; v2: Workspace } | undefined;
  try {
    workspaces = await makeUpgradeWorkspaces(reqset);
    const { v1, v2 } = workspaces;
    const options = (ws: Workspace, out: string, release: string) => ({ workspace: ws.dir, out, wheelCache: v1.cache, jobs: 2, release });
    const built = {
      v1: await api.buildTarget(reqset, targetName, options(v1, v1.out, '1')),
      v2: await api.buildTarget(reqset, targetName, options(v2, v2.out, '2')),
      v3: await api.buildTarget(reqset, targetName, options(v2, path.join(v2.dir, 'out3'), '3')),
    };
    const packagesOf = (v: Version) => path.join(built[v].outDir, 'packages');
    const cleanup = async () => {
      await v1.cleanup();
      await v2.cleanup();
    };
    return { target: await loadTarget(ROOT, targetName), built, packages: { v1: packagesOf('v1'), v2: packagesOf('v2'), v3: packagesOf('v3') }, count: api.manifestPackages(built.v1.manifest).length, cleanup };
  } catch (error) {
    await workspaces?.v1.cleanup();
    await workspaces?.v2.cleanup();
    throw error;
  }
}

/**
 * A copy of the v2 build (in `work`) whose runtime package (0.1, release 2)
 * is replaced by a hand-made package of the same name and version; returns
 * its packages directory.
 */
export async function conflictingV2(versions: PublishVersions, work: string, reqset: string): Promise<string> {
  const dir = path.join(work, 'conflicting', 'packages');
  await cp(versions.built.v2.outDir, path.dirname(dir), { recursive: true });
  const name = `${reqset}-runtime`;
  const release = '2';
  if (versions.target.format === 'rpm') {
    await rm(path.join(dir, `${name}-0.1-${release}.noarch.rpm`));
    await handMadeRpm(dir, name, '0.1', release, 'not the real runtime');
  } else {
    const tree = path.join(work, 'fake-runtime');
    await mkdir(path.join(tree, 'DEBIAN'), { recursive: true });
    await writeFile(path.join(tree, 'DEBIAN', 'control'), `Package: ${name}\nVersion: 0.1-${release}\nArchitecture: all\nMaintainer: x <x@example.invalid>\nDescription: not the real runtime\n`);
    await run(['dpkg-deb', '--root-owner-group', '--build', tree, path.join(dir, `${name}_0.1-${release}_all.deb`)]);
  }
  return dir;
}

/** A tiny noarch RPM built by hand. */
async function handMadeRpm(dir: string, name: string, version: string, release: string, summary: string): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'reqset-handmade-'));
  try {
    const spec = path.join(work, 'x.spec');
    await writeFile(spec, [`Name: ${name}`, `Version: ${version}`, `Release: ${release}`, `Summary: ${summary}`, 'License: MIT', 'BuildArch: noarch', '%description', summary, '%files', ''].join('\n'));
    await mkdir(dir, { recursive: true });
    await run(['rpmbuild', '-bb', '--define', `_topdir ${work}`, '--define', `_rpmdir ${dir}`, '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', spec]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Every file below `dir` with its sha256. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: Record<string, string> = {};
  for (const e of entries.filter((e) => e.isFile()).sort((a, b) => (a.parentPath + a.name < b.parentPath + b.name ? -1 : 1))) {
    const file = path.join(e.parentPath, e.name);
    files[path.relative(dir, file)] = await sha256File(file);
  }
  return files;
}

/** PATH with a directory of fake tools (shell scripts) in front, only to provoke failures. */
export async function withFakeTools<T>(tools: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'reqset-fake-'));
  for (const [name, script] of Object.entries(tools)) {
    await writeFile(path.join(dir, name), `#!/bin/sh\n${script}\n`);
    await chmod(path.join(dir, name), 0o755);
  }
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved}`;
  try {
    return await work();
  } finally {
    process.env.PATH = saved;
    await rm(dir, { recursive: true, force: true });
  }
}
