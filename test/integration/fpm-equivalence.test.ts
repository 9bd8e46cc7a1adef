/**
 * The fpm backend against the native one: the bundled example reqset built
 * with both for el9-py311 and debian12, compared package by package (header
 * fields, relations, files with modes, owners, sizes, times and digests,
 * scriptlets), with the differences fpm brings listed once, in
 * ALLOWED_DIFFERENCES; then the fpm packages built again from scratch must
 * be the same bytes, and a missing fpm is one clear error.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as api from '../../src/api.ts';
import { ToolError } from '../../src/errors.ts';
import { sha256File } from '../../src/fsutil.ts';
import { run } from '../../src/run.ts';
import { makeWorkspace, reqsset3Pins, type Workspace } from '../helpers/workspace.ts';

const FPM_RUN = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'vendor', 'fpm-run');
if (!existsSync(FPM_RUN)) throw new Error(`test environment: ${FPM_RUN} (fpm 1.17.0 for the fpm backend's tests) is missing; it comes with ../shared/vendor`);

const TARGETS = ['el9-py311', 'debian12'] as const;

/**
 * Every difference between an fpm-built package and the native one that the
 * comparison accepts, and why it is harmless (the README's table says the
 * same). Each is applied to the fpm side's facts below, by its key.
 */
const ALLOWED_DIFFERENCES = {
  rpmUrl: 'rpm: fpm writes URL http://example.com/no-uri-given when the package has none (its --url default; an empty --url is replaced too): informational only',
  rpmGhostClass: "rpm: a %ghost's file class is `empty` (libmagic's word for fpm's empty placeholder) where rpmbuild, with no file, has none: the class only selects dependency generators (ELF only here) and colors (0 either way)",
  debChangelog:
    "deb: fpm writes the native changelog's text as /usr/share/doc/<name>/changelog.gz (it renames changelog.Debian.gz when there is no upstream changelog), gzipped by Ruby's zlib: the same text under the name of an upstream changelog (lintian: debian-changelog-file-missing-or-wrong-name)",
  sbomDigests: "the runtime package's SBOM names every other package with its SHA-256, and fpm's packages are other bytes: its digest is not compared (its size is)",
  debOwnerNames: 'deb: fpm\'s data.tar has owner 0/0 without the names (tar --numeric-owner), dpkg-deb\'s root/root: the same owner for dpkg',
  debMd5sumsOrder: 'deb: fpm writes md5sums in directory-walk order, dpkg-deb in path order: dpkg reads it as a set',
  debTarOrder: 'deb: dpkg-deb puts symbolic links after every other entry of data.tar, fpm\'s tar sorts by name: dpkg unpacks both the same',
  debMemberSizes: 'deb: the compressed members differ (GNU tar and the zstd program at zstd\'s default level 3 where dpkg-deb uses libzstd at level 3): the sizes in dpkg-deb --info are not compared',
} as const;

/** The `rpm -qp --qf` facts of one package, one string per aspect. */
async function rpmFacts(file: string): Promise<Record<string, string>> {
  const q = async (...args: string[]) => (await run(['rpm', '-qp', ...args, file], { env: { LC_ALL: 'C' } })).stdout;
  const url = (await q('--qf', '%{URL}')).trim();
  return {
    header: await q('--qf', '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SUMMARY}|%{LICENSE}|%{GROUP}|%{VENDOR}|%{PACKAGER}|%{BUILDHOST}|%{BUILDTIME}|%{PAYLOADCOMPRESSOR}|%{PAYLOADFLAGS}\n'),
    url: url === 'http://example.com/no-uri-given' ? '(none)' : url, // ALLOWED_DIFFERENCES.rpmUrl
    description: await q('--qf', '%{DESCRIPTION}'),
    requires: await q('--qf', '[%{REQUIREFLAGS:deptype} %{REQUIRENEVRS}\n]'),
    provides: await q('--provides'),
    // ALLOWED_DIFFERENCES.rpmGhostClass: the class after a ghost's flags, mode, owner, size, mtime, verify flags and colors.
    files: (await q('--qf', '[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:octal} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILESIZES} %{FILEMTIMES} %{FILEVERIFYFLAGS} %{FILECOLORS} %{FILECLASS} %{FILELINKTOS} %{FILEDIGESTS}\n]'))
      .replace(/^(\S+ g (?:\S+ ){6})empty(?= )/gm, '$1')
      .replace(/^(\S+\/sbom\.cdx\.json .*) [0-9a-f]{64}$/gm, '$1'), // ALLOWED_DIFFERENCES.sbomDigests
    scripts: await q('--scripts'),
    changelog: await q('--changelog'),
  };
}

