/**
 * Endpoint services for real: an application with two services (one enabled
 * by the distribution's policy, one with `enable: false`) and a
 * configuration file, installed with dnf and with apt-get into Debian 12
 * roots that have systemd, then upgraded, upgraded to a release whose venv
 * check fails, and erased.
 *
 * systemd does not run in the roots, so the root's systemctl is replaced by
 * a wrapper (installTraceSystemctl) that records every call in a trace, does
 * what works on files (enable, disable, preset, is-enabled) on the root
 * with the real systemctl, and answers the runtime verbs (start, restart,
 * try-restart, stop, daemon-reload) with success, as a running systemd
 * would; /run/systemd/system exists, which is how deb-systemd-invoke and the
 * maintainer scripts tell that systemd runs. The trace shows what the
 * scriptlets asked systemd to do, and when.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { engineRun, inspectImage } from '../../src/builders/engine.ts';
import { makeWheel } from '../helpers/make-wheel.ts';
import { requirePodman, testEngine } from '../helpers/podman.ts';
import { apt, aptRepo, dnf, fakeProvideRpm, freshRoot, rootTarball, rpmRepo, type TargetRoot } from '../helpers/target-root.ts';

const REQSET = 'svc';
const ROOT_PACKAGES = ['systemd', 'adduser'];
const TRACE = '/var/log/reqset-test-systemctl.trace';

const SPEC = `name: app
reqset: ${REQSET}
distribution: svcapp
summary: The service application
scripts: [svcapp]
services:
  - name: svc-api
    exec: [svcapp, serve, --port, "8080", --greeting, "it's 100% fine"]
    user: svcuser
    working-directory: /tmp
  - name: svc-worker
    exec: [svcapp, work]
    user: svcworker
    group: svcuser
    restart: always
    enable: false
files:
  - source: config/app.toml
    dest: /etc/${REQSET}-app/app.toml
    mode: "0640"
`;

/** v1 and v2 work; v3 raises on import, so its post-install's venv check fails. */
const VERSIONS = { v1: '1.0', v2: '1.1', v3: '1.2' } as const;
type Version = keyof typeof VERSIONS;

async function appWheel(dir: string, version: string) {
  const broken = version === VERSIONS.v3 ? 'raise RuntimeError("release 1.2 is broken on purpose")\n' : '';
  await makeWheel(dir, {
    name: 'svcapp',
    version,
    files: { 'svcapp/__init__.py': `${broken}import sys\ndef main():\n    print("svcapp ${version}", *sys.argv[1:])\n` },
    entryPoints: '[console_scripts]\nsvcapp = svcapp:main\n',
  });
}

async function makeServiceWorkspace(dir: string, version: string) {
  await mkdir(path.join(dir, 'reqsets'), { recursive: true });
  await mkdir(path.join(dir, 'specs'));
  await mkdir(path.join(dir, 'config'));
  await appWheel(path.join(dir, 'wheels'), version);
  await writeFile(path.join(dir, 'reqsets', `${REQSET}.txt`), `--no-index\n--find-links ../wheels\nsvcapp==${version}\n`);
  await writeFile(path.join(dir, 'specs', 'app.yml'), SPEC);
  await writeFile(path.join(dir, 'config', 'app.toml'), 'port = 8080\n');
}

/** The wrapper described at the top: the real systemctl moved aside, every call recorded. */
async function installTraceSystemctl(root: TargetRoot) {
  const bin = path.join(root.dir, 'usr', 'bin');
  await rename(path.join(bin, 'systemctl'), path.join(bin, 'systemctl.real'));
  await writeFile(
    path.join(bin, 'systemctl'),
    [
      '#!/bin/sh',
      `echo "$*" >> ${TRACE}`,
      'args=""',
      'for a in "$@"; do',
      '  case "$a" in',
      '    start|stop|restart|try-restart|daemon-reload|reload|reload-or-restart|is-active|is-failed) exit 0 ;;',
      '    --now) ;;',
      `    *) args="$args '$(printf %s "$a" | sed "s/'/'\\\\\\\\''/g")'" ;;`,
      '  esac',
      'done',
      'eval "exec /usr/bin/systemctl.real --root=/ $args"',
      '',
    ].join('\n'),
  );
  await chmod(path.join(bin, 'systemctl'), 0o755);
  await mkdir(path.join(root.dir, 'run', 'systemd', 'system'), { recursive: true });
}

