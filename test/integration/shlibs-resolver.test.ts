/**
 * The .deb shared-library resolver against its oracle, the real
 * dpkg-shlibdeps invoked as the packager invoked it for every package before
 * the resolver (`dpkgShlibdeps`, still its fallback): same relations, in the
 * same order, for every compiled wheel of the corpus unpacked as reqset
 * stages it, for gcc-made fixtures (bundled library with and without RPATH,
 * an executable, C++, a library known only by a shlibs file), and the same
 * problems for a library found nowhere or in no package. Each case also
 * checks that the resolver answered itself (no dpkg-shlibdeps run, no
 * process at all), so a fallback cannot pass for agreement.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../src/errors.ts';
import { dpkgShlibdeps, shlibsJob, ShlibsResolver } from '../../src/packagers/deb/shlibs.ts';
import { isValidDebianVersion, parseSymbolsFile, renderRelations, shlibsEntry } from '../../src/packagers/deb/symbols.ts';
import { walkTree } from '../../src/packagers/deb/tree.ts';
import type { PackagePlan } from '../../src/packagers/packager.ts';
import { planWheelPackage, wheelStem } from '../../src/packagers/plan.ts';
import { run, traceCommands } from '../../src/run.ts';
import { extractWheel } from '../../src/wheels/extract.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { makeCompiledTree } from '../helpers/elf-fixtures.ts';
import { corpusWheelsDir } from '../helpers/env.ts';
import { debian12, EXT, LIBFOO, LOOSE_LIBRARY, scratchDirs, stageCompiledWheel, wheelRef } from '../helpers/deb-fixtures.ts';

const target = await debian12();
const fresh = scratchDirs('reqset-shlibs-');
/** One resolver for the whole file, as one DebPackager has for a whole build. */
const resolver = new ShlibsResolver();

function planFor(filename: string, bundled: string[]): PackagePlan {
  const wheel = wheelRef(filename);
  return planWheelPackage({ reqset: 'rs', target, key: wheel.name.key, version: wheel.name.version, wheel, dependencies: [], compiledAgainst: [], bundledLibraries: bundled });
}

/** The deb-fixtures extension's wheel, staged by stageCompiledWheel. */
const FASTMATH = 'fastmath-2.0.1-cp311-cp311-linux_x86_64';
const fastmathPlan = () => planFor(`${FASTMATH}.whl`, [`fastmath.libs/${LIBFOO}`]);

/** The resolver's answer (or error), with every command it ran. */
async function resolve(plan: PackagePlan, root: string, by = resolver): Promise<{ result: string[] | Error; commands: string[] }> {
  const commands: string[] = [];
  traceCommands((command) => commands.push(command));
  try {
    const result = await by.depends(plan, root, await walkTree(root), await fresh('scratch')).catch((error: Error) => error);
    return { result, commands };
  } finally {
    traceCommands(undefined);
  }
}

/** dpkg-shlibdeps' answer (or error), invoked exactly as the packager invoked it. */
async function oracle(plan: PackagePlan, root: string): Promise<string[] | Error> {
  const job = await shlibsJob(plan, root, await walkTree(root));
  if (job.external.length === 0) return [];
  return dpkgShlibdeps(plan, job, await fresh('scratch')).catch((error: Error) => error);
}

/** Both agree, and the resolver ran no process to get there. */
async function assertAgrees(plan: PackagePlan, root: string, by = resolver): Promise<string[]> {
  await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
  const expected = await oracle(plan, root);
  const { result, commands } = await resolve(plan, root, by);
  assert.deepEqual(commands, [], 'the resolver answers without any process (no fallback)');
  if (expected instanceof Error) {
    assert.ok(result instanceof ToolError, `dpkg-shlibdeps failed (${expected.message}) but the resolver gave ${String(result)}`);
    assert.equal(result.message, expected.message);
  } else {
    assert.deepEqual(result, expected);
  }
  return expected instanceof Error ? [] : expected;
}

/** A wheel unpacked as the build stages it: `<root>/opt/rs/wheels/<stem>/`. */
async function stageCorpusWheel(file: string): Promise<{ plan: PackagePlan; root: string }> {
  const root = path.join(await fresh('wheel'), 'root');
  const source = await openWheel(file);
  try {
    await extractWheel(source, path.join(root, 'opt', 'rs', 'wheels', wheelStem(path.basename(file))), { mtime: new Date(1700000000 * 1000) });
    const bundled = source.members.map((m) => m.name).filter((name) => /^[^/]+\.libs\/[^/]+$/.test(name));
    return { plan: planFor(path.basename(file), bundled), root };
  } finally {
    await source.close();
  }
}

