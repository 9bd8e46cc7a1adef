/**
 * The pure Debian side of a plan: control file, relations, file name and
 * maintainer scripts. Golden files in test/golden/deb/<case>/ hold the full
 * control file and scripts of four plans; `UPDATE_GOLDEN=1` rewrites them.
 * (That dpkg accepts all of this and orders the relations as intended is
 * checked against the real tools in test/integration/deb-packager.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../../src/errors.ts';
import type { PackagePlan } from '../../src/packagers/packager.ts';
import { specifierBounds } from '../../src/packagers/ranges.ts';
import { planRuntimePackage, planWheelPackage } from '../../src/packagers/plan.ts';
import { parseWheelFilename } from '../../src/python/tags.ts';
import { parseTarget, TOOL_ROOT, type Target } from '../../src/targets/target.ts';
import {
  debArchitecture,
  debControl,
  debDependencies,
  debFileName,
  debMaintainerScripts,
  debProvides,
  debPydistName,
  debVersion,
  pythonRelations,
  SCRIPT_ACTIONS,
} from '../../src/packagers/deb/control.ts';
import { externalNeeds, parseReadelf, parseShlibdepsOutput, shlibdepsProblems } from '../../src/packagers/deb/shlibs.ts';

const TARGET_FILE = path.join(TOOL_ROOT, 'packaging', 'targets', 'debian12.yml');
const target: Target = parseTarget(readFileSync(TARGET_FILE, 'utf8'), TARGET_FILE);
const GOLDEN = path.join(TOOL_ROOT, 'test', 'golden', 'deb');
const MAINTAINER = 'reqset <reqset@example.org>';

function wheel(filename: string) {
  const name = parseWheelFilename(filename);
  if (!name) throw new Error(`bad wheel name ${filename}`);
  return { filename, name };
}

/** A dependency as the closure gives it: distribution key and PEP 440 specifier. */
const dep = (key: string, specifier: string) => ({ key, specifier });

const CASES: { name: string; plan: PackagePlan; installedSizeKiB: number; shlibs?: string[] }[] = [
  {
    name: 'pure-wheel',
    plan: planWheelPackage({
      reqset: 'reqsset3',
      target,
      key: 'tinyvec',
      version: '1.2.0',
      wheel: wheel('tinyvec-1.2.0-py3-none-any.whl'),
      summary: 'Tiny vectors for Python',
      license: 'MIT',
      homepage: 'https://example.org/tinyvec',
      dependencies: [dep('typing-extensions', '>=4.6')],
      compiledAgainst: [],
      bundledLibraries: [],
    }),
    installedSizeKiB: 37,
  },
  {
    name: 'compiled-wheel',
    plan: planWheelPackage({
      reqset: 'reqsset3',
      target,
      key: 'fastmath',
      version: '2.0.1',
      wheel: wheel('fastmath-2.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'),
      summary: 'Fast math extension',
      dependencies: [dep('numpy', '>=1.22,<2'), dep('tinyvec', '~=1.2')],
      compiledAgainst: [{ key: 'numpy', version: '1.26.4' }],
      bundledLibraries: ['fastmath.libs/libfoo-1a2b3c4d.so'],
    }),
    installedSizeKiB: 412,
    shlibs: ['libc6 (>= 2.14)'],
  },
  { name: 'runtime', plan: planRuntimePackage('reqsset3', target, '0.1.0'), installedSizeKiB: 52 },
  {
    name: 'epoch-prerelease',
    plan: planWheelPackage({
      reqset: 'reqsset3',
      target,
      key: 'calver-thing',
      version: '1!2.0rc1',
      wheel: wheel('calver_thing-1!2.0rc1-py3-none-any.whl'),
      dependencies: [dep('oldlib', '>2!0.9b2.post1'), dep('locallib', '==1.0+cu118.5'), dep('anylib', '')],
      compiledAgainst: [],
      bundledLibraries: [],
    }),
    installedSizeKiB: 3,
  },
];

