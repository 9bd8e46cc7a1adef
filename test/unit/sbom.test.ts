/**
 * The CycloneDX SBOM renderer on a small hand-made build: golden files for RPM
 * and DEB (`UPDATE_GOLDEN=1 node --import tsx --test test/unit/sbom.test.ts`
 * rewrites them), the CycloneDX 1.6 JSON schema (the CycloneDX library's
 * strict validator), purls as packageurl-js reads them, the graph's references,
 * and a content-derived serial number.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { renderSbom, type SbomInput } from '../../src/packagers/sbom.ts';

const GOLDEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'sbom');
const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

/** Schema errors of a BOM text (null: valid). The schema takes any specVersion string, so it is checked here. */
async function schemaErrors(text: string): Promise<unknown> {
  const specVersion = (JSON.parse(text) as { specVersion: unknown }).specVersion;
  if (specVersion !== '1.6') return `specVersion ${JSON.stringify(specVersion)}, not 1.6`;
  return validator.validate(text);
}

const SDIST_URL = 'https://files.example.org/packages/source/c/cffi-like/cffi_like-1.2.0.tar.gz';

function smallBuild(format: 'rpm' | 'deb'): SbomInput {
  const rpm = format === 'rpm';
  const arch = rpm ? 'x86_64' : 'amd64';
  const noarch = rpm ? 'noarch' : 'all';
  const file = (name: string, version: string, a: string) => (rpm ? `${name}-${version.replace(/^\d+:/, '')}.${a}.rpm` : `${name}_${version.replace(/^\d+:/, '')}_${a}.deb`);
  const pkg = (role: 'pins' | 'wheel' | 'endpoint', name: string, version: string, epoch: number, a: string, requires: string[], wheel?: string) => ({
    role,
    name,
    built: { version, epoch, file: file(name, version, a), sha256: `${name.length.toString(16)}`.padStart(64, 'a') },
    ...(wheel ? { wheel } : {}),
    requires,
  });
  return {
    reqset: 'demo',
    target: { name: rpm ? 'el9-py311' : 'debian12', format, distribution: rpm ? 'el9' : 'bookworm' },
    toolVersion: '0.1.0',
    epoch: 1700000000,
    wheels: [
      {
        key: 'six',
        name: 'six',
        version: '1.16.0',
        filename: 'six-1.16.0-py2.py3-none-any.whl',
        sha256: '1'.repeat(64),
        built: false,
        artifact: { from: 'https://files.example.org/packages/six-1.16.0-py2.py3-none-any.whl', sha256: '1'.repeat(64), hashChecked: true },
        buildRequirements: [],
        unpinnedBuildRequirements: [],
        requires: [],
        license: 'MIT',
        homePage: 'https://github.com/benjaminp/six',
      },
      {
        key: 'my-app',
        name: 'My_App',
        version: '2.0+local.1',
        filename: 'My_App-2.0+local.1-py3-none-any.whl',
        sha256: '2'.repeat(64),
        built: false,
        artifact: { from: 'wheels/My_App-2.0+local.1-py3-none-any.whl', sha256: '2'.repeat(64), hashChecked: false },
        buildRequirements: [],
        unpinnedBuildRequirements: [],
        requires: ['cffi-like', 'six'],
      },
      {
        key: 'cffi-like',
        name: 'cffi-like',
        version: '1.2.0',
        filename: 'cffi_like-1.2.0-cp311-cp311-linux_x86_64.whl',
        sha256: '3'.repeat(64),
        built: true,
        artifact: { from: SDIST_URL, sha256: '4'.repeat(64), hashChecked: true },
        buildRequirements: ['setuptools==68.0.0'],
        unpinnedBuildRequirements: ['wheel==0.41.0'],
        requires: [],
        license: 'MIT OR Apache-2.0',
      },
    ],
    packages: [
      { role: 'runtime', name: 'demo-runtime', requires: [] },
      pkg('pins', 'demo-pins', `1.0-1`, 0, noarch, ['demo-runtime', 'demo-wheel-cffi-like', 'demo-wheel-my-app', 'demo-wheel-six']),
      pkg('wheel', 'demo-wheel-six', `1.16.0-1`, 0, noarch, ['demo-runtime'], 'six'),
      pkg('wheel', 'demo-wheel-my-app', `1:2.0+local.1-1`, 1, noarch, ['demo-runtime', 'demo-wheel-cffi-like', 'demo-wheel-six'], 'my-app'),
      pkg('wheel', 'demo-wheel-cffi-like', `1.2.0-1`, 0, arch, ['demo-runtime'], 'cffi-like'),
      pkg('endpoint', 'demo-app', `2.0+local.1-1`, 0, noarch, ['demo-runtime', 'demo-wheel-cffi-like', 'demo-wheel-my-app', 'demo-wheel-six']),
    ],
  };
}

interface Bom {
  serialNumber: string;
  components: {
    'bom-ref': string;
    name: string;
    version?: string;
    purl: string;
    pedigree?: { ancestors: { purl: string }[] };
    externalReferences?: { type: string; url: string }[];
    properties?: { name: string; value: string }[];
  }[];
  dependencies: { ref: string; dependsOn: string[] }[];
  metadata: { component: { 'bom-ref': string } };
}