describe('the shlibs resolver gives what dpkg-shlibdeps gives', () => {
  const compiled = readdirSync(corpusWheelsDir()).filter((f) => f.endsWith('.whl') && !f.includes('-none-any'));

  it('the corpus has compiled wheels to check', () => {
    assert.ok(compiled.length >= 4, compiled.join(', '));
  });

  for (const file of compiled) {
    it(`corpus wheel ${file.split('-').slice(0, 2).join('-')}`, async () => {
      const { plan, root } = await stageCorpusWheel(path.join(corpusWheelsDir(), file));
      const relations = await assertAgrees(plan, root);
      assert.ok(relations.some((r) => r.startsWith('libc6 (>= ')), relations.join(', '));
    });
  }

  it('the elf-fixtures tree: a bundled library through $ORIGIN RUNPATH, libm from the system', async () => {
    const root = path.join(await fresh('fixture'), 'root');
    const tree = path.join(root, 'opt', 'rs', 'wheels', 'pkg-1.0-cp311-cp311-linux_x86_64');
    const fixture = await makeCompiledTree(tree);
    const relations = await assertAgrees(planFor('pkg-1.0-cp311-cp311-linux_x86_64.whl', [fixture.library]), root);
    assert.ok(relations.some((r) => r.startsWith('libc6 ')));
  });

  for (const rpath of [true, false]) {
    it(`the deb-fixtures extension ${rpath ? 'with an RPATH' : 'found through -l only'}`, async () => {
      const { root } = await stageCompiledWheel(await fresh('fastmath'), FASTMATH, { rpath });
      await assertAgrees(fastmathPlan(), root);
    });
  }

  it('an executable (PIE, with copy relocations) and a C++ library needing libstdc++, libgcc_s and zlib', async () => {
    const dir = await fresh('mixed');
    const tree = path.join(dir, 'root', 'opt', 'rs', 'wheels', 'mixed-1.0-cp311-cp311-linux_x86_64');
    await mkdir(path.join(tree, 'mixed', 'bin'), { recursive: true });
    await writeFile(path.join(dir, 'main.c'), '#include <stdio.h>\n#include <zlib.h>\nint main(void) { fprintf(stdout, "%s", zlibVersion()); return 0; }\n');
    await writeFile(path.join(dir, 'cxx.cc'), '#include <string>\n#include <stdexcept>\nextern "C" int f(int n) { std::string s(n, \'x\'); if (n < 0) throw std::runtime_error(s); return (int)s.size(); }\n');
    await run(['gcc', '-O1', '-o', path.join(tree, 'mixed', 'bin', 'tool'), path.join(dir, 'main.c'), '-lz']);
    await run(['g++', '-shared', '-fPIC', '-O1', '-o', path.join(tree, 'mixed', '_cxx.cpython-311-x86_64-linux-gnu.so'), path.join(dir, 'cxx.cc')]);
    const relations = await assertAgrees(planFor('mixed-1.0-cp311-cp311-linux_x86_64.whl', []), path.join(dir, 'root'));
    assert.ok(relations.some((r) => r.startsWith('libstdc++6 ')) && relations.some((r) => r.startsWith('zlib1g ')), relations.join(', '));
  });

  it('the same problems for a library in no package and for one found nowhere', async () => {
    const { root, loose } = await stageCompiledWheel(await fresh('unmapped'), FASTMATH, { loose: true });
    const plan = fastmathPlan();
    await assertAgrees(plan, root);
    const { result } = await resolve(plan, root);
    assert.ok(result instanceof ToolError && result.message.includes(`/${EXT} needs ${LOOSE_LIBRARY} (found at ${loose}/${LOOSE_LIBRARY})`), String(result));
    await rm(loose, { recursive: true });
    // A build reads the machine's libraries once: the next build sees the library gone.
    await assertAgrees(plan, root, new ShlibsResolver());
  });
});

describe('what the resolver does not model goes to dpkg-shlibdeps', () => {
  it('a package resolved on a machine it cannot model (an empty LD_LIBRARY_PATH entry) gets dpkg-shlibdeps itself', async () => {
    const { root } = await stageCompiledWheel(await fresh('fallback'), FASTMATH);
    await mkdir(path.join(root, 'DEBIAN'));
    const plan = fastmathPlan();
    const saved = process.env.LD_LIBRARY_PATH;
    process.env.LD_LIBRARY_PATH = '/nonexistent-a::/nonexistent-b';
    try {
      const expected = await oracle(plan, root);
      const { result, commands } = await resolve(plan, root, new ShlibsResolver());
      assert.deepEqual(result, expected);
      assert.ok(commands.some((c) => c.startsWith('# dpkg-shlibdeps for rs-wheel-fastmath: an empty LD_LIBRARY_PATH entry')), commands.join('\n'));
      assert.ok(commands.some((c) => c.includes(' && dpkg-shlibdeps -O ')), commands.join('\n'));
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved;
    }
  });
});