/** The systemctl calls since the last one, and a fresh trace. */
async function takeTrace(root: TargetRoot): Promise<string[]> {
  const file = path.join(root.dir, TRACE);
  const text = await readFile(file, 'utf8').catch(() => '');
  await rm(file, { force: true });
  return text.split('\n').filter(Boolean);
}

const modeOf = async (root: TargetRoot, file: string) => ((await stat(path.join(root.dir, file))).mode & 0o7777).toString(8);
const wants = (unit: string) => `/etc/systemd/system/multi-user.target.wants/${unit}`;
/** Whether the root has `file` (a symbolic link itself: its target is absolute inside the root). */
const exists = (root: TargetRoot, file: string) => lstat(path.join(root.dir, file)).then(() => true, () => false);

/** After the first install: units valid, enabled as the policy says, users made, configuration files at their modes. */
async function assertInstalled(root: TargetRoot, unitDir: string) {
  for (const unit of ['svc-api.service', 'svc-worker.service']) {
    assert.ok(await exists(root, `${unitDir}/${unit}`), unit);
    const verify = await root.exec(['systemd-analyze', 'verify', `${unitDir}/${unit}`], { allowFailure: true });
    assert.deepEqual([verify.exitCode, verify.stderr.trim()], [0, ''], `systemd-analyze verify ${unit}`);
  }
  assert.ok(await exists(root, wants('svc-api.service')), 'svc-api is enabled');
  assert.equal(await exists(root, wants('svc-worker.service')), false, 'svc-worker (enable: false) is not');
  assert.match((await root.exec(['getent', 'passwd', 'svcuser'])).stdout, /^svcuser:x:\d+:\d+:.*:\/usr\/sbin\/nologin$/m);
  assert.equal((await root.exec(['id', '-gn', 'svcworker'])).stdout.trim(), 'svcuser', 'svcworker\'s primary group');
  assert.equal(await modeOf(root, `/etc/${REQSET}-app/svc-api.env`), '600');
  assert.equal(await modeOf(root, `/etc/${REQSET}-app/app.toml`), '640');
  assert.equal(await readFile(path.join(root.dir, 'etc', `${REQSET}-app`, 'app.toml'), 'utf8'), 'port = 8080\n');
}

const ENV_FILE = `/etc/${REQSET}-app/svc-api.env`;

async function editEnvFile(root: TargetRoot) {
  await writeFile(path.join(root.dir, ENV_FILE), 'GREETING=edited by the admin\n');
}

const appVersion = async (root: TargetRoot) => (await root.exec(['/usr/bin/svcapp'])).stdout.trim();

const packageFiles = (result: api.BuildResult) => api.manifestPackages(result.manifest).map((p) => path.join(result.outDir, p.path));