/** Parses a control file into fields (continuation lines joined with "\n"). */
function parseControl(text: string): Map<string, string> {
  assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), 'one paragraph, ending in a newline');
  const fields = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    assert.notEqual(line, '', 'no empty line inside the paragraph');
    assert.doesNotMatch(line, /\s$/, `no trailing whitespace: ${JSON.stringify(line)}`);
    if (line.startsWith(' ')) {
      assert.ok(last, 'a continuation line follows a field');
      fields.set(last, `${fields.get(last)}\n${line}`);
    } else {
      const m = /^([A-Za-z][A-Za-z0-9-]*): (.*)$/.exec(line);
      assert.ok(m, `field line: ${line}`);
      assert.ok(!fields.has(m[1] as string), `duplicate field ${m[1]}`);
      fields.set(m[1] as string, m[2] as string);
      last = m[1];
    }
  }
  return fields;
}

function plan(overrides: Partial<PackagePlan> = {}): PackagePlan {
  return {
    kind: 'wheel',
    name: 'r-wheel-x',
    pep440: '1.0',
    release: '1',
    arch: 'noarch',
    summary: 'x',
    description: '',
    license: 'MIT',
    requires: [],
    scriptletRequires: [],
    contents: ['/opt/r/wheels/x-1.0-py3-none-any'],
    ownedDirs: [],
    ghostFiles: [],
    privateLibraries: [],
    scriptlets: {},
    ...overrides,
  };
}

describe('golden control files and maintainer scripts', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const files: Record<string, string> = {
        control: debControl(c.plan, { installedSizeKiB: c.installedSizeKiB, maintainer: MAINTAINER, shlibsDepends: c.shlibs }),
        ...debMaintainerScripts(c.plan),
      };
      const dir = path.join(GOLDEN, c.name);
      if (process.env.UPDATE_GOLDEN === '1') {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
      }
      assert.deepEqual(readdirSync(dir).sort(), Object.keys(files).sort(), `files in ${dir} (UPDATE_GOLDEN=1 rewrites them)`);
      for (const [name, text] of Object.entries(files)) {
        assert.equal(text, readFileSync(path.join(dir, name), 'utf8'), `${c.name}/${name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)`);
      }
      parseControl(files.control as string);
    });
  }

  it('the golden plans cover what they are meant to', () => {
    const byName = new Map(CASES.map((c) => [c.name, c]));
    assert.equal(byName.get('pure-wheel')?.plan.arch, 'noarch');
    assert.equal(byName.get('compiled-wheel')?.plan.arch, 'x86_64');
    assert.deepEqual(byName.get('compiled-wheel')?.plan.privateLibraries, ['libfoo-1a2b3c4d.so']);
    assert.equal(byName.get('runtime')?.plan.kind, 'runtime');
    assert.equal(debVersion(byName.get('epoch-prerelease')?.plan as PackagePlan), '1:2.0~rc1-1');
    assert.deepEqual(debProvides(byName.get('epoch-prerelease')?.plan as PackagePlan), ['reqsset3-pydist-calver-thing (= 1:2.0~rc1)']);
    assert.deepEqual(debProvides(byName.get('runtime')?.plan as PackagePlan), [], 'only wheel packages provide a distribution');
    assert.deepEqual(
      debDependencies(byName.get('epoch-prerelease')?.plan as PackagePlan).slice(3),
      ['reqsset3-pydist-oldlib (>> 2:0.9~b2+post1)', 'reqsset3-pydist-locallib (= 1.0+local+cuBBI~.5)', 'reqsset3-pydist-anylib'],
      'a non-final >, a local ==, and no specifier',
    );
  });
});