/** A member of a .deb: `dpkg-deb --ctrl-tarfile` piped through tar. */
async function controlMember(file: string, name: string): Promise<string> {
  const result = await run(['sh', '-c', 'dpkg-deb --ctrl-tarfile "$0" | tar -xOf - "./$1" 2>/dev/null || true', file, name]);
  return result.stdout;
}

/** The changelog's text, whichever of its names it has (ALLOWED_DIFFERENCES.debChangelog). */
async function debChangelogText(file: string, changelogs: string[]): Promise<string> {
  const script = 'dpkg-deb --fsys-tarfile "$0" | tar -xOf - "$@" 2>/dev/null | gzip -dc';
  return (await run(['sh', '-c', script, file, ...changelogs], { allowFailure: true })).stdout;
}

/** The `dpkg-deb` facts of one package, the allowed differences normalised on both sides. */
async function debFacts(file: string, name: string): Promise<Record<string, string>> {
  const docDir = `./usr/share/doc/${name}/`;
  const changelogs = [`${docDir}changelog.gz`, `${docDir}changelog.Debian.gz`];
  const listing = (await run(['dpkg-deb', '-c', file])).stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(/\s+/))
    .filter((fields) => !changelogs.includes(fields[5] ?? '')) // ALLOWED_DIFFERENCES.debChangelog: its text is compared below
    .map(([mode, owner, size, date, time, entry]) => [mode, owner === '0/0' ? 'root/root' : owner, size, date, time, entry].join(' ')) // ALLOWED_DIFFERENCES.debOwnerNames
    .sort((a, b) => (a.split(' ')[5] as string).localeCompare(b.split(' ')[5] as string)); // ALLOWED_DIFFERENCES.debTarOrder
  const md5sums = (await controlMember(file, 'md5sums'))
    .split('\n')
    .filter((line) => line && !changelogs.some((c) => line.endsWith(`  ${c.slice(2)}`)))
    .map((line) => (line.endsWith('/sbom.cdx.json') ? line.replace(/^\S+/, '(sbom)') : line)) // ALLOWED_DIFFERENCES.sbomDigests
    .sort(); // ALLOWED_DIFFERENCES.debMd5sumsOrder
  const controlFiles = (await run(['sh', '-c', 'dpkg-deb --ctrl-tarfile "$0" | tar -tvf -', file])).stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(/\s+/))
    .map(([mode, , , , , entry]) => `${mode} ${entry}`)
    .sort();
  return {
    // The ar members and so their compression (ALLOWED_DIFFERENCES.debMemberSizes: not their sizes).
    members: (await run(['ar', 't', file])).stdout,
    control: (await run(['dpkg-deb', '-f', file])).stdout,
    changelog: await debChangelogText(file, changelogs),
    files: listing.join('\n'),
    md5sums: (md5sums.map((line) => line.replace(/^(\S+)  (.*)$/, '$2 $1')).sort().join('\n')),
    controlFiles: controlFiles.join('\n'),
    conffiles: await controlMember(file, 'conffiles'),
    postinst: await controlMember(file, 'postinst'),
    prerm: await controlMember(file, 'prerm'),
    postrm: await controlMember(file, 'postrm'),
  };
}

async function packages(out: string, target: string): Promise<string[]> {
  return (await readdir(path.join(out, 'ex', target, 'packages'))).sort();
}

