/**
 * The SBOM of `reqset build`, for an RPM and a DEB target of the example
 * reqset with an endpoint: valid CycloneDX 1.6 (the CycloneDX library's strict
 * validator), the same pins, wheels, packages and hashes as manifest.json, a
 * graph that matches the packages' requires, the same bytes in the runtime
 * package, and a rebuild with nothing changed keeps the runtime package.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import * as api from '../../src/api.ts';
import { run } from '../../src/run.ts';
import { makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';

const TARGETS = ['el9-py311', 'debian12'];
const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

interface Component {
  'bom-ref': string;
  name: string;
  version?: string;
  purl: string;
  hashes?: { alg: string; content: string }[];
  licenses?: { expression: string; acknowledgement: string }[];
  pedigree?: { ancestors: { hashes: { content: string }[] }[] };
}
interface Bom {
  specVersion: string;
  components: Component[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

/** The packages of the build a package's requires name: by name, or the pydist a wheel package provides. */
function requiredPackages(reqset: string, requires: string[], names: Set<string>): string[] {
  const pydist = new RegExp(`^${reqset}-pydist[-(]([a-z0-9.-]+?)\\)?$`);
  const found = requires.flatMap((r) => r.split('|')).map((alternative) => {
    const name = alternative.trim().split(/[\s(]/)[0] as string;
    const key = pydist.exec(alternative.trim().split(/\s/)[0] as string)?.[1];
    return key ? `${reqset}-wheel-${key}` : name;
  });
  return [...new Set(found.filter((n) => names.has(n)))].sort();
}

/** A file of a package, read with the format's own tools. */
async function packageMember(file: string, member: string): Promise<string> {
  const list = file.endsWith('.rpm') ? 'rpm2archive -n < "$1"' : 'dpkg-deb --fsys-tarfile "$1"';
  return (await run(['bash', '-c', `set -o pipefail; ${list} | tar -xOf - ".$2"`, 'extract', file, member])).stdout;
}

/** Every pin's wheel and every package of the manifest, with its version and hashes (the runtime package's left out). */
function checkAgainstManifest(manifest: api.Manifest, bom: Bom) {
  assert.equal(bom.components.length, manifest.pins.length + api.manifestPackages(manifest).length);
  for (const pin of manifest.pins) {
    const wheel = bom.components.find((c) => c.purl.startsWith('pkg:pypi/') && PackageURL.fromString(c.purl).qualifiers?.file_name === pin.wheel.file);
    assert.ok(wheel, pin.wheel.file);
    assert.deepEqual([wheel.name, wheel.version, wheel.hashes?.[0]?.content], [pin.name, pin.version, pin.wheel.sha256]);
    // Every example project and bootstrap wheel declares MIT (License-Expression or the classifier).
    assert.deepEqual(wheel.licenses, [{ expression: 'MIT', acknowledgement: 'declared' }], pin.name);
    const sdist = wheel.pedigree?.ancestors[0]?.hashes[0]?.content;
    assert.equal(sdist, pin.wheel.origin === 'collected' ? undefined : pin.wheel.artifact.sha256, `${pin.name}: ${pin.wheel.origin}, built from the sdist of the manifest`);
  }
  for (const pkg of api.manifestPackages(manifest)) {
    const component = bom.components.find((c) => c.name === pkg.name);
    assert.ok(component, pkg.name);
    const purl = PackageURL.fromString(component.purl);
    assert.deepEqual([purl.type, purl.namespace], [manifest.format, 'ex']);
    if (pkg === manifest.runtime) assert.deepEqual([component.version, purl.version, component.hashes], [undefined, undefined, undefined], 'the runtime package carries the SBOM');
    else assert.deepEqual([component.version, component.hashes?.[0]?.content], [pkg.version, pkg.sha256]);
  }
}

/** The graph: each package's requires within the set, the wheel it carries, each wheel's dependencies, the endpoint's closure. */
function checkGraph(manifest: api.Manifest, bom: Bom) {
  const nameOf = new Map(bom.components.map((c) => [c['bom-ref'], c.name]));
  const edges = new Map(bom.dependencies.map((d) => [nameOf.get(d.ref), d.dependsOn.map((ref) => nameOf.get(ref) as string)]));
  const packages = api.manifestPackages(manifest);
  const names = new Set(packages.map((p) => p.name));
  for (const pkg of packages) {
    const dependsOn = (edges.get(pkg.name) ?? []).filter((n) => names.has(n)).sort();
    assert.deepEqual(dependsOn, requiredPackages('ex', pkg.requires, names), `${pkg.name}: ${pkg.requires.join(', ')}`);
  }
  for (const pin of manifest.pins) {
    assert.ok(edges.get(pin.package.name)?.includes(pin.name), `${pin.package.name} carries ${pin.name}`);
    // tinystats is compiled against tinyvec, which it requires anyway: every pydist require here is a Requires-Dist.
    const wheelEdges = (edges.get(pin.name) ?? []).map((n) => `ex-wheel-${n.toLowerCase().replace(/[-_.]+/g, '-')}`).sort();
    assert.deepEqual(wheelEdges, requiredPackages('ex', pin.package.requires, names).filter((n) => n !== manifest.runtime.name), pin.name);
  }
  for (const endpoint of manifest.endpoints) {
    const closure = endpoint.closure.map((key) => `ex-wheel-${key}`);
    assert.deepEqual(edges.get(endpoint.package.name)?.sort(), [manifest.runtime.name, ...closure].sort());
  }
}

describe('the SBOM of reqset build', () => {
  let ws: Workspace;
  const builds = new Map<string, api.BuildResult>();
  before(async () => {
    ws = await makeWorkspace();
    await ws.writeReqset('ex', `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    await mkdir(path.join(ws.dir, 'specs'));
    await writeFile(path.join(ws.dir, 'specs', 'app.yml'), 'name: app\nreqset: ex\ndistribution: an_example_pypi_project\nsummary: Example\nscripts: [an-example]\n');
    for (const target of TARGETS) builds.set(target, await api.buildTarget('ex', target, { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2 }));
  });
  after(() => ws.cleanup());

  const sbomOf = async (target: string) => readFile(path.join(builds.get(target)?.outDir as string, 'sbom.cdx.json'), 'utf8');

  for (const target of TARGETS) {
    it(`${target}: valid CycloneDX 1.6, installed by the runtime package`, async () => {
      const text = await sbomOf(target);
      assert.equal((JSON.parse(text) as Bom).specVersion, '1.6');
      assert.equal(await validator.validate(text), null);
      const { manifest, outDir } = builds.get(target) as api.BuildResult;
      assert.equal(await packageMember(path.join(outDir, manifest.runtime.path), '/opt/ex/runtime/sbom.cdx.json'), text);
    });

    it(`${target}: every wheel and package of manifest.json, with its version and hashes`, async () => {
      checkAgainstManifest((builds.get(target) as api.BuildResult).manifest, JSON.parse(await sbomOf(target)) as Bom);
    });

    it(`${target}: the graph is the packages' requires, the wheel each package carries and the endpoint's closure`, async () => {
      checkGraph((builds.get(target) as api.BuildResult).manifest, JSON.parse(await sbomOf(target)) as Bom);
    });
  }

  it('a rebuild with nothing changed keeps the SBOM and the runtime package; another release changes both', async () => {
    const again = await api.buildTarget('ex', 'debian12', { workspace: ws.dir, out: path.join(ws.dir, 'out-again'), wheelCache: ws.cache, jobs: 2 });
    const first = builds.get('debian12') as api.BuildResult;
    assert.equal(await readFile(path.join(again.outDir, 'sbom.cdx.json'), 'utf8'), await sbomOf('debian12'));
    assert.deepEqual([again.manifest.runtime.version, again.manifest.runtime.sha256], [first.manifest.runtime.version, first.manifest.runtime.sha256]);
    const released = await api.buildTarget('ex', 'debian12', { workspace: ws.dir, out: path.join(ws.dir, 'out-release'), wheelCache: ws.cache, jobs: 2, release: '2' });
    assert.notEqual(await readFile(path.join(released.outDir, 'sbom.cdx.json'), 'utf8'), await sbomOf('debian12'));
    assert.notEqual(released.manifest.runtime.inputs, first.manifest.runtime.inputs, 'the runtime package ships the new SBOM');
  });
});
