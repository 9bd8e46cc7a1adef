/**
 * The lintian overrides a .deb ships (src/packagers/deb/lintian.ts), against
 * golden files in test/golden/deb/lintian/; `UPDATE_GOLDEN=1` rewrites them.
 * That lintian reads them and that they hide nothing else is checked on real
 * packages in test/integration/lint.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lintianOverrides, lintianOverridesPath } from '../../src/packagers/deb/lintian.ts';
import type { PackagePlan } from '../../src/packagers/packager.ts';
import { planRuntimePackage, planWheelPackage } from '../../src/packagers/plan.ts';
import { parseWheelFilename } from '../../src/python/tags.ts';
import { parseTarget, SMALL_PAYLOAD, TOOL_ROOT, type Payload, type Target } from '../../src/targets/target.ts';

const TARGET_FILE = path.join(TOOL_ROOT, 'packaging', 'targets', 'debian12.yml');
const target: Target = parseTarget(readFileSync(TARGET_FILE, 'utf8'), TARGET_FILE);
const GOLDEN = path.join(TOOL_ROOT, 'test', 'golden', 'deb', 'lintian');
const ZSTD: Payload = { compression: 'zstd', level: 3 };

function wheelPlan(filename: string): PackagePlan {
  const name = parseWheelFilename(filename);
  if (!name) throw new Error(`bad wheel name ${filename}`);
  return planWheelPackage({
    reqset: 'reqsset3',
    target,
    key: name.distribution.toLowerCase(),
    version: name.version,
    wheel: { filename, name },
    dependencies: [],
    compiledAgainst: [],
    bundledLibraries: [],
  });
}

const CASES: { name: string; plan: PackagePlan; payload: Payload }[] = [
  { name: 'pure-wheel-xz', plan: wheelPlan('textfmt-1.0.0-py3-none-any.whl'), payload: SMALL_PAYLOAD.deb },
  { name: 'compiled-wheel-zstd', plan: wheelPlan('tinyvec-1.0.0-cp311-cp311-linux_x86_64.whl'), payload: ZSTD },
  { name: 'runtime-zstd', plan: planRuntimePackage('reqsset3', target, '0.1.0'), payload: ZSTD },
];

describe('lintian overrides golden files', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const text = lintianOverrides(c.plan, c.payload);
      assert.ok(text, `${c.name}: has overrides`);
      const file = path.join(GOLDEN, c.name);
      if (process.env.UPDATE_GOLDEN) {
        await mkdir(GOLDEN, { recursive: true });
        await writeFile(file, text);
      }
      assert.equal(text, await readFile(file, 'utf8'), `${c.name}: differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`);
    });
  }
});

describe('lintian overrides', () => {
  it('every override names the package and follows its reason', () => {
    for (const c of CASES) {
      const lines = (lintianOverrides(c.plan, c.payload) ?? '').trimEnd().split('\n');
      assert.equal(lines.length % 2, 0, c.name);
      for (let i = 0; i < lines.length; i += 2) {
        assert.match(lines[i] ?? '', /^# \S.{20,}$/, `${c.name}: a reason before ${lines[i + 1]}`);
        assert.match(lines[i + 1] ?? '', new RegExp(`^${c.plan.name}: [a-z0-9-]+$`), c.name);
      }
    }
  });

  it('a package without /opt files, not compiled, with an xz payload has none', () => {
    const plan = { ...planRuntimePackage('reqsset3', target, '0.1.0'), contents: ['/usr/lib/reqsset3'], ownedDirs: [] };
    assert.equal(lintianOverrides(plan, SMALL_PAYLOAD.deb), undefined);
  });

  it('is installed where lintian reads it', () => {
    assert.equal(lintianOverridesPath('reqsset3-runtime'), '/usr/share/lintian/overrides/reqsset3-runtime');
  });
});
