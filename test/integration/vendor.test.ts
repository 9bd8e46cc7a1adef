/**
 * packaging/vendor.yml and an endpoint spec's own maintainer in real
 * packages: RPM's Packager and Vendor tags and %changelog author, Debian's
 * Maintainer field and changelog trailer, the SBOM's supplier; and a new
 * maintainer is a new input of every package (a new release on a
 * repository), never the old bytes from the package cache.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { run } from '../../src/run.ts';
import { makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';

const REQSET = 'vd';
const OPS = 'Ops Team <ops@example.com>';
const APP = 'App Team <app@example.com>';

describe('maintainer and vendor in the packages', () => {
  let ws: Workspace;
  const build = (target: string, out: string) => api.buildTarget(REQSET, target, { workspace: ws.dir, out: path.join(ws.dir, out), wheelCache: ws.cache, jobs: 2 });
  const fileOf = (result: api.BuildResult, name: string) => {
    const found = api.manifestPackages(result.manifest).find((p) => p.name === name);
    assert.ok(found, `${name} was built`);
    return path.join(result.outDir, found.path);
  };
  const writeVendor = (text: string) => writeFile(path.join(ws.dir, 'packaging', 'vendor.yml'), text);

  before(async () => {
    ws = await makeWorkspace();
    await ws.writeReqset(REQSET, `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    await mkdir(path.join(ws.dir, 'packaging'), { recursive: true });
    await mkdir(path.join(ws.dir, 'specs'), { recursive: true });
    await writeFile(
      path.join(ws.dir, 'specs', 'app.yml'),
      `name: app\nreqset: ${REQSET}\ndistribution: an_example_pypi_project\nsummary: The example application\nscripts: [an-example]\nmaintainer: ${APP}\n`,
    );
    await writeVendor(`maintainer: ${OPS}\nvendor: Example 100% Corp\n`);
  });
  after(() => ws?.cleanup());

  it('rpm: Packager and Vendor tags and the changelog author; the endpoint has its own maintainer; the SBOM names the supplier', async () => {
    const result = await build('el9-py311', 'out-rpm');
    const tags = async (name: string) => (await run(['rpm', '-qp', '--qf', '%{PACKAGER}|%{VENDOR}\\n', fileOf(result, name)])).stdout.trim();
    for (const name of [`${REQSET}-wheel-textfmt`, `${REQSET}-pins`, `${REQSET}-runtime`]) assert.equal(await tags(name), `${OPS}|Example 100% Corp`, name);
    assert.equal(await tags(`${REQSET}-app`), `${APP}|Example 100% Corp`);
    const changelog = (await run(['rpm', '-qp', '--changelog', fileOf(result, `${REQSET}-app`)], { env: { LC_ALL: 'C' } })).stdout;
    assert.match(changelog, /^\* \w{3} \w{3} \d\d \d{4} App Team <app@example\.com> - /);
    const sbom = JSON.parse(await readFile(path.join(result.outDir, 'sbom.cdx.json'), 'utf8')) as { metadata: { supplier?: unknown } };
    assert.deepEqual(sbom.metadata.supplier, { name: 'Example 100% Corp', contact: [{ name: 'Ops Team', email: 'ops@example.com' }] });
  });

  it('deb: the Maintainer field and the changelog trailer (Debian has no Vendor field)', async () => {
    const result = await build('debian12', 'out-deb');
    const field = async (name: string, f: string) => (await run(['dpkg-deb', '-f', fileOf(result, name), f])).stdout.trim();
    assert.equal(await field(`${REQSET}-wheel-textfmt`, 'Maintainer'), OPS);
    assert.equal(await field(`${REQSET}-app`, 'Maintainer'), APP);
    const deb = fileOf(result, `${REQSET}-wheel-textfmt`);
    const script = 'dpkg-deb --fsys-tarfile "$0" | tar -xOf - "./usr/share/doc/$1/changelog.Debian.gz" | gzip -dc';
    const changelog = (await run(['sh', '-c', script, deb, `${REQSET}-wheel-textfmt`])).stdout;
    assert.match(changelog, new RegExp(`^ -- ${OPS.replace(/[.+]/g, '\\$&')}  \\w{3}, `, 'm'));
  });

  it('a new maintainer changes every package\'s inputs: new bytes, not the cached ones', async () => {
    const first = await build('el9-py311', 'out-1');
    await writeVendor(`maintainer: New Team <new@example.com>\n`);
    const second = await build('el9-py311', 'out-2');
    const byName = new Map(api.manifestPackages(first.manifest).map((p) => [p.name, p]));
    for (const p of api.manifestPackages(second.manifest)) {
      const old = byName.get(p.name);
      assert.ok(old, p.name);
      assert.notEqual(p.inputs, old.inputs, `${p.name}: other inputs`);
      assert.equal(p.reused, false, `${p.name}: built again`);
      assert.equal(p.sources.maintainer, p.name === `${REQSET}-app` ? APP : 'New Team <new@example.com>', p.name);
    }
    const tags = (await run(['rpm', '-qp', '--qf', '%{PACKAGER}|%{VENDOR}\\n', fileOf(second, `${REQSET}-pins`)])).stdout.trim();
    assert.equal(tags, 'New Team <new@example.com>|(none)');
  });

  it('a bad vendor.yml is bad input before any wheel is built, naming file, line and field', async () => {
    await writeVendor('maintainer: ops@example.com\n');
    await assert.rejects(build('el9-py311', 'out-bad'), (error: Error & { problems?: string[] }) => {
      assert.equal(error.name, 'InputError');
      assert.deepEqual(error.problems, ['packaging/vendor.yml:1: maintainer: "ops@example.com" is not a name and an address: write "Full Name <address@example.com>"']);
      return true;
    });
  });
});