describe('debControl', () => {
  it('writes the fields in the usual order, with the Debian version and architecture', () => {
    const c = CASES[1] as (typeof CASES)[number];
    const fields = parseControl(debControl(c.plan, { installedSizeKiB: 412, maintainer: MAINTAINER, shlibsDepends: ['libc6 (>= 2.14)'] }));
    assert.deepEqual([...fields.keys()], ['Package', 'Version', 'Architecture', 'Maintainer', 'Installed-Size', 'Depends', 'Provides', 'Section', 'Priority', 'Description']);
    assert.equal(fields.get('Package'), 'reqsset3-wheel-fastmath');
    assert.equal(fields.get('Version'), '2.0.1-1');
    assert.equal(fields.get('Architecture'), 'amd64');
    assert.equal(fields.get('Installed-Size'), '412');
    assert.equal(fields.get('Section'), 'python');
    assert.equal(fields.get('Priority'), 'optional');
    assert.equal(
      fields.get('Depends'),
      'reqsset3-runtime, python3 (>= 3.11), python3 (<< 3.12), ' +
        'reqsset3-pydist-tinyvec (>= 1.2), reqsset3-pydist-tinyvec (<< 2.0~~), ' +
        'reqsset3-pydist-numpy (= 1.26.4), libc6 (>= 2.14)',
      'ranges for the dependencies, the exact version of what it was compiled against (instead of its range), then the shared libraries',
    );
    assert.equal(fields.get('Provides'), 'reqsset3-pydist-fastmath (= 2.0.1)', 'its distribution at its PEP 440 version, no revision');
  });

  it('leaves Provides out of a package that provides no distribution', () => {
    assert.equal(parseControl(debControl(plan(), { installedSizeKiB: 1, maintainer: MAINTAINER })).has('Provides'), false);
    const provides = parseControl(debControl(plan({ pydist: { reqset: 'r', key: 'x', pep440: '1!1.0.0.post2' } }), { installedSizeKiB: 1, maintainer: MAINTAINER })).get('Provides');
    assert.equal(provides, 'r-pydist-x (= 1:1.0+post2)', 'the PEP 440 epoch, never the package epoch or revision');
    assert.equal(debProvides(plan({ epoch: 3, release: '7', pydist: { reqset: 'r', key: 'x', pep440: '1.0' } }))[0], 'r-pydist-x (= 1.0)');
  });

  it('adds Homepage only when the plan has a URL', () => {
    assert.equal(parseControl(debControl(plan({ url: 'https://example.org/x' }), { installedSizeKiB: 1, maintainer: MAINTAINER })).get('Homepage'), 'https://example.org/x');
    assert.equal(parseControl(debControl(plan(), { installedSizeKiB: 1, maintainer: MAINTAINER })).has('Homepage'), false);
    assert.equal(parseControl(debControl(plan({ url: '  ' }), { installedSizeKiB: 1, maintainer: MAINTAINER })).has('Homepage'), false);
    assert.throws(() => debControl(plan({ url: 'https://x y' }), { installedSizeKiB: 1, maintainer: MAINTAINER }), InputError);
  });

  it('leaves Depends out when there is nothing to depend on', () => {
    assert.equal(parseControl(debControl(plan(), { installedSizeKiB: 1, maintainer: MAINTAINER })).has('Depends'), false);
  });

  it('formats the extended description: leading space, " ." for empty lines, reserved lines escaped, long lines wrapped', () => {
    const long = 'word '.repeat(40).trim();
    const text = debControl(plan({ summary: 'Sum\nmary\twith  breaks', description: `\n\nFirst line\n\n\n\nSecond paragraph.\n.hidden\n  verbatim  ${long}\n${long}\r\nlast\u0007 \n\n` }), {
      installedSizeKiB: 1,
      maintainer: ' Name  <n@example.org>\n',
    });
    const fields = parseControl(text);
    assert.equal(fields.get('Maintainer'), 'Name <n@example.org>');
    const lines = (fields.get('Description') as string).split('\n');
    assert.equal(lines[0], 'Sum mary with breaks');
    assert.deepEqual(lines.slice(1, 5), [' First line', ' .', ' Second paragraph.', '  .hidden']);
    assert.equal(lines[5], `   verbatim  ${long}`, 'lines that start with a space are kept whole');
    const wrapped = lines.slice(6, -1);
    assert.ok(wrapped.length >= 3);
    for (const line of wrapped) {
      assert.ok(line.startsWith(' ') && !line.startsWith('  '));
      assert.ok(line.length <= 79, `wrapped within 79 columns: ${line.length}`);
    }
    assert.equal(wrapped.map((l) => l.slice(1)).join(' '), long);
    assert.equal(lines[lines.length - 1], ' last');
  });

  it('writes only the synopsis when the description is empty', () => {
    assert.equal(parseControl(debControl(plan({ summary: 'just this' }), { installedSizeKiB: 1, maintainer: MAINTAINER })).get('Description'), 'just this');
  });

  it('rejects names dpkg would refuse, and empty single-line fields', () => {
    for (const name of ['R-wheel-x', 'r_wheel', 'x', '-x', 'r wheel']) {
      assert.throws(() => debControl(plan({ name }), { installedSizeKiB: 1, maintainer: MAINTAINER }), InputError, name);
      assert.throws(() => debFileName(plan({ name })), InputError, name);
    }
    assert.throws(() => debControl(plan({ summary: ' \n' }), { installedSizeKiB: 1, maintainer: MAINTAINER }), InputError);
    assert.throws(() => debControl(plan(), { installedSizeKiB: 1, maintainer: '' }), InputError);
    assert.throws(() => debControl(plan(), { installedSizeKiB: -1, maintainer: MAINTAINER }));
    assert.throws(() => debControl(plan(), { installedSizeKiB: 1.5, maintainer: MAINTAINER }));
  });
});

