/**
 * Who makes the packages: packaging/vendor.yml and an endpoint spec's own
 * maintainer and vendor, checked for the fields they end up in (Debian's
 * Maintainer, RPM's Packager and Vendor tags), and the RPM tags they give.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { rpmSpec } from '../../src/packagers/rpm/spec.ts';
import { maintainerProblem, vendorProblem } from '../../src/specs/grammar.ts';
import { parseSpec } from '../../src/specs/spec.ts';
import { defaultMaintainer, parsePackagedBy } from '../../src/specs/vendor.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { planPinsPackage } from '../../src/packagers/plan.ts';
import { parseTarget } from '../../src/targets/target.ts';

const TARGET_FILE = path.resolve(import.meta.dirname, '..', '..', 'packaging', 'targets', 'el9-py311.yml');

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    return error.problems;
  }
  assert.fail('accepted');
}

describe('maintainer and vendor values', () => {
  it('a maintainer is "Full Name <address>" on one line, without a comma', () => {
    for (const good of ['Ops Team <ops@example.com>', 'Zoë Ops <zoe+pkg@ops.example.org>', 'J. Doe (Ops) <j@example.com>']) assert.equal(maintainerProblem(good), undefined, good);
    for (const bad of ['ops@example.com', '<ops@example.com>', 'Ops Team', 'Ops Team <ops>', 'Ops Team <ops@example.com> extra', 'Doe, Jane <j@example.com>', 'Ops\n<ops@example.com>', 'Ops <a@b> <c@d>']) {
      assert.ok(maintainerProblem(bad), bad);
    }
  });
  it('a vendor is one line of text', () => {
    assert.equal(vendorProblem('Example Corp, 100% owned'), undefined);
    assert.ok(vendorProblem('Example\nCorp'));
    assert.ok(vendorProblem('  '));
  });
});

describe('packaging/vendor.yml', () => {
  it('no file or an empty one: reqset\'s placeholder maintainer, no vendor', () => {
    assert.deepEqual(parsePackagedBy('', 'demo'), { maintainer: defaultMaintainer('demo') });
    assert.equal(defaultMaintainer('demo'), 'reqset <reqset@demo.invalid>');
  });
  it('reads both fields', () => {
    assert.deepEqual(parsePackagedBy('maintainer: Ops Team <ops@example.com>\nvendor: Example Corp\n', 'demo'), { maintainer: 'Ops Team <ops@example.com>', vendor: 'Example Corp' });
  });
  it('reports every problem at once, with file, line and field', () => {
    assert.deepEqual(problemsOf(() => parsePackagedBy('# who we are\nmaintainer: ops@example.com\nvendr: Example Corp\n', 'demo')), [
      'packaging/vendor.yml:2: maintainer: "ops@example.com" is not a name and an address: write "Full Name <address@example.com>"',
      'packaging/vendor.yml:3: vendr: unknown field: the fields here are maintainer, vendor',
    ]);
  });
});

describe('an endpoint spec\'s own maintainer and vendor', () => {
  const spec = 'name: orbit\nreqset: orbit\ndistribution: orbit-report\nsummary: Orbital report tool\n';
  it('are read and checked like vendor.yml\'s', () => {
    const parsed = parseSpec(`${spec}maintainer: Orbit Team <orbit@example.com>\nvendor: Example Corp\n`, 'specs/orbit.yml');
    assert.deepEqual([parsed.maintainer, parsed.vendor], ['Orbit Team <orbit@example.com>', 'Example Corp']);
    assert.deepEqual(problemsOf(() => parseSpec(`${spec}maintainer: "Orbit, Team <orbit@example.com>"\n`, 'specs/orbit.yml')), [
      'specs/orbit.yml:5: maintainer: "Orbit, Team <orbit@example.com>" has a ",", which separates maintainers in Debian\'s fields: write "Full Name <address@example.com>" without one',
    ]);
  });
});

describe('the RPM tags', () => {
  const options = { root: '/tmp/reqset-stage/root', epoch: 1700000000, packager: 'Ops Team <ops@example.com>' };
  it('Packager always; Vendor only when named, with "%" kept from macro expansion', async () => {
    const plan = planPinsPackage('demo', parseTarget(await readFile(TARGET_FILE, 'utf8'), TARGET_FILE), []);
    const tags = (text: string) => text.split('\n').filter((l) => /^(Packager|Vendor):/.test(l));
    assert.deepEqual(tags(rpmSpec(plan, options)), ['Packager: Ops Team <ops@example.com>']);
    assert.deepEqual(tags(rpmSpec(plan, { ...options, vendor: 'Example 100% Corp' })), ['Packager: Ops Team <ops@example.com>', 'Vendor: Example 100%% Corp']);
  });
});