describe('symbols and shlibs files, as dpkg-dev reads them', () => {
  const text = [
    '# comment',
    'libfoo.so.1 libfoo1 #MINVER#',
    '| libfoo1 (>> 1.5), libfoo1 (<< 1.6)',
    '* Build-Depends-Package: libfoo-dev',
    ' foo_a@Base 1.0',
    ' foo_b@FOO_2 1.2-1',
    ' foo_private@FOO_PRIVATE 1.5 1',
    '#MISSING: 1.4-1# foo_gone@Base 1.1',
    ' (optional|arch=amd64)foo_tagged@Base 1.3',
    ' (c++)"foo::bar()@Base" 1.0',
    ' (symver)FOO_3 1.4',
    ' *@FOO_4 1.4',
    'libbar.so.2 libbar2',
    ' bar@Base 2.0',
    '',
  ].join('\n');

  it('keeps symbols with their minimum version and template, leaves patterns out, marks #MISSING ones', () => {
    const { objects, unsupported } = parseSymbolsFile(text);
    assert.equal(unsupported, undefined);
    const foo = objects.get('libfoo.so.1');
    assert.deepEqual(foo?.deps, ['libfoo1 #MINVER#', 'libfoo1 (>> 1.5), libfoo1 (<< 1.6)']);
    assert.deepEqual(
      Object.fromEntries(foo?.symbols ?? []),
      {
        'foo_a@Base': { minver: '1.0', depId: 0, deprecated: false },
        'foo_b@FOO_2': { minver: '1.2-1', depId: 0, deprecated: false },
        'foo_private@FOO_PRIVATE': { minver: '1.5', depId: 1, deprecated: false },
        'foo_gone@Base': { minver: '1.1', depId: 0, deprecated: true },
        'foo_tagged@Base': { minver: '1.3', depId: 0, deprecated: false },
      },
    );
    assert.deepEqual(objects.get('libbar.so.2')?.deps, ['libbar2']);
    assert.match(parseSymbolsFile(`libx.so.1 libx1 #MINVER#\n#include "more.symbols"\n`).unsupported ?? '', /#include/);
  });

  it('takes the deb: shlibs line over an untyped one, and the first untyped one otherwise', () => {
    const shlibs = 'libfoo 1 libfoo1 (>= 1.0)\nudeb: libfoo 1 libfoo1-udeb\nlibfoo 1 libfoo1 (>= 9)\nlibbar 2 libbar2\ndeb: libbar 2 libbar2 (>= 2.1)\n';
    assert.equal(shlibsEntry(shlibs, 'libfoo.so.1'), 'libfoo1 (>= 1.0)');
    assert.equal(shlibsEntry(shlibs, 'libbar.so.2'), 'libbar2 (>= 2.1)');
    assert.equal(shlibsEntry(shlibs, 'libbaz.so.3'), undefined);
    assert.equal(shlibsEntry('libqux-1.2 5 libqux\n', 'libqux-1.2.so.5'), 'libqux');
  });
});

// The version order itself is held to dpkg --compare-versions in publish-versions.test.ts.
describe('Debian versions and relations, as dpkg writes them', () => {
  it('knows what a valid version is', () => {
    assert.ok(isValidDebianVersion('2.2.5') && isValidDebianVersion('1:2.3-1'));
    assert.ok(!isValidDebianVersion('') && !isValidDebianVersion('a1') && !isValidDebianVersion('1.0-') && !isValidDebianVersion('1 0'));
  });

  it('fills #MINVER#, drops (>= 0), normalises and sorts as Dpkg::Deps', () => {
    const relations = new Map([
      ['libc6 #MINVER#', '2.34'],
      ['libgcc-s1 (>= 3.0) | libgcc1', ''],
      ['libz #MINVER#', '0'],
      ['libc6 (<< 2.37)', '2.36'],
      ['libc6 (>> 2.36)', '2.36'],
      ['libfoo  (>=1.0)', ''],
    ]);
    assert.deepEqual(renderRelations(relations), ['libc6 (>= 2.34)', 'libc6 (>> 2.36)', 'libc6 (<< 2.37)', 'libfoo (>= 1.0)', 'libgcc-s1 (>= 3.0) | libgcc1', 'libz']);
  });
});
