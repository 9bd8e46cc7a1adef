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
      'specs/orbit.yml:6: colour: unknown field: the fields here are name, reqset, distribution, summary, scripts, requires',
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
      'specs/orbit.yml:1: expected a mapping with the fields name, reqset, distribution, summary, scripts, requires, got a list',
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
