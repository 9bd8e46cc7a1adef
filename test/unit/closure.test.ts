import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkClosure, computeClosure, type ClosureTarget } from '../../src/closure/closure.ts';
import type { WheelFacts } from '../../src/wheels/facts.ts';
import { parseWheelFilename } from '../../src/python/tags.ts';
import type { Pin } from '../../src/reqset/load.ts';

const env = {
  python_version: '3.11',
  python_full_version: '3.11.2',
  os_name: 'posix',
  sys_platform: 'linux',
  platform_release: '',
  platform_system: 'Linux',
  platform_version: '',
  platform_machine: 'x86_64',
  platform_python_implementation: 'CPython',
  implementation_name: 'cpython',
  implementation_version: '3.11.2',
};
const debian12: ClosureTarget = { name: 'debian12', env, tags: { pythonVersion: '3.11', glibc: '2.36', arch: 'x86_64' } };
const el9: ClosureTarget = {
  name: 'el9',
  env: { ...env, python_version: '3.9', python_full_version: '3.9.18', implementation_version: '3.9.18' },
  tags: { pythonVersion: '3.9', glibc: '2.34', arch: 'x86_64' },
};

function pin(spec: string, line = 1): Pin {
  const [name, version] = spec.split('==') as [string, string];
  const m = /^([^[]+)(?:\[(.*)\])?$/.exec(name);
  return { key: m?.[1]?.toLowerCase() ?? name, name: m?.[1] ?? name, version, extras: m?.[2]?.split(',') ?? [], hashes: [], source: `r.txt:${line}` };
}

function facts(filename: string, requiresDist: string[] = [], extra: Partial<WheelFacts> = {}): [string, WheelFacts] {
  const name = parseWheelFilename(filename);
  assert.ok(name);
  return [name.key, { name, metadataName: name.key, metadataVersion: name.version, requiresDist, providesExtra: [], consoleScripts: [], topLevel: [], ...extra }];
}

describe('closure check', () => {
  const flask = new Map([
    facts('flask-3.1.3-py3-none-any.whl', ['Werkzeug>=3.1', 'click>=8.1.3', 'importlib-metadata>=3.6; python_version < "3.10"', 'asgiref>=3.2; extra == "async"']),
    facts('werkzeug-3.1.8-py3-none-any.whl', ['MarkupSafe>=2.1.1']),
    facts('click-8.4.0-py3-none-any.whl', ['colorama; platform_system == "Windows"']),
    facts('markupsafe-3.0.3-cp311-cp311-manylinux_2_17_x86_64.whl'),
  ]);
  const flaskPins = ['flask==3.1.3', 'werkzeug==3.1.8', 'click==8.4.0', 'markupsafe==3.0.3'].map((s, i) => pin(s, i + 1));

  it('a complete closure has no problems', () => assert.deepEqual(checkClosure(flaskPins, flask, debian12), []));

  it('removing a pin names the missing distribution and who needs it', () => {
    const problems = checkClosure(flaskPins.filter((p) => p.key !== 'markupsafe'), flask, debian12);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.kind, 'missing');
    assert.equal(problems[0]?.distribution, 'markupsafe');
    assert.equal(problems[0]?.requiredBy, 'werkzeug');
    assert.match(problems[0]?.message ?? '', /werkzeug==3\.1\.8 requires MarkupSafe>=2\.1\.1, but markupsafe is not pinned: add "MarkupSafe==<version>"/);
  });

  it('markers are evaluated for the target: an el9 (3.9) closure needs importlib-metadata', () => {
    const problems = checkClosure(flaskPins.filter((p) => p.key !== 'markupsafe'), flask, el9).filter((p) => p.kind === 'missing');
    assert.deepEqual(problems.map((p) => p.distribution).sort(), ['importlib-metadata', 'markupsafe']);
  });

  it('an extra requested by a pin pulls in its dependencies', () => {
    const pins = flaskPins.map((p) => (p.key === 'flask' ? pin('flask[async]==3.1.3') : p));
    const problems = checkClosure(pins, flask, debian12);
    assert.deepEqual(problems.map((p) => `${p.kind}:${p.distribution}`), ['missing:asgiref']);
  });

  it('an extra requested by another distribution propagates', () => {
    const wheels = new Map([
      facts('app-1.0-py3-none-any.whl', ['lib[fast]==2.0']),
      facts('lib-2.0-py3-none-any.whl', ['speedups>=1; extra == "fast"']),
      facts('speedups-0.5-py3-none-any.whl'),
    ]);
    const problems = checkClosure(['app==1.0', 'lib==2.0', 'speedups==0.5'].map((s) => pin(s)), wheels, debian12);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.kind, 'version');
    assert.match(problems[0]?.message ?? '', /lib==2\.0 requires speedups>=1, but r\.txt:1 pins speedups==0\.5/);
  });

  it('a pin outside the required range is reported with both versions', () => {
    const wheels = new Map([...flask, facts('werkzeug-2.0.0-py3-none-any.whl', ['MarkupSafe>=2.1.1'])]);
    const pins = flaskPins.map((p) => (p.key === 'werkzeug' ? pin('werkzeug==2.0.0', 2) : p));
    const [problem] = checkClosure(pins, wheels, debian12);
    assert.equal(problem?.kind, 'version');
    assert.match(problem?.message ?? '', /flask==3\.1\.3 requires Werkzeug>=3\.1, but r\.txt:2 pins werkzeug==2\.0\.0/);
  });

  it('Requires-Python is checked against the target', () => {
    const wheels = new Map([facts('modern-1.0-py3-none-any.whl', [], { requiresPython: '>=3.10' })]);
    const [problem] = checkClosure([pin('modern==1.0')], wheels, el9);
    assert.equal(problem?.kind, 'python');
    assert.match(problem?.message ?? '', /modern==1\.0 requires Python >=3\.10 \(Requires-Python\); el9 has Python 3\.9\.18/);
  });

  it('a wheel for another Python is rejected with the reason', () => {
    const wheels = new Map([facts('numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl')]);
    const [problem] = checkClosure([pin('numpy==2.4.6')], wheels, el9);
    assert.equal(problem?.kind, 'platform');
    assert.match(problem?.message ?? '', /numpy==2\.4\.6: numpy-2\.4\.6-cp311.*cannot be installed on el9: built for cp311-cp311; the target has CPython 3\.9/);
  });

  it('every violation is reported at once', () => {
    const wheels = new Map([
      facts('a-1.0-cp312-cp312-manylinux_2_17_x86_64.whl', ['b>=2', 'c'], { requiresPython: '>=3.12' }),
      facts('b-1.0-py3-none-any.whl'),
    ]);
    const kinds = checkClosure([pin('a==1.0'), pin('b==1.0')], wheels, debian12).map((p) => p.kind).sort();
    assert.deepEqual(kinds, ['missing', 'platform', 'python', 'version']);
  });

  it('a wheel whose metadata disagrees with the pin is reported', () => {
    const wheels = new Map([facts('a-1.0-py3-none-any.whl', [], { metadataVersion: '1.1' })]);
    assert.equal(checkClosure([pin('a==1.0')], wheels, debian12)[0]?.kind, 'metadata');
  });
});