/** dnf install, upgrade, a failed upgrade and remove, with the systemctl trace after each. */
async function rpmLifecycle(b: Record<Version, api.BuildResult>, work: string) {
  const root = await freshRoot({ include: ROOT_PACKAGES });
  try {
    await installTraceSystemctl(root);
    await mkdir(path.join(root.dir, 'etc', 'systemd', 'system-preset'), { recursive: true });
    await writeFile(path.join(root.dir, 'etc', 'systemd', 'system-preset', '50-reqset-test.preset'), 'enable svc-api.service\n');
    const all = [...packageFiles(b.v1), ...packageFiles(b.v2), ...packageFiles(b.v3)];
    const fake = await fakeProvideRpm(all, path.join(root.dir, 'tmp'));
    const repo = (name: string, files: string[]) => rpmRepo([...files, fake], path.join(work, `repo-${name}`));
    const [r1, r2, r3] = [await repo('1', packageFiles(b.v1)), await repo('2', [...packageFiles(b.v1), ...packageFiles(b.v2)]), await repo('3', all)];
    await dnf(root, r1, ['install', 'reqset-test-fakeprovide']);

    await dnf(root, r1, ['install', `${REQSET}-app`]);
    await assertInstalled(root, '/usr/lib/systemd/system');
    assert.deepEqual(await takeTrace(root), ['--no-reload preset svc-api.service'], 'presets decide; nothing is started on RPM');
    assert.equal(await appVersion(root), 'svcapp 1.0');

    await editEnvFile(root);
    await dnf(root, r2, ['upgrade']);
    assert.equal(await appVersion(root), 'svcapp 1.1');
    assert.deepEqual(await takeTrace(root), ['daemon-reload', 'try-restart svc-api.service svc-worker.service'], 'restarted after the new venv is in place');
    assert.equal(await readFile(path.join(root.dir, ENV_FILE), 'utf8'), 'GREETING=edited by the admin\n', 'the edited env file is kept');

    const failed = await dnf(root, r3, ['upgrade'], { allowFailure: true });
    assert.match(failed.stdout + failed.stderr, /broken on purpose/);
    assert.deepEqual(await takeTrace(root), [], 'a failed venv check neither stops nor restarts anything');
    assert.equal(await appVersion(root), 'svcapp 1.1', 'the old venv (and service) still runs');

    await dnf(root, r3, ['remove', `${REQSET}-app`]);
    assert.deepEqual(await takeTrace(root), ['--no-reload disable --now svc-api.service svc-worker.service', 'daemon-reload']);
    assert.equal(await exists(root, wants('svc-api.service')), false, 'disabled');
    assert.equal(await exists(root, '/usr/lib/systemd/system/svc-api.service'), false, 'the unit is gone');
    assert.ok(await exists(root, `${ENV_FILE}.rpmsave`), 'rpm keeps the edited configuration as .rpmsave');
    assert.equal(await exists(root, `/etc/${REQSET}-app/app.toml`), false);
  } finally {
    await root.cleanup();
  }
}

/** apt-get install, upgrade, a failed upgrade and purge, with the systemctl trace after each. */
async function debLifecycle(b: Record<Version, api.BuildResult>) {
  const root = await freshRoot({ include: ROOT_PACKAGES });
  try {
    await installTraceSystemctl(root);
    await aptRepo(root, packageFiles(b.v1));
    await apt(root, ['install', `${REQSET}-app`]);
    await assertInstalled(root, '/lib/systemd/system');
    // deb-systemd-helper enable (with the presets' enable-only mode), then deb-systemd-invoke start of an enabled unit.
    assert.deepEqual(await takeTrace(root), [
      '--root=/ --system --preset-mode=enable-only preset svc-api.service',
      '--system daemon-reload',
      '--system is-enabled -- svc-api.service',
      '--system --quiet is-active -- svc-api.service',
      '--quiet --system start svc-api.service',
    ]);
    assert.equal(await appVersion(root), 'svcapp 1.0');

    await editEnvFile(root);
    await aptRepo(root, [...packageFiles(b.v1), ...packageFiles(b.v2)]);
    await apt(root, ['dist-upgrade']);
    assert.equal(await appVersion(root), 'svcapp 1.1');
    const upgraded = await takeTrace(root);
    assert.ok(upgraded.some((l) => /restart svc-api\.service/.test(l)) && upgraded.some((l) => /try-restart svc-worker\.service/.test(l)), upgraded.join('\n'));
    assert.equal(upgraded.some((l) => /\bstop\b/.test(l)), false, 'nothing stopped on upgrade');
    assert.equal(await readFile(path.join(root.dir, ENV_FILE), 'utf8'), 'GREETING=edited by the admin\n', 'the edited conffile is kept');

    await aptRepo(root, [...packageFiles(b.v1), ...packageFiles(b.v2), ...packageFiles(b.v3)]);
    const failed = await apt(root, ['dist-upgrade'], { allowFailure: true });
    assert.notEqual(failed.exitCode, 0);
    assert.match(failed.stdout + failed.stderr, /broken on purpose/);
    assert.deepEqual((await takeTrace(root)).filter((l) => /start|stop/.test(l)), [], 'a failed venv check neither stops nor restarts anything');
    assert.equal(await appVersion(root), 'svcapp 1.1', 'the old venv (and service) still runs');

    await apt(root, ['purge', `${REQSET}-app`]);
    const purged = await takeTrace(root);
    assert.ok(purged.some((l) => /stop svc-api\.service svc-worker\.service/.test(l)), purged.join('\n'));
    assert.equal(await exists(root, wants('svc-api.service')), false, 'disabled');
    assert.equal(await exists(root, '/lib/systemd/system/svc-api.service'), false, 'the unit is gone');
    assert.equal(await exists(root, `/etc/${REQSET}-app`), false, 'purge removes the configuration');
  } finally {
    await root.cleanup();
  }
}

