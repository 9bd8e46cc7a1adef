/**
 * Real installs for end-to-end tests: a Debian 12 root made with debootstrap
 * (cached as a tarball between runs), RPMs installed into it with the real
 * dnf, DEBs with the real apt-get inside it.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../src/run.ts';

const CACHE = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'reqset-test');
const ROOT_PACKAGES = ['python3', 'python3-venv'];

/**
 * Makes (once) and returns the tarball of a minimal Debian 12 root with
 * python3, venv and the `include` packages (e.g. the runtime libraries of a
 * reqset's compiled wheels, which the roots' empty sources.list cannot add).
 */
export async function rootTarball(include: string[] = []): Promise<string> {
  const tarball = path.join(CACHE, `bookworm-minbase-${['python3-venv', ...include].join('-')}.tar`);
  if (existsSync(tarball)) return tarball;
  await mkdir(CACHE, { recursive: true });
  await removeAbandonedDebootstraps();
  const dir = await mkdtemp(path.join(CACHE, `debootstrap-${process.pid}-`));
  try {
    await run(['debootstrap', '--variant=minbase', `--include=${[...ROOT_PACKAGES, ...include].join(',')}`, 'bookworm', dir], { timeoutMs: 15 * 60_000 });
    await run(['tar', '-C', dir, '-cf', `${tarball}.part`, '.']);
    await run(['mv', `${tarball}.part`, tarball]);
  } finally {
    await removeRoot(dir);
  }
  return tarball;
}

/**
 * A debootstrap that is killed leaves its root's /proc (and maybe /sys)
 * mounted: unmount everything below the root, deepest first, before removing
 * it, or `rm` walks into the live /proc.
 */
async function removeRoot(dir: string): Promise<void> {
  const mounts = (await run(['findmnt', '-rn', '-o', 'TARGET'])).stdout.split('\n');
  const below = mounts.filter((m) => m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  for (const mount of below) await run(['umount', '-l', mount]);
  await rm(dir, { recursive: true, force: true });
}

/** The debootstrap directories of test processes that are gone (named debootstrap-<pid>-*). */
async function removeAbandonedDebootstraps(): Promise<void> {
  for (const entry of await readdir(CACHE)) {
    const pid = /^debootstrap-(\d+)-/.exec(entry)?.[1];
    if (pid && !processAlive(Number(pid))) await removeRoot(path.join(CACHE, entry));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TargetRoot {
  dir: string;
  /** Runs a command chrooted into the root. */
  exec(argv: string[], options?: { allowFailure?: boolean }): ReturnType<typeof run>;
  /** Every file below a directory of the root (paths as seen inside the root). */
  filesUnder(dir: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** A root extracted from the tarball of `rootTarball(options.include)`. */
export async function freshRoot(options: { include?: string[] } = {}): Promise<TargetRoot> {
  const tarball = await rootTarball(options.include);
  const dir = await mkdtemp(path.join(tmpdir(), 'reqset-root-'));
  await run(['tar', '-C', dir, '-xf', tarball]);
  // apt downloads as its `_apt` user, which must reach the root: mkdtemp made it (and
  // the debootstrap directory in the tarball) 0700, and apt then warns "Download is
  // performed unsandboxed as root".
  await chmod(dir, 0o755);
  // Only local repositories: the root must never reach for a mirror.
  await writeFile(path.join(dir, 'etc', 'apt', 'sources.list'), '');
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', HOME: '/root' };
  return {
    dir,
    exec: (argv, options = {}) => run(['chroot', dir, ...argv], { env, replaceEnv: true, allowFailure: options.allowFailure }),
    async filesUnder(inside) {
      const base = path.join(dir, inside);
      if (!existsSync(base)) return [];
      const entries = await readdir(base, { recursive: true, withFileTypes: true });
      return entries.filter((e) => !e.isDirectory()).map((e) => path.join(inside, path.relative(base, path.join(e.parentPath, e.name)))).sort();
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * An RPM that provides what the Debian root has but its rpm database does not
 * know (the interpreter, libc, /bin/sh): the requirements of `rpms` that none
 * of them provides, as mock's "fakeprovide" does.
 */
export async function fakeProvideRpm(rpms: string[], outDir: string): Promise<string> {
  const query = async (flag: string) =>
    (await run(['rpm', '-qp', flag, ...rpms])).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  const provided = new Set((await query('--provides')).map((p) => p.split(' ')[0]));
  // Rich dependencies (`(a >= 1 with a < 2)`) are reqset's ranges between its own packages.
  const needed = [...new Set(await query('--requires'))].filter((r) => !r.startsWith('rpmlib(') && !r.startsWith('(') && !provided.has(r.split(' ')[0])).sort();
  const work = await mkdtemp(path.join(tmpdir(), 'reqset-fakeprovide-'));
  try {
    const spec = path.join(work, 'fakeprovide.spec');
    await writeFile(
      spec,
      [
        'Name: reqset-test-fakeprovide',
        'Version: 1',
        'Release: 1',
        'Summary: Test only: what the Debian root provides outside rpm',
        'License: MIT',
        'BuildArch: noarch',
        ...needed.map((n) => `Provides: ${n}`),
        '%description',
        'Test only.',
        '%files',
        '',
      ].join('\n'),
    );
    await run(['rpmbuild', '-bb', '--define', `_topdir ${work}`, '--define', `_rpmdir ${outDir}`, '--define', '_build_name_fmt %%{NAME}.rpm', spec]);
    return path.join(outDir, 'reqset-test-fakeprovide.rpm');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A yum repository of the given RPMs. */
export async function rpmRepo(rpms: string[], dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const rpm of rpms) await copyFile(rpm, path.join(dir, path.basename(rpm)));
  await run(['createrepo_c', '--quiet', dir]);
  return dir;
}

/** The real dnf installing into the root from a local repository. */
export function dnf(root: TargetRoot, repo: string, args: string[], options: { allowFailure?: boolean } = {}) {
  return run(
    [
      'dnf', '-y', `--installroot=${root.dir}`, '--releasever=1', '--disablerepo=*', `--repofrompath=local,file://${repo}`,
      '--enablerepo=local', '--setopt=local.gpgcheck=0', '--setopt=install_weak_deps=False', '--refresh', ...args,
    ],
    { allowFailure: options.allowFailure, timeoutMs: 10 * 60_000 },
  );
}

/** Puts the DEBs in an apt repository inside the root and points apt at it (only). */
export async function aptRepo(root: TargetRoot, debs: string[]): Promise<void> {
  const repo = path.join(root.dir, 'srv', 'repo');
  await rm(repo, { recursive: true, force: true });
  await mkdir(repo, { recursive: true });
  for (const deb of debs) await copyFile(deb, path.join(repo, path.basename(deb)));
  const scan = await run(['dpkg-scanpackages', '--multiversion', '.'], { cwd: repo });
  await writeFile(path.join(repo, 'Packages'), scan.stdout);
  await writeFile(path.join(root.dir, 'etc', 'apt', 'sources.list.d', 'reqset-test.list'), 'deb [trusted=yes] file:/srv/repo ./\n');
  await root.exec(['apt-get', 'update', '-qq']);
}

export function apt(root: TargetRoot, args: string[], options: { allowFailure?: boolean } = {}) {
  return root.exec(['apt-get', '-y', '-q', '--allow-downgrades', ...args], options);
}