describe('debDependencies', () => {
  it('maps every kind of dependency', () => {
    const p = plan({
      requires: [
        { kind: 'any', name: 'r-runtime' },
        { kind: 'python', version: '3.11', package: 'python3' },
        { kind: 'pydist', reqset: 'r', key: 'numpy', bounds: specifierBounds('>=1.22,<2') },
        { kind: 'pydist', reqset: 'r', key: 'numpy', bounds: [{ op: '=', epoch: 0, upstream: '1.26.4' }] },
        { kind: 'pydist', reqset: 'r', key: 'anything', bounds: [] },
        { kind: 'package', name: 'r-wheel-old', version: { pep440: '2!1.0.0rc1', epoch: 2, release: '3' } },
        { kind: 'package', name: 'r-wheel-rolled', version: { pep440: '1.0', epoch: 1, release: '1' } },
        { kind: 'system', text: 'libfoo1 (>= 1.2) | libfoo2' },
      ],
    });
    assert.deepEqual(debDependencies(p), [
      'r-runtime',
      'python3 (>= 3.11)',
      'python3 (<< 3.12)',
      'r-pydist-numpy (>= 1.22)',
      'r-pydist-numpy (<< 2.0~~)',
      'r-pydist-numpy (= 1.26.4)',
      'r-pydist-anything',
      'r-wheel-old (= 2:1.0~rc1-3)',
      'r-wheel-rolled (= 1:1.0-1)',
      'libfoo1 (>= 1.2) | libfoo2',
    ]);
  });

  it('adds scriptlet requirements and shared-library relations, without duplicates', () => {
    const runtime = { kind: 'any' as const, name: 'r-runtime' };
    const p = plan({ requires: [runtime], scriptletRequires: [runtime, { kind: 'any', name: 'r-helper' }] });
    assert.deepEqual(debDependencies(p, ['libc6 (>= 2.14)', 'r-runtime', 'libc6 (>= 2.14)']), ['r-runtime', 'r-helper', 'libc6 (>= 2.14)']);
  });

  it('uses the target package for Python and the next minor version as the bound', () => {
    assert.deepEqual(pythonRelations('python3.9', '3.9'), ['python3.9 (>= 3.9)', 'python3.9 (<< 3.10)']);
    assert.deepEqual(debDependencies(plan({ requires: [{ kind: 'python', version: '3.12', package: 'python3' }] })), ['python3 (>= 3.12)', 'python3 (<< 3.13)']);
    assert.throws(() => pythonRelations('python3', '3'), InputError);
  });

  it('writes PEP 440 specifiers as relations on the pydist virtual package, one per bound', () => {
    const relations = (specifier: string) => debDependencies(plan({ requires: [{ kind: 'pydist', reqset: 'r', key: 'lib', bounds: specifierBounds(specifier) }] }));
    assert.equal(debPydistName('r', 'lib'), 'r-pydist-lib');
    assert.deepEqual(relations('>=1.0,<2'), ['r-pydist-lib (>= 1.0)', 'r-pydist-lib (<< 2.0~~)'], '< a final version leaves out its pre-releases');
    assert.deepEqual(relations('>=1.0.0,<2.0.0'), ['r-pydist-lib (>= 1.0)', 'r-pydist-lib (<< 2.0~~)'], 'PEP 440-equal versions give the same relations');
    assert.deepEqual(relations('>1.0'), ['r-pydist-lib (>= 1.0.0~)'], '> a final version leaves out its post-releases');
    assert.deepEqual(relations('<=1.0'), ['r-pydist-lib (<< 1.0+p)'], '<= admits local versions, not post-releases');
    assert.deepEqual(relations('==1.0'), ['r-pydist-lib (>= 1.0)', 'r-pydist-lib (<< 1.0+p)']);
    assert.deepEqual(relations('==1.0+abc.5'), ['r-pydist-lib (= 1.0+local+abc~.5)']);
    assert.deepEqual(relations('==1.4.*'), ['r-pydist-lib (>= 1.4~~)', 'r-pydist-lib (<< 1.5~~)']);
    assert.deepEqual(relations('~=1.4.2'), ['r-pydist-lib (>= 1.4.2)', 'r-pydist-lib (<< 1.5~~)']);
    assert.deepEqual(relations('>=1!2.0rc1'), ['r-pydist-lib (>= 1:2.0~rc1)']);
    assert.deepEqual(relations('!=1.5'), ['r-pydist-lib'], 'no relation says "any but one"');
    assert.deepEqual(relations(''), ['r-pydist-lib']);
  });

  it('pins endpoint and pins package requirements to the exact package version: epoch, upstream and revision', () => {
    const exact = (pep440: string, epoch: number, release: string) => debDependencies(plan({ requires: [{ kind: 'package', name: 'r-wheel-a', version: { pep440, epoch, release } }] }));
    assert.deepEqual(exact('1.0', 0, '1'), ['r-wheel-a (= 1.0-1)']);
    assert.deepEqual(exact('1.0.0', 0, '2'), ['r-wheel-a (= 1.0-2)'], 'PEP 440-equal versions give the same relation');
    assert.deepEqual(exact('1.0.post1', 1, '1'), ['r-wheel-a (= 1:1.0+post1-1)'], 'a rollback epoch is part of it');
    assert.deepEqual(exact('2!1.0', 2, '1'), ['r-wheel-a (= 2:1.0-1)']);
    assert.equal(debVersion({ pep440: '1!2.0rc1', release: '1' }), '1:2.0~rc1-1');
    assert.equal(debVersion({ pep440: '3.0-0', release: '1' }), '3.0+post0-1', 'a PEP 440 "-0" post-release is not mistaken for a revision');
  });

  it('rejects malformed system relations and bad dependency names', () => {
    assert.throws(() => debDependencies(plan({ requires: [{ kind: 'system', text: 'a, b' }] })), InputError);
    assert.throws(() => debDependencies(plan({ requires: [{ kind: 'system', text: ' ' }] })), InputError);
    assert.throws(() => debDependencies(plan({ requires: [{ kind: 'any', name: 'Bad_Name' }] })), InputError);
    assert.throws(() => debDependencies(plan({ requires: [{ kind: 'package', name: 'r-wheel-a', version: { pep440: 'not a version', epoch: 0, release: '1' } }] })), InputError);
    assert.throws(() => debDependencies(plan({ requires: [{ kind: 'package', name: 'Bad_Name', version: { pep440: '1.0', epoch: 0, release: '1' } }] })), InputError);
    assert.throws(() => debDependencies(plan({ requires: [{ kind: 'pydist', reqset: 'r', key: 'Bad_Key', bounds: [] }] })), InputError);
    assert.throws(() => debControl(plan({ pydist: { reqset: 'r', key: 'Bad_Key', pep440: '1.0' } }), { installedSizeKiB: 1, maintainer: MAINTAINER }), InputError);
  });
});