const SYSTEMD_IMAGE = 'localhost/reqset-test-bookworm-systemd';

/** What the service printed to the journal, once it has run (it prints a line and exits). */
async function journalLine(run: (argv: string[]) => Promise<{ stdout: string }>, version: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const line = (await run(['journalctl', '-u', 'svc-api', '--no-pager', '-o', 'cat'])).stdout.split('\n').find((l) => l.startsWith(`svcapp ${version}`));
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`svc-api printed no "svcapp ${version}" line`);
}

/**
 * systemd as init in a podman container (the Debian 12 root with systemd as
 * the image): apt-get installs v1, systemd starts the service with the
 * spec's arguments as its user; the upgrade to v2 restarts it.
 */
async function debUnderSystemd(b: Record<Version, api.BuildResult>) {
  await requirePodman();
  const engine = await testEngine();
  if (!(await inspectImage(engine, SYSTEMD_IMAGE))) await engineRun(engine, ['import', await rootTarball(ROOT_PACKAGES), SYSTEMD_IMAGE], { timeoutMs: 10 * 60_000 });
  const name = `reqset-test-systemd-${process.pid}`;
  await engineRun(engine, ['run', '-d', '--systemd=always', '--pull=never', '--network=none', '--name', name, SYSTEMD_IMAGE, '/lib/systemd/systemd']);
  const exec = (argv: string[]) => engineRun(engine, ['exec', '-e', 'DEBIAN_FRONTEND=noninteractive', name, ...argv], { timeoutMs: 5 * 60_000 });
  try {
    let state = { stdout: '', stderr: '' };
    for (let i = 0; i < 60 && !/running|degraded/.test(state.stdout); i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      state = await engineRun(engine, ['exec', name, 'systemctl', 'is-system-running'], { allowFailure: true });
    }
    assert.match(state.stdout, /running|degraded/, `systemd runs as init in the container: ${state.stderr}`);
    for (const key of ['v1', 'v2'] as const) {
      await exec(['mkdir', '-p', `/srv/${key}`]);
      for (const file of packageFiles(b[key])) await engineRun(engine, ['cp', file, `${name}:/srv/${key}/`]);
      await exec(['sh', '-c', `apt-get install -y -q /srv/${key}/*.deb`]);
      assert.equal(await journalLine(exec, VERSIONS[key]), `svcapp ${VERSIONS[key]} serve --port 8080 --greeting it's 100% fine`);
    }
    const show = await exec(['systemctl', 'show', '-p', 'ExecMainStatus', 'svc-api']);
    assert.match(show.stdout, /^ExecMainStatus=0$/m);
  } finally {
    await engineRun(engine, ['rm', '-f', name], { allowFailure: true });
  }
}

describe('endpoint services installed by dnf and apt', () => {
  let work: string;
  const builds: Record<string, Record<Version, api.BuildResult>> = {};
  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'reqset-services-'));
    for (const target of ['el9-py311', 'debian12']) {
      builds[target] = {} as Record<Version, api.BuildResult>;
      for (const [i, key] of (['v1', 'v2', 'v3'] as const).entries()) {
        const dir = path.join(work, key);
        if (!existsSync(dir)) await makeServiceWorkspace(dir, VERSIONS[key]);
        const options = { workspace: dir, out: path.join(dir, 'out'), wheelCache: path.join(work, 'cache'), jobs: 2, release: String(i + 1) };
        (builds[target] as Record<Version, api.BuildResult>)[key] = await api.buildTarget(REQSET, target, options);
      }
    }
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('RPM: presets enable, sysusers makes the users, restart only after a good upgrade, erase disables', () =>
    rpmLifecycle(builds['el9-py311'] as Record<Version, api.BuildResult>, work));
  it('DEB: enabled and started, adduser makes the users, restart only after a good upgrade, purge disables', () =>
    debLifecycle(builds.debian12 as Record<Version, api.BuildResult>));
  it('DEB under systemd in a podman container: the service runs with its arguments, and again after the upgrade', () =>
    debUnderSystemd(builds.debian12 as Record<Version, api.BuildResult>));
});