/** A component's purl, as packageurl-js reads it, names its wheel or package (the runtime package without a version). */
function checkPurl(input: SbomInput, c: Bom['components'][number]) {
  const parsed = PackageURL.fromString(c.purl);
  if (parsed.type === 'pypi') {
    const wheel = input.wheels.find((w) => w.name === c.name);
    assert.ok(wheel, c.purl);
    assert.deepEqual([parsed.name, parsed.version, parsed.qualifiers?.file_name], [wheel.key, wheel.version, wheel.filename]);
    return;
  }
  const pkg = input.packages.find((p) => p.name === c.name);
  assert.ok(pkg, c.purl);
  const format = input.target.format;
  assert.deepEqual([parsed.type, parsed.namespace, parsed.name, parsed.qualifiers?.distro], [format, 'demo', pkg.name, input.target.distribution]);
  if (!pkg.built) return assert.equal(parsed.version, undefined, 'the runtime package carries the SBOM: no version');
  const fileArch = format === 'rpm' ? pkg.built.file.split('.').at(-2) : pkg.built.file.slice(0, -4).split('_').at(-1);
  assert.equal(parsed.qualifiers?.arch, fileArch);
  if (format === 'deb') assert.equal(parsed.version, pkg.built.version);
  else assert.deepEqual([`${pkg.built.epoch ? `${pkg.built.epoch}:` : ''}${parsed.version}`, parsed.qualifiers?.epoch], [pkg.built.version, pkg.built.epoch ? String(pkg.built.epoch) : undefined]);
}

describe('renderSbom', () => {
  for (const format of ['rpm', 'deb'] as const) {
    it(`${format}: the golden file, valid CycloneDX 1.6`, async () => {
      const text = renderSbom(smallBuild(format));
      const file = path.join(GOLDEN, `small-${format}.cdx.json`);
      if (process.env.UPDATE_GOLDEN === '1') {
        await mkdir(GOLDEN, { recursive: true });
        await writeFile(file, text);
      }
      const expected = await readFile(file, 'utf8').catch(() => {
        throw new Error(`${file} is missing: run with UPDATE_GOLDEN=1 to create it`);
      });
      assert.equal(text, expected, `differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`);
      assert.equal(await schemaErrors(text), null);
    });

    it(`${format}: every purl reads back as what it names; every graph reference is a component`, () => {
      const input = smallBuild(format);
      const bom = JSON.parse(renderSbom(input)) as Bom;
      for (const c of bom.components) checkPurl(input, c);
      const refs = new Set([bom.metadata.component['bom-ref'], ...bom.components.map((c) => c['bom-ref'])]);
      for (const d of bom.dependencies) for (const ref of [d.ref, ...d.dependsOn]) assert.ok(refs.has(ref), `${ref} is no component`);
      assert.equal(bom.dependencies.length, refs.size, 'every component has its (maybe empty) list of dependencies');
    });
  }

  it('the built wheel names its sdist, its hash and its build requirements; the collected ones their origin', () => {
    const bom = JSON.parse(renderSbom(smallBuild('rpm'))) as Bom;
    const built = bom.components.find((c) => c.name === 'cffi-like');
    assert.equal(built?.pedigree?.ancestors[0]?.purl, 'pkg:pypi/cffi-like@1.2.0?file_name=cffi_like-1.2.0.tar.gz');
    assert.deepEqual(built?.properties?.filter((p) => p.name.startsWith('reqset:build-requirement')), [
      { name: 'reqset:build-requirement', value: 'setuptools==68.0.0' },
      { name: 'reqset:build-requirement:unpinned', value: 'wheel==0.41.0' },
    ]);
    const six = bom.components.find((c) => c.name === 'six');
    assert.deepEqual(six?.externalReferences?.map((r) => r.type).sort(), ['distribution', 'website']);
    const local = bom.components.find((c) => c.name === 'My_App');
    assert.ok(local?.properties?.some((p) => p.name === 'reqset:artifact:local-file' && p.value === 'wheels/My_App-2.0+local.1-py3-none-any.whl'));
  });

  it('the same build gives the same bytes; another build another serial number', () => {
    const input = smallBuild('deb');
    assert.equal(renderSbom(input), renderSbom(structuredClone(input)));
    const first = JSON.parse(renderSbom(input)) as Bom;
    const moved = { ...input, wheels: input.wheels.map((w) => (w.key === 'six' ? { ...w, version: '1.17.0' } : w)) };
    const second = JSON.parse(renderSbom(moved)) as Bom;
    assert.match(first.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(first.serialNumber, second.serialNumber);
  });

  it('names the workspace\'s vendor as the supplier, its maintainer as the contact; still valid CycloneDX 1.6', async () => {
    const supplier = { name: 'Example Corp', contact: [{ name: 'Ops Team', email: 'ops@example.com' }] };
    const text = renderSbom({ ...smallBuild('rpm'), supplier });
    assert.deepEqual((JSON.parse(text) as { metadata: { supplier: unknown } }).metadata.supplier, supplier);
    assert.equal(await schemaErrors(text), null);
    assert.equal('supplier' in (JSON.parse(renderSbom(smallBuild('rpm'))) as { metadata: object }).metadata, false, 'nobody named: no supplier');
  });

  it('the check fails a broken SBOM: another spec version, an unknown field, a bad hash, a missing bomFormat', async () => {
    const good = JSON.parse(renderSbom(smallBuild('rpm'))) as Record<string, unknown> & { components: Record<string, unknown>[] };
    const broken: Record<string, unknown>[] = [
      { ...good, specVersion: '1.5' },
      { ...good, components: [{ ...good.components[0], licence: 'MIT' }, ...good.components.slice(1)] },
      { ...good, components: [{ ...good.components[0], hashes: [{ alg: 'SHA-256', content: 'not hex' }] }, ...good.components.slice(1)] },
      Object.fromEntries(Object.entries(good).filter(([key]) => key !== 'bomFormat')),
    ];
    for (const bom of broken) assert.notEqual(await schemaErrors(JSON.stringify(bom)), null, JSON.stringify(bom).slice(0, 120));
  });
});