describe('the fpm backend', () => {
  let ws: Workspace;
  const out = (label: string) => path.join(ws.dir, `out-${label}`);
  /** A build that packages everything again: the package cache moved aside first. */
  async function build(label: string, target: string, packager: api.PackagerBackend) {
    if (existsSync(path.join(ws.cache, 'packages'))) await rename(path.join(ws.cache, 'packages'), path.join(ws.dir, `packages-cache-before-${label}-${target}`));
    return api.buildTarget('ex', target, { workspace: ws.dir, out: out(label), wheelCache: ws.cache, jobs: 2, packager });
  }

  before(async () => {
    process.env.REQSET_FPM = FPM_RUN;
    ws = await makeWorkspace();
    await ws.writeReqset('ex', `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
    await mkdir(path.join(ws.dir, 'specs'));
    // A service and a configuration file: units, conffiles / %config(noreplace), modes and the service scriptlets through fpm.
    const service = 'services:\n  - name: ex-app\n    exec: [an-example, --port, "8080"]\n    user: exapp\nfiles:\n  - source: config/app.toml\n    dest: /etc/ex-app/app.toml\n    mode: "0640"\n';
    await writeFile(path.join(ws.dir, 'specs', 'app.yml'), `name: app\nreqset: ex\ndistribution: an_example_pypi_project\nsummary: Example\nscripts: [an-example]\n${service}`);
    await mkdir(path.join(ws.dir, 'config'));
    await writeFile(path.join(ws.dir, 'config', 'app.toml'), 'port = 8080\n');
    // A Vendor tag (and a "%" that rpm must not expand) through fpm's --vendor as natively.
    await mkdir(path.join(ws.dir, 'packaging'));
    await writeFile(path.join(ws.dir, 'packaging', 'vendor.yml'), 'maintainer: Ops Team <ops@example.com>\nvendor: Example 100% Corp\n');
    for (const target of TARGETS) {
      await build('native', target, 'native');
      await build('fpm', target, 'fpm');
    }
  });
  after(async () => {
    delete process.env.REQSET_FPM;
    await ws.cleanup();
  });

  for (const target of TARGETS) {
    it(`makes the same packages as the native backend for ${target}, but for ALLOWED_DIFFERENCES`, async () => {
      const names = await packages(out('native'), target);
      assert.equal(names.length, 9, 'runtime, pins, 6 wheel packages and the endpoint');
      assert.deepEqual(await packages(out('fpm'), target), names);
      for (const name of names) {
        const file = (label: string) => path.join(out(label), 'ex', target, 'packages', name);
        const packageName = name.split(/_|-\d/)[0] as string;
        const facts = (label: string) => (name.endsWith('.rpm') ? rpmFacts(file(label)) : debFacts(file(label), packageName));
        const [native, fpm] = [await facts('native'), await facts('fpm')];
        assert.match(native.changelog ?? '', /First build/, `${name}: the native package has its changelog entry`);
        for (const aspect of Object.keys(native)) assert.equal(fpm[aspect], native[aspect], `${name}: ${aspect} differs beyond ${Object.keys(ALLOWED_DIFFERENCES).join(', ')}`);
      }
    });
  }

  it('gives the same bytes when the fpm packages are built again', async () => {
    for (const target of TARGETS) {
      await build('fpm-again', target, 'fpm');
      for (const name of await packages(out('fpm'), target)) {
        const file = (label: string) => path.join(out(label), 'ex', target, 'packages', name);
        const facts = (label: string) => (name.endsWith('.rpm') ? rpmFacts(file(label)) : debFacts(file(label), name.split('_')[0] as string));
        const [first, again] = [await facts('fpm'), await facts('fpm-again')];
        assert.deepEqual(again, first, `${target} ${name}`);
        assert.equal(await sha256File(file('fpm-again')), await sha256File(file('fpm')), `${target} ${name}`);
      }
    }
  });

  it('names the missing fpm and how to install it', async () => {
    process.env.REQSET_FPM = path.join(ws.dir, 'missing', 'fpm');
    try {
      await assert.rejects(build('no-fpm', 'el9-py311', 'fpm'), (error: unknown) => {
        assert.ok(error instanceof ToolError, String(error));
        assert.match(error.message, /missing\/fpm: command not found/);
        assert.equal(error.message.split('\n').length, 1, error.message);
        return true;
      });
    } finally {
      process.env.REQSET_FPM = FPM_RUN;
    }
  });
});