describe('closure of one application', () => {
  it('contains only what the root reaches on the target', () => {
    const wheels = new Map([
      facts('app-1.0-py3-none-any.whl', ['lib', 'old; python_version < "3.8"']),
      facts('lib-1.0-py3-none-any.whl', ['dep']),
      facts('dep-1.0-py3-none-any.whl'),
      facts('other-1.0-py3-none-any.whl'),
      facts('old-1.0-py3-none-any.whl'),
    ]);
    const closure = computeClosure([{ key: 'app', extras: [] }], wheels, env);
    assert.deepEqual(closure.keys, ['app', 'dep', 'lib']);
    assert.deepEqual(closure.dependencies.get('app')?.map((d) => d.key), ['lib']);
  });

  it('gives each dependency its PEP 440 specifier, the specifiers of one name joined, inactive markers left out', () => {
    const wheels = new Map([
      facts('app-1.0-py3-none-any.whl', ['lib>=1.0,<2', 'Dep (>= 0.5)', 'lib[fast]!=1.5; python_version >= "3.8"', 'lib<1.8; python_version < "3.8"', 'plain']),
      facts('lib-1.7-py3-none-any.whl', ['fast>=2; extra == "fast"']),
      facts('dep-1.0-py3-none-any.whl'),
      facts('plain-1.0-py3-none-any.whl'),
      facts('fast-2.0-py3-none-any.whl'),
    ]);
    const closure = computeClosure([{ key: 'app', extras: [] }], wheels, env);
    assert.deepEqual(closure.keys, ['app', 'dep', 'fast', 'lib', 'plain']);
    assert.deepEqual(
      closure.dependencies.get('app')?.map((d) => [d.key, d.specifier]),
      [
        ['lib', '>=1.0,<2,!=1.5'],
        ['dep', '>=0.5'],
        ['plain', ''],
      ],
    );
    assert.deepEqual(closure.dependencies.get('lib')?.map((d) => [d.key, d.specifier]), [['fast', '>=2']], 'the extra another distribution asked for');
  });
});