describe('names, versions, architectures', () => {
  it('maps the architectures', () => {
    assert.equal(debArchitecture(plan({ arch: 'noarch' })), 'all');
    assert.equal(debArchitecture(plan({ arch: 'x86_64' })), 'amd64');
    assert.equal(debArchitecture(plan({ arch: 'aarch64' })), 'arm64');
  });

  it('names the file name_version_arch.deb without the epoch', () => {
    assert.equal(debFileName(plan()), 'r-wheel-x_1.0-1_all.deb');
    assert.equal(debFileName(plan({ pep440: '1!2.0rc1', release: '3', arch: 'aarch64' })), 'r-wheel-x_2.0~rc1-3_arm64.deb');
    assert.equal(debVersion(plan({ pep440: '1!2.0rc1', release: '3' })), '1:2.0~rc1-3');
    assert.throws(() => debVersion(plan({ release: 'a-b' })), InputError);
    assert.equal(debVersion(plan({ pep440: '1.0', release: '2', epoch: 1 })), '1:1.0-2', 'the package epoch the history decided');
    assert.equal(debVersion(plan({ pep440: '1!2.0', release: '1', epoch: 3 })), '3:2.0-1', 'replaces the PEP 440 epoch');
    assert.equal(debFileName(plan({ pep440: '1.0', release: '2', epoch: 1 })), 'r-wheel-x_1.0-2_all.deb');
  });
});

