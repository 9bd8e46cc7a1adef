import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { planEndpointPackage } from '../../src/packagers/plan.ts';
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
  it('names the file and the unknown field', () => {
    assert.deepEqual(problemsOf(`${good}colour: blue\n`), ['specs/orbit.yml: unknown field colour']);
  });
  it('names a missing distribution', () => {
    assert.match(problemsOf(good.replace('distribution: orbit-report\n', '')).join('\n'), /^specs\/orbit\.yml: distribution: /);
  });
  it('reports every problem of the file at once', () => {
    const problems = problemsOf('name: Orbit_App\nreqset: orbit\nsummary: 3\nrequires: {rpm: [], zypper: []}\n');
    assert.ok(problems.some((p) => p.startsWith('specs/orbit.yml: name: ')));
    assert.ok(problems.some((p) => p.startsWith('specs/orbit.yml: distribution: ')));
    assert.ok(problems.some((p) => p.startsWith('specs/orbit.yml: summary: ')));
    assert.ok(problems.some((p) => p === 'specs/orbit.yml: requires: unknown field zypper'));
  });
  it('rejects invalid YAML with the file name', () => {
    assert.throws(() => parseSpec('name: [', 'specs/x.yml'), /specs\/x\.yml: not valid YAML/);
  });

  const pinned = new Map([['orbit-report', { name: 'orbit-report', version: '1.2', consoleScripts: ['orbit-report', 'orbit-admin'] }]]);
  it('a distribution that is not pinned is named', () => {
    const spec = parseSpec(good.replace('distribution: orbit-report', 'distribution: orbit-reporter'), 'specs/orbit.yml');
    assert.deepEqual(checkSpec(spec, pinned, 'reqsets/orbit.txt'), ['specs/orbit.yml: distribution: "orbit-reporter" is not pinned in reqsets/orbit.txt: pin it there or fix the name']);
  });
  it('matches the distribution by its normalized name', () => {
    assert.deepEqual(checkSpec(parseSpec(good.replace('distribution: orbit-report', 'distribution: Orbit_Report'), 'specs/orbit.yml'), pinned, 'r'), []);
  });
  it('a script that is not a console script of the distribution is named, with the ones it has', () => {
    const spec = parseSpec(good.replace('[orbit-report]', '[orbit-report, orbitctl]'), 'specs/orbit.yml');
    assert.deepEqual(checkSpec(spec, pinned, 'r'), ['specs/orbit.yml: scripts: "orbitctl" is not a console script of orbit-report 1.2 (its console scripts are orbit-report, orbit-admin)']);
  });
  it('loads only the specs of the reqset and rejects duplicate names', async () => {
    const ws = await mkdtemp(path.join(tmpdir(), 'reqset-specs-'));
    try {
      await mkdir(path.join(ws, 'specs'));
      await writeFile(path.join(ws, 'specs', 'a.yml'), good);
      await writeFile(path.join(ws, 'specs', 'b.yml'), good.replace('reqset: orbit', 'reqset: other'));
      assert.deepEqual((await loadSpecs(ws, 'orbit')).map((s) => s.file), ['specs/a.yml']);
      await writeFile(path.join(ws, 'specs', 'c.yml'), good);
      await assert.rejects(loadSpecs(ws, 'orbit'), /specs\/c\.yml: name: "orbit" is also the name in specs\/a\.yml/);
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
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
      { key: 'orbit-report', version: '1.2', filename: 'orbit_report-1.2-py3-none-any.whl' },
      { key: 'six', version: '1.17.0', filename: 'six-1.17.0-py2.py3-none-any.whl' },
    ],
    release: '3',
    installer: 'native',
  });
  it('is named after the reqset and the spec, versioned as the application', () => {
    assert.equal(plan.name, 'orbit-orbit');
    assert.equal(plan.pep440, '1.2');
    assert.equal(plan.release, '3');
    assert.equal(plan.arch, 'noarch');
  });
  it('requires the closure at exact versions, the runtime, the interpreter and the format\'s system packages', () => {
    assert.deepEqual(plan.requires, [
      { kind: 'any', name: 'orbit-runtime' },
      { kind: 'python', version: '3.11', package: 'python3.11' },
      { kind: 'exact', name: 'orbit-wheel-orbit-report', pep440: '1.2' },
      { kind: 'exact', name: 'orbit-wheel-six', pep440: '1.17.0' },
      { kind: 'system', text: 'libpq' },
    ]);
  });
  it('owns its directory and ships the /usr/bin entries', () => {
    assert.deepEqual(plan.ownedDirs, ['/opt/orbit-orbit']);
    assert.deepEqual(plan.contents, ['/usr/bin/orbit-report']);
  });
  it('builds the venv from the unpacked trees after install and removes it before erase', () => {
    assert.equal(
      plan.scriptlets.afterInstall,
      '/usr/bin/python3.11 /opt/orbit/runtime/reqset_runtime.py install-venv --venv /opt/orbit-orbit/venv --installer native --wheelhouse /opt/orbit/wheelhouse ' +
        '--tree /opt/orbit/wheels/orbit_report-1.2-py3-none-any --tree /opt/orbit/wheels/six-1.17.0-py2.py3-none-any --script orbit-report --check-import orbit',
    );
    assert.equal(plan.scriptlets.beforeRemove, '/usr/bin/python3.11 /opt/orbit/runtime/reqset_runtime.py remove-venv --venv /opt/orbit-orbit/venv');
    assert.equal(plan.scriptlets.afterRemove, undefined, 'an upgrade must never remove the venv that works');
  });
});
