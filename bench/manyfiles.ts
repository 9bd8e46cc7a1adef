/**
 * A pure wheel of 20,000 small files (issue 10: 38 s to package), made the
 * same way on every run: a whole cold `reqset build` per target, best of 3,
 * against the work that cannot be avoided (`unzip` of the wheel, then
 * `tar | zstd -3` of the tree), and each step of a wheel package timed on
 * its own: validation (the wheels stage), extraction (the packages stage opens
 * the wheel against the sha256 validated), the runtime helper's rebuild check,
 * the package tool, and both of these at once, as a build with a spare job
 * runs them. MANYFILES_TARGETS (comma separated, default
 * `el9-py311,debian12`) measures fewer targets.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { sha256File } from '../src/fsutil.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DebPackager } from '../src/packagers/deb/index.ts';
import { planWheelPackage, wheelPayloadPath } from '../src/packagers/plan.ts';
import type { Packager } from '../src/packagers/packager.ts';
import { RpmPackager } from '../src/packagers/rpm/index.ts';
import { wheelFilenameOrThrow } from '../src/python/tags.ts';
import { run } from '../src/run.ts';
import { RUNTIME_SOURCE_DIR } from '../src/runtime/zipapp.ts';
import { parseTarget, TOOL_ROOT, type Target } from '../src/targets/target.ts';
import { extractWheel } from '../src/wheels/extract.ts';
import { openWheel } from '../src/wheels/source.ts';
import type { Row } from './table.ts';

export const MANY_FILES = 20_000;
const DIRECTORIES = 40;
const RUNS = 3;
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'reqset.js');
const EPOCH = 1700000000;
const REQSET = 'manyfiles';
const PACKAGERS: Record<string, () => Packager> = { 'el9-py311': () => new RpmPackager(), debian12: () => new DebPackager() };
const TARGETS = (process.env.MANYFILES_TARGETS ?? 'el9-py311,debian12').split(',').map((t) => t.trim()).filter(Boolean);

/**
 * Writes the wheel (MANY_FILES one-line modules in DIRECTORIES packages, every
 * 97th executable, one fixed time) with Python's zipfile, as real wheels are
 * made: the runtime helper rebuilds it byte for byte.
 */
const MAKE_WHEEL = `
import base64, hashlib, os, sys, zipfile
out, count, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
members = [('manyfiles/d%d/m%d.py' % (i % dirs, i), b'value = %d\\n' % i, i % 97 == 0) for i in range(count)]
info = 'manyfiles-1.0.dist-info/'
members.append((info + 'METADATA', b'Metadata-Version: 2.1\\nName: manyfiles\\nVersion: 1.0\\n', False))
members.append((info + 'WHEEL', b'Wheel-Version: 1.0\\nGenerator: bench\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n', False))
def digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
record = ''.join('%s,sha256=%s,%d\\n' % (name, digest(data), len(data)) for name, data, _ in members)
members.append((info + 'RECORD', (record + info + 'RECORD,,\\n').encode(), False))
path = os.path.join(out, 'manyfiles-1.0-py3-none-any.whl')
with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
    for name, data, executable in members:
        member = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
        member.external_attr = (0o100755 if executable else 0o100644) << 16
        z.writestr(member, data, zipfile.ZIP_DEFLATED)
print(path)
`;