describe('debMaintainerScripts', () => {
  it('writes no scripts for a plan without scriptlets', () => {
    assert.deepEqual(debMaintainerScripts(plan()), {});
    assert.deepEqual(debMaintainerScripts(plan({ scriptlets: { afterInstall: '  \n' } })), {});
  });

  it('runs each scriptlet for its actions only', () => {
    const scripts = debMaintainerScripts(plan({ scriptlets: { afterInstall: 'echo install', beforeRemove: 'echo before', afterRemove: 'echo after' } }));
    assert.deepEqual(Object.keys(scripts).sort(), ['postinst', 'postrm', 'prerm']);
    for (const [name, text] of Object.entries(scripts)) {
      assert.ok(text.startsWith('#!/bin/sh\n'), name);
      assert.match(text, /^set -e$/m, name);
      assert.ok(text.endsWith('exit 0\n'), name);
    }
    assert.ok(scripts.postinst?.includes(`    ${SCRIPT_ACTIONS.afterInstall.join('|')})\n        echo install\n`));
    assert.ok(scripts.prerm?.includes('    remove)\n        echo before\n'));
    assert.ok(scripts.postrm?.includes('    remove|purge|upgrade|failed-upgrade|abort-install|abort-upgrade|disappear)\n        echo after\n'));
    assert.ok(!SCRIPT_ACTIONS.beforeRemove.includes('upgrade' as never));
  });

  it('keeps snippets with a here-document unindented', () => {
    const scripts = debMaintainerScripts(plan({ scriptlets: { afterInstall: 'cat > /tmp/x <<EOF\n  a\nEOF' } }));
    assert.ok(scripts.postinst?.includes('configure|abort-upgrade|abort-remove|abort-deconfigure)\ncat > /tmp/x <<EOF\n  a\nEOF\n        ;;\n'));
  });
});

