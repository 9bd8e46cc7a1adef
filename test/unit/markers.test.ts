import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateMarker, parseMarker, type MarkerEnvironment } from '../../src/python/markers.ts';

const el9: MarkerEnvironment = {
  python_version: '3.9',
  python_full_version: '3.9.18',
  os_name: 'posix',
  sys_platform: 'linux',
  platform_release: '',
  platform_system: 'Linux',
  platform_version: '',
  platform_machine: 'x86_64',
  platform_python_implementation: 'CPython',
  implementation_name: 'cpython',
  implementation_version: '3.9.18',
};
const py311 = { ...el9, python_version: '3.11', python_full_version: '3.11.2', implementation_version: '3.11.2' };

const holds = (marker: string, env = el9, extras: string[] = []) => evaluateMarker(parseMarker(marker), env, new Set(extras));

describe('markers', () => {
  const cases: [string, MarkerEnvironment, boolean][] = [
    ['python_version < "3.10"', el9, true],
    ['python_version < "3.10"', py311, false],
    ['python_version >= "3.9"', el9, true],
    ['python_version > "3.9"', el9, false],
    // Version comparison, not string comparison: "3.10" > "3.9".
    ['python_version >= "3.10"', py311, true],
    ['python_version < "3.10"', { ...el9, python_version: '3.10' }, false],
    ['python_full_version >= "3.9.17"', el9, true],
    ['python_full_version < "3.9.17"', el9, false],
    ['python_version == "3.9"', el9, true],
    ['python_version != "3.9"', el9, false],
    ['python_version ~= "3.8"', el9, true],
    ['python_version == "3.*"', el9, true],
    ['sys_platform == "linux"', el9, true],
    ['sys_platform == "win32"', el9, false],
    ['sys_platform != "win32" and python_version < "3.11"', el9, true],
    ['sys_platform == "win32" or python_version < "3.11"', el9, true],
    ['sys_platform == "win32" or python_version < "3.11"', py311, false],
    ['(sys_platform == "win32" or os_name == "posix") and python_version >= "3.9"', el9, true],
    ["platform_machine == 'x86_64'", el9, true],
    ['platform_machine == "aarch64"', el9, false],
    ['"linux" in sys_platform', el9, true],
    ['"win" not in sys_platform', el9, true],
    ['platform_python_implementation == "CPython"', el9, true],
    ['implementation_name == "pypy"', el9, false],
    ['platform_system == "Windows"', el9, false],
    ['"3.9" == python_version', el9, true],
    ['os.name == "posix"', el9, true],
    ['python_version<"3.10"', el9, true],
  ];
  for (const [marker, env, expected] of cases) {
    it(`${marker} on python ${env.python_version} is ${expected}`, () => assert.equal(holds(marker, env), expected));
  }

  it('extra markers are true only when the extra is requested', () => {
    assert.equal(holds('extra == "socks"'), false);
    assert.equal(holds('extra == "socks"', el9, ['socks']), true);
    assert.equal(holds('extra == "Socks_Extra"', el9, ['socks-extra']), true);
    assert.equal(holds('python_version >= "3.8" and extra == "test"', el9, ['test']), true);
    assert.equal(holds('extra != "test"', el9, []), true);
  });

  it('rejects what is not a marker', () => {
    for (const bad of ['python_version <', 'foo == "1"', 'python_version "3.8"', '(python_version < "3.8"', 'python_version < "3.8" and', 'python_version << "3"']) {
      assert.throws(() => parseMarker(bad), Error, bad);
    }
  });
});