/** The many-files wheel in `dir`; its path. */
export async function manyFilesWheel(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return (await run(['python3', '-c', MAKE_WHEEL, dir, String(MANY_FILES), String(DIRECTORIES)])).stdout.trim();
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function best(work: (run: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await seconds(() => work(i)));
  return Math.min(...times);
}

async function loadTarget(name: string): Promise<Target> {
  const file = path.join(TOOL_ROOT, 'packaging', 'targets', `${name}.yml`);
  return parseTarget(await readFile(file, 'utf8'), file);
}

/** The steps of one wheel package, each timed on its own (best of RUNS): what a build spends where. */
async function stepTimes(scratch: string, wheel: string, targetName: string, packager: Packager): Promise<Record<string, number>> {
  const target = await loadTarget(targetName);
  const filename = path.basename(wheel);
  const plan = planWheelPackage({
    reqset: REQSET, target, key: 'manyfiles', version: '1.0', wheel: { filename, name: wheelFilenameOrThrow(filename) },
    summary: 'many files', dependencies: [], compiledAgainst: [], bundledLibraries: [],
  });
  const root = (i: number) => path.join(scratch, `${targetName}-${i}`, 'root');
  const payload = (i: number) => path.join(root(i), wheelPayloadPath(REQSET, filename, 'unpacked'));
  const validate = await best(async () => (await openWheel(wheel)).close());
  const validatedSha256 = await sha256File(wheel);
  const extract = await best(async (i) => {
    const source = await openWheel(wheel, { validatedSha256 });
    await extractWheel(source, payload(i), { mtime: new Date(EPOCH * 1000) });
    await source.close();
  });
  const rebuildCheck = (i: number, to: string) => run(['python3', RUNTIME_SOURCE_DIR, 'rebuild-wheel', payload(i), path.join(scratch, `${to}-${targetName}-${i}`)]);
  const rebuild = await best((i) => rebuildCheck(i, 'rebuilt'));
  const context = (i: number, to: string) => ({ epoch: EPOCH, outDir: path.join(scratch, `${to}-${targetName}-${i}`), workDir: path.join(scratch, `work-${to}-${targetName}-${i}`), maintainer: 'bench <bench@example.invalid>', payload: target.payload });
  const build = await best((i) => packager.build(plan, root(i), context(i, 'pkg')));
  const both = await best((i) => Promise.all([packager.build(plan, root(i), context(i, 'pkg-beside')), rebuildCheck(i, 'rebuilt-beside')]));
  return {
    'open and validate (wheels stage)': validate,
    'extract (open against the validated sha256, then write)': extract,
    'rebuild check (runtime helper)': rebuild,
    [`${packager.format} package tool (Packager.build)`]: build,
    'rebuild check beside the package tool': both,
  };
}

export async function manyFilesBench(): Promise<Row[]> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'reqset-bench-manyfiles-'));
  try {
    const wheels = path.join(scratch, 'wheels');
    const wheel = await manyFilesWheel(wheels);
    await mkdir(path.join(scratch, 'ws', 'reqsets'), { recursive: true });
    await writeFile(path.join(scratch, 'ws', 'reqsets', `${REQSET}.txt`), `--no-index\n--find-links ${wheels}\nmanyfiles==1.0\n`);
    const baseline = await best(async (i) => {
      const tree = path.join(scratch, `unzipped-${i}`);
      await run(['unzip', '-q', wheel, '-d', tree]);
      await run(['tar', '-C', tree, '-I', 'zstd -3 -T1', '-cf', `${tree}.tar.zst`, '.']);
    });
    const rows: Row[] = [];
    for (const target of TARGETS) {
      const packager = PACKAGERS[target]?.();
      if (!packager) throw new Error(`MANYFILES_TARGETS: ${target} is not one of ${Object.keys(PACKAGERS).join(', ')}`);
      const build = await best((i) => {
        const dir = path.join(scratch, `build-${target}-${i}`);
        return run(['node', BIN, 'build', REQSET, '--target', target, '--workspace', path.join(scratch, 'ws'), '--out', path.join(dir, 'out'), '--wheel-cache', path.join(dir, 'cache'), '--quiet']);
      });
      rows.push({ measure: `a wheel of ${MANY_FILES} small files: cold \`reqset build\` for ${target} (best of ${RUNS}) vs unzip + tar | zstd -3 of its tree`, value: `${build.toFixed(2)}s`, baseline: `${baseline.toFixed(2)}s`, ratio: build / baseline, goal: 'a few seconds' });
      for (const [step, time] of Object.entries(await stepTimes(scratch, wheel, target, packager))) {
        rows.push({ measure: `  ${target} step: ${step}, share of the build`, value: `${time.toFixed(2)}s`, baseline: `${build.toFixed(2)}s`, ratio: time / build });
      }
    }
    return rows;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
