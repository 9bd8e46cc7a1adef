import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { planEndpointPackage } from '../../src/packagers/plan.ts';
import { rpmDependencies } from '../../src/packagers/rpm/spec.ts';
import { checkSpec, loadSpecs, parseSpec } from '../../src/specs/spec.ts';
import { parseTarget } from '../../src/targets/target.ts';
import { readFileSync } from 'node:fs';

const good = 'name: orbit\nreqset: orbit\ndistribution: orbit-report\nsummary: Orbital report tool\nscripts: [orbit-report]\n';

function problemsOf(text: string): string[] {
  try {
    parseSpec(text, 'specs/orbit.yml');
    return [];
  } catch (error) {
    assert.ok(error instanceof InputError);
    return error.problems;
  }
}

describe('endpoint spec files', () => {
  it('reads a valid spec with defaults', () => {
    const spec = parseSpec(good, 'specs/orbit.yml');
    assert.deepEqual(spec.requires, { rpm: [], deb: [] });
    assert.deepEqual(spec.scripts, ['orbit-report']);
  });
  it('names file, line and the unknown field', () => {
    assert.deepEqual(problemsOf(`${good}colour: blue\n`), [
      'specs/orbit.yml:6: colour: unknown field: the fields here are name, reqset, distribution, summary, scripts, requires, services, files, maintainer, vendor',
    ]);
  });
  it('a missing field points at the line of its mapping and says what the field is', () => {
    assert.deepEqual(problemsOf(good.replace('distribution: orbit-report\n', '')), [
      'specs/orbit.yml:1: distribution: required: the pinned distribution that is the application (a string)',
    ]);
    assert.deepEqual(problemsOf(`# The orbit application\n\n${good.replace('summary: Orbital report tool\n', '')}`), [
      'specs/orbit.yml:3: summary: required: one line describing the application (a string)',
    ]);
  });
  it('a value of the wrong type is named with what was found', () => {
    assert.deepEqual(problemsOf(`${good}requires: [libpq]\n`), [
      'specs/orbit.yml:6: requires: expected a mapping with rpm and deb, got a list: the system packages the application needs',
    ]);
    assert.deepEqual(problemsOf('- name: orbit\n'), [
      'specs/orbit.yml:1: expected a mapping with the fields name, reqset, distribution, summary, scripts, requires, services, files, maintainer, vendor, got a list',
    ]);
  });
  it('reports every problem of the file at once, each with its line', () => {
    assert.deepEqual(problemsOf('name: Orbit_App\nreqset: orbit\nsummary: 3\nrequires: {rpm: [], zypper: []}\n'), [
      'specs/orbit.yml:1: name: "Orbit_App" is not a package name: use lower-case letters, digits, ".", "+" and "-", starting with a letter or digit (the package is <reqset>-<name>)',
      'specs/orbit.yml:1: distribution: required: the pinned distribution that is the application (a string)',
      'specs/orbit.yml:3: summary: expected a string, got a number: one line describing the application',
      'specs/orbit.yml:4: requires.zypper: unknown field: the fields here are rpm, deb',
    ]);
  });
  it('rejects invalid YAML with file and line', () => {
    assert.deepEqual(problemsOf('name: orbit\nname: again\n'), ['specs/orbit.yml:2: not valid YAML: Map keys must be unique']);
    assert.throws(() => parseSpec('name: [', 'specs/x.yml'), /specs\/x\.yml:1: not valid YAML/);
  });
  it('the bundled example spec loads', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const [spec, ...more] = await loadSpecs(root, 'reqsset3');
    assert.deepEqual(more, []);
    assert.equal(spec?.name, 'an-example-pypi-project');
    assert.deepEqual(spec?.scripts, ['an-example']);
  });
});

/** The problems of `good` with one more or one replaced field. */
function problemsWith(fields: string): string[] {
  const replaced = new Set(fields.split('\n').map((line) => line.split(':')[0]));
  const kept = good.split('\n').filter((line) => line && !replaced.has(line.split(':')[0]));
  return problemsOf(`${kept.join('\n')}\n${fields}`);
}

