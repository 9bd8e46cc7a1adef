/**
 * Endpoint services as the formats write them, against golden files in
 * test/golden/services/: the unit, environment and sysusers.d files, the RPM
 * spec's %files and scriptlets, the Debian maintainer scripts and conffiles.
 * `UPDATE_GOLDEN=1 node --import tsx --test test/unit/services.test.ts`
 * rewrites the golden files (review the diff!).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { debConffiles, debDependencies, debMaintainerScripts } from '../../src/packagers/deb/control.ts';
import type { PackagePlan } from '../../src/packagers/packager.ts';
import { endpointFiles, planEndpointPackage, type EndpointPackageInput } from '../../src/packagers/plan.ts';
import { rpmScriptletDependencies, rpmSpec } from '../../src/packagers/rpm/spec.ts';
import { execWord } from '../../src/packagers/services.ts';
import { run } from '../../src/run.ts';
import { parseSpec } from '../../src/specs/spec.ts';
import { parseTarget, type Target } from '../../src/targets/target.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const GOLDEN = path.join(REPO, 'test', 'golden', 'services');

const SPEC = `name: api
reqset: orbit
distribution: orbit-report
summary: Orbital report tool
scripts: [orbit-report]
services:
  - name: orbit-api
    exec: [orbit-report, serve, --port, "8080", --greeting, "it's 100% \\"fine\\" $HOME\\\\x", ";"]
    user: orbit
  - name: orbit-worker
    exec: [orbit-worker]
    user: orbitw
    group: orbit
    working-directory: /var/lib/orbit
    restart: always
    enable: false
files:
  - source: config/orbit.toml
    dest: /etc/orbit-api/orbit.toml
    mode: "0640"
`;

async function target(name: string): Promise<Target> {
  const file = path.join(REPO, 'packaging', 'targets', `${name}.yml`);
  return parseTarget(await readFile(file, 'utf8'), file);
}

async function input(targetName: string): Promise<EndpointPackageInput> {
  return {
    reqset: 'orbit',
    target: await target(targetName),
    spec: parseSpec(SPEC, 'specs/api.yml'),
    distribution: { key: 'orbit-report', name: 'orbit-report', version: '1.2', topLevel: ['orbit'] },
    closure: [{ key: 'orbit-report', version: '1.2', filename: 'orbit_report-1.2-py3-none-any.whl', package: { name: 'orbit-wheel-orbit-report', version: { pep440: '1.2', epoch: 0, release: '1' } } }],
    installer: 'native',
  };
}

async function golden(name: string, text: string): Promise<void> {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(GOLDEN, { recursive: true });
    await writeFile(file, text);
  }
  const expected = await readFile(file, 'utf8').catch(() => {
    throw new Error(`${file} is missing: run with UPDATE_GOLDEN=1 to create it`);
  });
  assert.equal(text, expected, `${name} differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`);
}

const fileText = (files: ReturnType<typeof endpointFiles>, at: string) => {
  const file = files.find((f) => f.path === at);
  assert.ok(file && 'text' in file, `${at} is generated`);
  return file.text;
};

describe('service files', () => {
  it('the unit, environment and sysusers.d files on RPM', async () => {
    const files = endpointFiles(await input('el9-py311'));
    assert.deepEqual(
      files.map((f) => [f.path, f.mode.toString(8), f.config]),
      [
        ['/usr/lib/systemd/system/orbit-api.service', '644', false],
        ['/etc/orbit-api/orbit-api.env', '600', true],
        ['/usr/lib/systemd/system/orbit-worker.service', '644', false],
        ['/etc/orbit-api/orbit-worker.env', '600', true],
        ['/usr/lib/sysusers.d/orbit-api.conf', '644', false],
        ['/etc/orbit-api/orbit.toml', '640', true],
      ],
    );
    await golden('orbit-api.service', fileText(files, '/usr/lib/systemd/system/orbit-api.service'));
    await golden('orbit-worker.service', fileText(files, '/usr/lib/systemd/system/orbit-worker.service'));
    await golden('orbit-api.env', fileText(files, '/etc/orbit-api/orbit-api.env'));
    await golden('sysusers.conf', fileText(files, '/usr/lib/sysusers.d/orbit-api.conf'));
  });
  it('Debian 12 puts units in /lib/systemd/system and makes users with adduser (no sysusers.d file)', async () => {
    const paths = endpointFiles(await input('debian12')).map((f) => f.path);
    assert.deepEqual(paths.filter((p) => p.endsWith('.service')), ['/lib/systemd/system/orbit-api.service', '/lib/systemd/system/orbit-worker.service']);
    assert.equal(paths.some((p) => p.includes('sysusers')), false);
    const ubuntu = endpointFiles(await input('ubuntu2404')).map((f) => f.path);
    assert.ok(ubuntu.includes('/usr/lib/systemd/system/orbit-api.service'), 'Ubuntu 24.04: its target says /usr/lib/systemd/system');
  });
  it('ExecStart words: plain ones as they are, the rest quoted; % and $ doubled', () => {
    assert.equal(execWord('--port'), '--port');
    assert.equal(execWord('/opt/x/venv/bin/app'), '/opt/x/venv/bin/app');
    assert.equal(execWord('a b'), '"a b"');
    assert.equal(execWord('100%'), '"100%%"');
    assert.equal(execWord('$HOME'), '"$$HOME"');
    assert.equal(execWord('say "hi"\\'), '"say \\"hi\\"\\\\"');
    assert.equal(execWord(';'), '";"', 'a quoted ; is an argument, not a command separator');
  });
});

describe('the plan and the formats', () => {
  it('the plan: unit and sysusers files in contents, configuration files apart, /etc/<reqset>-<app> owned, the tools the scriptlets run', async () => {
    const plan = planEndpointPackage(await input('el9-py311'));
    assert.deepEqual(plan.contents, ['/usr/bin/orbit-report', '/usr/lib/systemd/system/orbit-api.service', '/usr/lib/systemd/system/orbit-worker.service', '/usr/lib/sysusers.d/orbit-api.conf']);
    assert.deepEqual(plan.configFiles, [
      { path: '/etc/orbit-api/orbit-api.env', mode: 0o600 },
      { path: '/etc/orbit-api/orbit-worker.env', mode: 0o600 },
      { path: '/etc/orbit-api/orbit.toml', mode: 0o640 },
    ]);
    assert.deepEqual(plan.ownedDirs, ['/opt/orbit-api', '/etc/orbit-api']);
    assert.deepEqual(plan.services, [
      { unit: 'orbit-api.service', user: 'orbit', group: 'orbit' },
      { unit: 'orbit-worker.service', user: 'orbitw', group: 'orbit', enable: false },
    ]);
    assert.ok(rpmScriptletDependencies(plan).includes('systemd'));
    assert.match(plan.scriptlets.afterInstall ?? '', /--script orbit-report --script orbit-worker /, 'the venv check covers the services\' scripts');
  });
  it('RPM: %config(noreplace) at the plan\'s modes, sysusers and systemctl in the scriptlets', async () => {
    const plan = planEndpointPackage(await input('el9-py311'));
    const spec = rpmSpec(plan, { root: '/tmp/reqset-stage/root', epoch: 1700000000, packager: 'reqset <reqset@example.invalid>' });
    // The relations, %files and scriptlets; the rest of the spec is test/unit/rpm-spec.test.ts's.
    const relations = spec.split('\n').filter((line) => /^(Requires|Provides)/.test(line));
    await golden('endpoint.spec', `${relations.join('\n')}\n...\n${spec.slice(spec.indexOf('\n%files\n') + 1)}`);
  });
  it('Debian: conffiles, the maintainer scripts as dh_installsystemd writes them, adduser and init-system-helpers', async () => {
    const plan = planEndpointPackage(await input('debian12'));
    const scripts = debMaintainerScripts(plan);
    await golden('conffiles', debConffiles(plan) ?? '');
    await golden('postinst', scripts.postinst ?? '');
    await golden('prerm', scripts.prerm ?? '');
    await golden('postrm', scripts.postrm ?? '');
    assert.ok(debDependencies(plan).includes('adduser') && debDependencies(plan).includes('init-system-helpers'));
  });
  it('every scriptlet is valid sh', async () => {
    const plans: PackagePlan[] = [planEndpointPackage(await input('debian12'))];
    for (const text of Object.values(debMaintainerScripts(plans[0] as PackagePlan))) await run(['sh', '-n', '-c', text]);
    const spec = rpmSpec(planEndpointPackage(await input('el9-py311')), { root: '/r', epoch: 1, packager: 'p' });
    for (const section of spec.split(/^%(?:post|preun|postun)$/m).slice(1)) await run(['sh', '-n', '-c', section.replace(/%%/g, '%')]);
  });
  it('no services and no files: the plan is as before (no new fields, the package inputs unchanged)', async () => {
    const plain = await input('el9-py311');
    const plan = planEndpointPackage({ ...plain, spec: { ...plain.spec, services: [], files: [] } });
    assert.equal('configFiles' in plan, false);
    assert.equal('services' in plan, false);
    assert.deepEqual(plan.ownedDirs, ['/opt/orbit-api']);
  });
});
