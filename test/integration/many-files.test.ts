/**
 * A wheel of 20,000 small files through both packagers (issue 10: such a
 * package took 38 s; most of it went to copying the staged tree and hashing
 * it one file at a time). The wheel is made here with python3's zipfile and
 * unpacked where the pipeline puts it; each Packager.build must finish
 * within a generous bound (the machine is shared) and its package must list
 * every file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sha256File } from '../../src/fsutil.ts';
import { DebPackager } from '../../src/packagers/deb/index.ts';
import type { Packager, PackagePlan } from '../../src/packagers/packager.ts';
import { planWheelPackage } from '../../src/packagers/plan.ts';
import { RpmPackager } from '../../src/packagers/rpm/index.ts';
import { wheelFilenameOrThrow } from '../../src/python/tags.ts';
import { run } from '../../src/run.ts';
import { parseTarget, type Target } from '../../src/targets/target.ts';
import { REPO_ROOT } from '../helpers/env.ts';

const FILES = 20_000;
const WHEEL = 'manyfiles-1.0-py3-none-any.whl';
const REQSET = 'many';
const EPOCH = 1700000000;
/** Seconds for one Packager.build; generous: the machine may be shared. */
const BOUND_SECONDS = 150;

/** Writes the wheel (FILES modules, METADATA, WHEEL, RECORD) and unpacks it into `tree`; prints the member names. */
const MAKE_WHEEL = `
import base64, hashlib, os, sys, zipfile
wheel, tree, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
members = {'manyfiles/d%d/m%d.py' % (i % 40, i): b'x = %d\\n' % i for i in range(count)}
info = 'manyfiles-1.0.dist-info/'
members[info + 'METADATA'] = b'Metadata-Version: 2.1\\nName: manyfiles\\nVersion: 1.0\\n'
members[info + 'WHEEL'] = b'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'
def digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
record = ''.join('%s,sha256=%s,%d\\n' % (name, digest(data), len(data)) for name, data in members.items())
members[info + 'RECORD'] = (record + info + 'RECORD,,\\n').encode()
with zipfile.ZipFile(wheel, 'w', zipfile.ZIP_DEFLATED) as z:
    for name, data in members.items():
        z.writestr(name, data)
with zipfile.ZipFile(wheel) as z:
    z.extractall(tree)
sys.stdout.write('\\n'.join(sorted(members)))
`;

let scratch: string;
let root: string;
let members: string[];

async function loadTarget(name: string): Promise<Target> {
  const file = path.join(REPO_ROOT, 'packaging', 'targets', `${name}.yml`);
  return parseTarget(await readFile(file, 'utf8'), file);
}

async function planFor(targetName: string): Promise<{ plan: PackagePlan; target: Target }> {
  const target = await loadTarget(targetName);
  const plan = planWheelPackage({
    reqset: REQSET,
    target,
    key: 'manyfiles',
    version: '1.0',
    wheel: { filename: WHEEL, name: wheelFilenameOrThrow(WHEEL) },
    summary: 'Twenty thousand modules',
    dependencies: [],
    compiledAgainst: [],
    bundledLibraries: [],
  });
  return { plan, target };
}

/** Packager.build on the shared staged tree, timed; the package file. */
async function timedBuild(packager: Packager, targetName: string, label: string): Promise<{ file: string; plan: PackagePlan; seconds: number }> {
  const { plan, target } = await planFor(targetName);
  const dir = path.join(scratch, label);
  const started = performance.now();
  const built = await packager.build(plan, root, { epoch: EPOCH, outDir: path.join(dir, 'out'), workDir: path.join(dir, 'work'), maintainer: 'reqset tests <tests@example.invalid>', payload: target.payload });
  return { file: built.path, plan, seconds: (performance.now() - started) / 1000 };
}

/** The tree's directories (the tree itself included) and files, as target paths. */
function expectedPaths(tree: string): { dirs: string[]; files: string[] } {
  const dirs = new Set([tree]);
  for (const member of members) {
    const parts = member.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${tree}/${parts.slice(0, i).join('/')}`);
  }
  return { dirs: [...dirs].sort(), files: members.map((m) => `${tree}/${m}`).sort() };
}

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'reqset-many-'));
  root = path.join(scratch, 'root');
  const { plan } = await planFor('el9-py311');
  const tree = path.join(root, plan.contents[0] as string);
  await mkdir(tree, { recursive: true });
  const made = await run(['python3', '-c', MAKE_WHEEL, path.join(scratch, WHEEL), tree, String(FILES)]);
  members = made.stdout.split('\n');
});
after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe(`a wheel of ${FILES} files`, () => {
  it('has its files in the staged tree', () => {
    assert.equal(members.length, FILES + 3);
  });

  it(`becomes an .rpm in under ${BOUND_SECONDS} s that lists every file`, async (t) => {
    const { file, plan, seconds } = await timedBuild(new RpmPackager(), 'el9-py311', 'rpm');
    t.diagnostic(`RpmPackager.build: ${seconds.toFixed(1)} s, sha256 ${await sha256File(file)}`);
    assert.ok(seconds < BOUND_SECONDS, `${seconds.toFixed(1)} s`);
    const listed = (await run(['rpm', '-qlp', '--nosignature', file])).stdout.split('\n').filter((l) => l);
    const { dirs, files } = expectedPaths(plan.contents[0] as string);
    assert.deepEqual(listed.sort(), [...dirs, ...files, ...plan.ghostFiles].sort());
  });

  it(`becomes a .deb in under ${BOUND_SECONDS} s that lists every file`, async (t) => {
    const { file, plan, seconds } = await timedBuild(new DebPackager(), 'debian12', 'deb');
    t.diagnostic(`DebPackager.build: ${seconds.toFixed(1)} s, sha256 ${await sha256File(file)}`);
    assert.ok(seconds < BOUND_SECONDS, `${seconds.toFixed(1)} s`);
    const lines = (await run(['dpkg-deb', '-c', file])).stdout.split('\n').filter((l) => l);
    // `-rw-r--r-- root/root 9 2023-11-14 22:13 ./opt/many/...`: regular files only.
    const listed = lines.filter((l) => l.startsWith('-')).map((l) => l.slice(l.indexOf(' ./') + 2));
    // Besides the wheel: the changelog, the copyright file and the lintian overrides every .deb carries.
    const extras = [`/usr/share/doc/${plan.name}/changelog.Debian.gz`, `/usr/share/doc/${plan.name}/copyright`, `/usr/share/lintian/overrides/${plan.name}`];
    assert.deepEqual(listed.sort(), [...expectedPaths(plan.contents[0] as string).files, ...extras].sort());
    const md5sums = (await run(['dpkg-deb', '--info', file, 'md5sums'])).stdout.split('\n').filter((l) => l);
    assert.equal(md5sums.length, members.length + extras.length, 'an md5sum for every file');
  });
});