describe('endpoint names', () => {
  for (const name of ['runtime', 'pins', 'wheel-six', 'wheel-orbit-report']) {
    it(`"${name}" is reserved for another package of the reqset`, () => {
      assert.deepEqual(problemsWith(`name: ${name}\n`), [
        `specs/orbit.yml:5: name: "${name}" is reserved: <reqset>-${name} is another package of the reqset (runtime, pins and wheel-* are taken): choose another name`,
      ]);
    });
  }
  it('names that only look like reserved ones are fine', () => {
    for (const name of ['runtime-tools', 'wheel', 'pinsir', 'my-wheel-six']) assert.deepEqual(problemsWith(`name: ${name}\n`), [], name);
  });
  it('must be a Debian package name after the prefix, which RPM accepts too', () => {
    assert.deepEqual(problemsWith('name: a.b+c-1\n'), []);
    for (const name of ['Orbit', 'orbit_app', '-orbit', '.orbit', '"or bit"', '"orbit%{x}"', '"orbit\\nProvides: x"']) {
      const problems = problemsWith(`name: ${name}\n`);
      assert.equal(problems.length, 1, name);
      assert.match(problems[0] ?? '', /^specs\/orbit\.yml:5: name: ".*" is not a package name: /, name);
    }
  });
  it('two spec files of one reqset with the same name are named with both lines', async () => {
    const ws = await mkdtemp(path.join(tmpdir(), 'reqset-specs-'));
    try {
      await mkdir(path.join(ws, 'specs'));
      await writeFile(path.join(ws, 'specs', 'a.yml'), good);
      await writeFile(path.join(ws, 'specs', 'b.yml'), good.replace('reqset: orbit', 'reqset: other'));
      assert.deepEqual((await loadSpecs(ws, 'orbit')).map((s) => s.file), ['specs/a.yml']);
      await writeFile(path.join(ws, 'specs', 'c.yml'), `# again\n${good}`);
      await assert.rejects(loadSpecs(ws, 'orbit'), (error) => {
        assert.ok(error instanceof InputError);
        assert.deepEqual(error.problems, [
          'specs/c.yml:2: name: "orbit" is also the name in specs/a.yml:1: both would be the package orbit-orbit: give each endpoint of a reqset its own name',
        ]);
        return true;
      });
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});

describe('values that reach spec files, control files and scripts', () => {
  it('a line break in requires.rpm cannot add a scriptlet: an input error naming file, line and field', () => {
    const problems = problemsWith('requires:\n  rpm:\n    - libpq\n    - "bash\\n%pretrans\\necho injected"\n');
    assert.deepEqual(problems, [
      'specs/orbit.yml:9: requires.rpm: "bash\\n%pretrans\\necho injected" has a line break or control character: one dependency per entry, on one line',
    ]);
  });
  it('requires.rpm takes names, provides and paths with an optional version relation', () => {
    const good = ['libpq', 'python3dist(foo)', 'python3dist(foo) >= 1.2', 'libc.so.6()(64bit)', 'perl(Foo::Bar)', '/usr/bin/python3', 'bash = 2:5.1-6.el9', 'glibc < 2.40', 'tzdata >= 2024a'];
    assert.deepEqual(problemsWith(`requires:\n  rpm: ${JSON.stringify(good)}\n`), []);
    const bad = ['libpq, bash', 'foo %{_bindir}', '(a or b)', 'foo >=', 'foo => 1', 'foo >= 1-2-3', '-foo', 'foo\tbar'];
    const problems = problemsWith(`requires:\n  rpm: ${JSON.stringify(bad)}\n`);
    assert.equal(problems.length, bad.length, problems.join('\n'));
    for (const [i, text] of bad.entries()) assert.ok(problems[i]?.startsWith(`specs/orbit.yml:7: requires.rpm: ${JSON.stringify(text)} `), problems[i]);
  });
  it('requires.deb takes one Debian relation per entry', () => {
    const good = ['libpq5', 'libpq5 (>= 15)', 'libc6 (>= 2:2.36-9+deb12u1)', 'python3:any (<< 3.12~)', 'default-mta | mail-transport-agent', 'a0|b0 (= 1.0)'];
    assert.deepEqual(problemsWith(`requires:\n  deb: ${JSON.stringify(good)}\n`), []);
    const bad = ['libpq5, libssl3', 'libpq5\nDescription: injected', 'libpq5 (>= 15', 'libpq5 (> 15)', 'LibPQ5', 'x', 'libpq5 [amd64]', 'a | '];
    const problems = problemsWith(`requires:\n  deb: ${JSON.stringify(bad)}\n`);
    assert.equal(problems.length, bad.length, problems.join('\n'));
    for (const [i, text] of bad.entries()) assert.ok(problems[i]?.startsWith(`specs/orbit.yml:7: requires.deb: ${JSON.stringify(text)} `), problems[i]);
  });
  it('scripts are plain file names', () => {
    assert.deepEqual(problemsWith('scripts: [orbit-report, orbit_admin, orbit.py, 2orbit]\n'), []);
    const bad = ['../orbit', 'bin/orbit', 'or bit', '.orbit', '-rf', 'or\u0000bit', '', 'o'.repeat(256)];
    const problems = problemsWith(`scripts: ${JSON.stringify(bad)}\n`);
    assert.equal(problems.length, bad.length, problems.join('\n'));
    for (const problem of problems) assert.match(problem, /^specs\/orbit\.yml:5: scripts: /);
    assert.equal(problemsWith(`scripts: ["${'o'.repeat(255)}"]\n`).length, 0, '255 bytes is still a file name');
  });
  it('a script listed twice is an error naming the field and the second entry', () => {
    assert.deepEqual(problemsWith('scripts:\n  - orbit-report\n  - orbit-admin\n  - orbit-report\n'), [
      'specs/orbit.yml:8: scripts: "orbit-report" is listed twice: list each script once',
    ]);
  });
  it('the summary is one line without control characters', () => {
    assert.deepEqual(problemsWith('summary: "Orbital report tool\\n%post\\nrm -rf /"\n'), [
      'specs/orbit.yml:5: summary: "Orbital report tool\\n%post\\nrm -rf /" has a line break or control character: the summary is one line of plain text',
    ]);
    assert.equal(problemsWith('summary: "Orbital\\treport"\n').length, 1);
    assert.deepEqual(problemsWith('summary: " "\n'), ['specs/orbit.yml:5: summary: is empty: write one line describing the application']);
  });
  it('the distribution is a Python distribution name', () => {
    assert.match(problemsWith('distribution: "orbit report"\n').join('\n'), /^specs\/orbit\.yml:5: distribution: "orbit report" is not a Python distribution name: /);
  });
});

describe('endpoint specs against the pins', () => {
  const pinned = new Map([['orbit-report', { name: 'orbit-report', version: '1.2', consoleScripts: ['orbit-report', 'orbit-admin'] }]]);
  it('a distribution that is not pinned is named', () => {
    const spec = parseSpec(good.replace('distribution: orbit-report', 'distribution: orbit-reporter'), 'specs/orbit.yml');
    assert.deepEqual(checkSpec(spec, pinned, 'reqsets/orbit.txt'), ['specs/orbit.yml:3: distribution: "orbit-reporter" is not pinned in reqsets/orbit.txt: pin it there or fix the name']);
  });
  it('matches the distribution by its normalized name', () => {
    assert.deepEqual(checkSpec(parseSpec(good.replace('distribution: orbit-report', 'distribution: Orbit_Report'), 'specs/orbit.yml'), pinned, 'r'), []);
  });
  it('a script that is not a console script of the distribution is named, with the ones it has', () => {
    const spec = parseSpec(good.replace('[orbit-report]', '\n  - orbit-report\n  - orbitctl'), 'specs/orbit.yml');
    assert.deepEqual(checkSpec(spec, pinned, 'r'), ['specs/orbit.yml:7: scripts: "orbitctl" is not a console script of orbit-report 1.2 (its console scripts are orbit-report, orbit-admin)']);
  });
});

describe('endpoint package plan', () => {
  const target = parseTarget(readFileSync(path.resolve(import.meta.dirname, '../../packaging/targets/el9-py311.yml'), 'utf8'), 'el9-py311.yml');
  const plan = planEndpointPackage({
    reqset: 'orbit',
    target,
    spec: { name: 'orbit', summary: 'Orbital report tool', scripts: ['orbit-report'], requires: { rpm: ['libpq'], deb: ['libpq5'] } },
    distribution: { key: 'orbit-report', name: 'orbit-report', version: '1.2', topLevel: ['orbit'] },
    closure: [
      { key: 'orbit-report', version: '1.2', filename: 'orbit_report-1.2-py3-none-any.whl', package: { name: 'orbit-wheel-orbit-report', version: { pep440: '1.2', epoch: 0, release: '3' } } },
      { key: 'six', version: '1.17.0', filename: 'six-1.17.0-py2.py3-none-any.whl', package: { name: 'orbit-wheel-six', version: { pep440: '1.17.0', epoch: 1, release: '1' } } },
    ],
    installer: 'native',
  });
  it('is named after the reqset and the spec, versioned as the application, at the first release until the build decides', () => {
    assert.equal(plan.name, 'orbit-orbit');
    assert.equal(plan.pep440, '1.2');
    assert.equal(plan.release, '1');
    assert.equal(plan.epoch, undefined, 'the build sets epoch and release from the repository history');
    assert.equal(plan.arch, 'noarch');
    assert.equal(plan.pydist, undefined, 'an endpoint provides no distribution');
  });
  it('requires the closure\'s packages at their exact package versions, the runtime, the interpreter and the format\'s system packages', () => {
    assert.deepEqual(plan.requires, [
      { kind: 'any', name: 'orbit-runtime' },
      { kind: 'python', version: '3.11', package: 'python3.11' },
      { kind: 'package', name: 'orbit-wheel-orbit-report', version: { pep440: '1.2', epoch: 0, release: '3' } },
      { kind: 'package', name: 'orbit-wheel-six', version: { pep440: '1.17.0', epoch: 1, release: '1' } },
      { kind: 'system', text: 'libpq' },
    ]);
    assert.deepEqual(rpmDependencies(plan).slice(2, 4), ['orbit-wheel-orbit-report = 1.2-3', 'orbit-wheel-six = 1:1.17-1'], 'epoch, version and release');
  });
  it('owns its directory and ships the /usr/bin entries', () => {
    assert.deepEqual(plan.ownedDirs, ['/opt/orbit-orbit']);
    assert.deepEqual(plan.contents, ['/usr/bin/orbit-report']);
  });
  it('builds the venv from the unpacked trees after install and removes it before erase', () => {
    assert.equal(
      plan.scriptlets.afterInstall,
      '/usr/bin/python3.11 /opt/orbit/runtime/reqset_runtime.pyz install-venv --venv /opt/orbit-orbit/venv --installer native --wheelhouse /opt/orbit/wheelhouse ' +
        '--tree /opt/orbit/wheels/orbit_report-1.2-py3-none-any --tree /opt/orbit/wheels/six-1.17.0-py2.py3-none-any --script orbit-report --check-import orbit',
    );
    assert.equal(plan.scriptlets.beforeRemove, '/usr/bin/python3.11 /opt/orbit/runtime/reqset_runtime.pyz remove-venv --venv /opt/orbit-orbit/venv');
    assert.equal(plan.scriptlets.afterRemove, undefined, 'an upgrade must never remove the venv that works');
  });
});

describe('services and files', () => {
  const service = (fields: string) => `services:\n  - name: orbit-api\n    exec: [orbit-report, serve]\n    user: orbit\n${fields}`;
  it('reads a service with the defaults: group = user, restart on-failure, enable by policy', () => {
    const spec = parseSpec(`${good}${service('')}files:\n  - {source: conf/orbit.toml, dest: /etc/orbit/orbit.toml, mode: "0640"}\n`, 'specs/orbit.yml');
    assert.deepEqual(spec.services, [{ name: 'orbit-api', exec: ['orbit-report', 'serve'], user: 'orbit', restart: 'on-failure' }]);
    assert.deepEqual(spec.files, [{ source: 'conf/orbit.toml', dest: '/etc/orbit/orbit.toml', mode: '0640' }]);
    assert.deepEqual(spec.lines.services, [{ name: 7, exec: 8 }]);
  });
  it('every bad value names its line and field, with the fix', () => {
    const problems = problemsWith(
      'services:\n  - name: orbit@api.service\n    exec: []\n    user: Root\n    group: "1x"\n    working-directory: var/lib\n    restart: sometimes\n    enable: yes please\n    colour: blue\n',
    );
    assert.deepEqual(problems, [
      'specs/orbit.yml:7: services.name: "orbit@api.service" ends in ".service": give the name without it (the unit is <name>.service)',
      'specs/orbit.yml:8: services.exec: is empty: give the console script to run, then its arguments',
      'specs/orbit.yml:9: services.user: "Root" is not a system user or group name: use lower-case letters, digits, "_" and "-", starting with a letter or "_"',
      'specs/orbit.yml:10: services.group: "1x" is not a system user or group name: use lower-case letters, digits, "_" and "-", starting with a letter or "_"',
      'specs/orbit.yml:11: services.working-directory: "var/lib" is not a plain absolute path: start with "/" and use letters, digits and _ . + @ , = : ~ - between the slashes (no "." or ".." parts)',
      'specs/orbit.yml:12: services.restart: "sometimes" is not a systemd Restart= value: use one of no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always',
      'specs/orbit.yml:13: services.enable: expected true or false, got a string: whether installing enables the service (default: the distribution\'s policy: presets on RPM, enabled on Debian)',
      'specs/orbit.yml:14: services.colour: unknown field: the fields here are name, exec, user, group, working-directory, restart, enable',
    ]);
  });
  it('unit names systemd takes; root is not a service user', () => {
    for (const name of ['orbit-api', 'orbit_api.v2', 'A1']) assert.deepEqual(problemsWith(service('').replace('orbit-api', name)), [], name);
    for (const name of ['orbit@', '-api', 'a b', 'a:b', '"a\\\\b"']) assert.equal(problemsWith(service('').replace('orbit-api', name)).length, 1, name);
    assert.match(problemsWith(service('').replace('user: orbit', 'user: root')).join(), /"root" is the system's own account/);
    assert.match(problemsWith(service('').replace('user: orbit', `user: ${'u'.repeat(32)}`)).join(), /longer than 31 characters/);
  });
  it('exec: the first word is a script name, the others anything on one line', () => {
    assert.deepEqual(problemsWith(service('').replace('[orbit-report, serve]', '[orbit-report, "a b", "100%", "$HOME", ";", "\\"q\\""]')), []);
    assert.deepEqual(problemsWith(service('').replace('[orbit-report, serve]', '["bin/orbit", "a\\nb", ""]')), [
      'specs/orbit.yml:8: services.exec: "bin/orbit" is not a plain file name: no "/", whitespace or control characters',
      'specs/orbit.yml:8: services.exec: "a\\nb" has a line break or control character, which an ExecStart line cannot hold',
      'specs/orbit.yml:8: services.exec: is empty: an ExecStart argument has at least one character',
    ]);
  });
  it('two services of a spec with one name, or one user with two groups, are named with both lines', () => {
    const two = `services:\n  - {name: api, exec: [orbit-report], user: orbit}\n  - {name: api, exec: [orbit-admin], user: orbit, group: staff}\n`;
    assert.deepEqual(problemsWith(two), [
      'specs/orbit.yml:8: services.name: "api" is also the service at line 7: give each service its own name',
      'specs/orbit.yml:8: services.group: user "orbit" has group "orbit" at line 7: a user has one primary group: give both services the same group',
    ]);
  });
  it('files: relative sources inside the workspace, destinations below /etc, quoted octal modes, no clash with an environment file', () => {
    const file = (f: string) => problemsWith(`files:\n  - ${f}\n`);
    assert.deepEqual(file('{source: a/b.toml, dest: /etc/x/b.toml}'), []);
    assert.match(file('{source: /etc/passwd, dest: /etc/x}').join(), /files\.source: "\/etc\/passwd" is absolute/);
    assert.match(file('{source: ../secret, dest: /etc/x}').join(), /files\.source: "\.\.\/secret" leaves the workspace/);
    assert.match(file('{source: a, dest: /usr/share/x}').join(), /files\.dest: "\/usr\/share\/x" is not below \/etc/);
    assert.match(file('{source: a, dest: /etc/a b}').join(), /files\.dest: "\/etc\/a b" is not a plain absolute path/);
    assert.deepEqual(file('{source: a, dest: /etc/x, mode: 0640}'), [
      'specs/orbit.yml:7: files.mode: expected an octal string such as "0640" (quoted: YAML reads 0640 as the number 640), got a number: its permission bits (default "0644")',
    ]);
    assert.match(file('{source: a, dest: /etc/x, mode: "4755"}').join(), /is not a file mode/);
    assert.deepEqual(problemsWith(`${service('')}files:\n  - {source: a, dest: /etc/orbit-orbit/orbit-api.env}\n`), [
      'specs/orbit.yml:11: files.dest: "/etc/orbit-orbit/orbit-api.env" is a service\'s environment file, which the package makes: choose another destination',
    ]);
  });
  it('loadSpecs: sources must exist in the workspace; services and destinations unique across the reqset\'s endpoints', async () => {
    const ws = await mkdtemp(path.join(tmpdir(), 'reqset-specs-'));
    try {
      await mkdir(path.join(ws, 'specs'));
      await writeFile(path.join(ws, 'specs', 'a.yml'), `${good}${service('')}files:\n  - {source: conf/a.toml, dest: /etc/orbit/a.toml}\n`);
      await writeFile(path.join(ws, 'specs', 'b.yml'), `${good.replace('name: orbit', 'name: other')}${service('')}files:\n  - {source: conf, dest: /etc/orbit/a.toml}\n`);
      await mkdir(path.join(ws, 'conf'));
      await assert.rejects(loadSpecs(ws, 'orbit'), (error) => {
        assert.ok(error instanceof InputError);
        assert.deepEqual(error.problems, [
          'specs/b.yml:7: services.name: "orbit-api" is also the services.name in specs/a.yml:7: both would be the unit orbit-api.service: give each service of a reqset its own name',
          'specs/b.yml:11: files.dest: "/etc/orbit/a.toml" is also the files.dest in specs/a.yml:11: two packages cannot ship one file: choose another destination',
          `specs/a.yml:11: files.source: "conf/a.toml" does not exist in the workspace ${ws}: create it or fix the path`,
          'specs/b.yml:11: files.source: "conf" is not a regular file: give a file',
        ]);
        return true;
      });
      await writeFile(path.join(ws, 'conf', 'a.toml'), 'x = 1\n');
      await rm(path.join(ws, 'specs', 'b.yml'));
      const [spec] = await loadSpecs(ws, 'orbit');
      assert.equal(spec?.workspace, path.resolve(ws));
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
  it('checkSpec: a service runs a console script of the distribution', () => {
    const pinned = new Map([['orbit-report', { name: 'orbit-report', version: '1.2', consoleScripts: ['orbit-report'] }]]);
    const spec = parseSpec(`${good}${service('').replace('[orbit-report, serve]', '[orbitd]')}`, 'specs/orbit.yml');
    assert.deepEqual(checkSpec(spec, pinned, 'r'), ['specs/orbit.yml:8: services.exec: "orbitd" is not a console script of orbit-report 1.2 (its console scripts are orbit-report)']);
  });
});