describe('shared-library helpers (parsing only; dpkg-shlibdeps itself runs in the integration test)', () => {
  it('parses readelf -d output for one and for several files', () => {
    const one = 'Dynamic section at offset 0x2df8 contains 26 entries:\n  Tag        Type                         Name/Value\n 0x0000000000000001 (NEEDED)             Shared library: [libfoo-1a2b3c4d.so]\n 0x0000000000000001 (NEEDED)             Shared library: [libm.so.6]\n 0x000000000000000f (RPATH)              Library rpath: [$ORIGIN/../x.libs]\n';
    assert.deepEqual([...parseReadelf(one, ['/t/a.so'])], [['/t/a.so', { needed: ['libfoo-1a2b3c4d.so', 'libm.so.6'] }]]);
    const two = '\nFile: /t/a.so\n\nThere is no dynamic section in this file.\n\nFile: /t/b [x].so\n\nDynamic section at offset 0x1 contains 2 entries:\n 0x000000000000000e (SONAME)             Library soname: [libb.so.1]\n 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]\n';
    assert.deepEqual([...parseReadelf(two, ['/t/a.so', '/t/b [x].so'])], [
      ['/t/a.so', { needed: [] }],
      ['/t/b [x].so', { needed: ['libc.so.6'], soname: 'libb.so.1' }],
    ]);
  });

  it('keeps private and in-package libraries out of what the system must provide', () => {
    const objects = [
      { rel: 'opt/r/wheels/w/pkg/_ext.so', needed: ['libfoo-1a2b3c4d.so', 'libbar.so.2', 'libm.so.6', 'libz.so.1'] },
      { rel: 'opt/r/wheels/w/pkg.libs/libfoo-1a2b3c4d.so', needed: ['libc.so.6'], soname: 'libfoo-1a2b3c4d.so' },
      { rel: 'opt/r/wheels/w/pkg/libbar-impl.so', needed: [], soname: 'libbar.so.2' },
    ];
    assert.deepEqual(externalNeeds(objects, ['libz.so.1']), [
      { file: '/opt/r/wheels/w/pkg/_ext.so', soname: 'libm.so.6' },
      { file: '/opt/r/wheels/w/pkg.libs/libfoo-1a2b3c4d.so', soname: 'libc.so.6' },
    ]);
  });

  it('reads dpkg-shlibdeps -O output and its errors', () => {
    assert.deepEqual(parseShlibdepsOutput('shlibs:Depends=libc6 (>= 2.34), libgcc-s1 (>= 3.0) | libgcc1\n'), ['libc6 (>= 2.34)', 'libgcc-s1 (>= 3.0) | libgcc1']);
    assert.deepEqual(parseShlibdepsOutput(''), []);
    assert.deepEqual(parseShlibdepsOutput('shlibs:Depends=\n'), []);
    const stderr =
      "dpkg-shlibdeps: error: cannot find library libx.so.1 needed by /w/pkg-1/opt/r/a.so (ELF format: 'elf64-x86-64' abi: '0201003e00000000'; RPATH: '')\n" +
      'dpkg-shlibdeps: error: no dependency information found for /usr/local/lib/liby.so.2 (used by /w/pkg-1/opt/r/b.so)\nHint: check if the library actually comes from a package.\n';
    const problems = shlibdepsProblems(stderr, '/w/pkg-1');
    assert.equal(problems.length, 2);
    assert.match(problems[0] as string, /^\/opt\/r\/a\.so needs libx\.so\.1, /);
    assert.match(problems[1] as string, /^\/opt\/r\/b\.so needs liby\.so\.2 \(found at \/usr\/local\/lib\/liby\.so\.2\), /);
  });
});
