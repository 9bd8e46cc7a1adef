/**
 * Fixtures for the runtime helper (src/runtime/reqset_runtime, as its zipapp): wheels of
 * several shapes, and unpacked wheel trees with their .reqset-wheel.json, made
 * here independently of the packagers' own unpacking code.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../src/run.ts';
import { RUNTIME_ZIPAPP_NAME, writeRuntimeZipapp } from '../../src/runtime/zipapp.ts';
import { REPO_ROOT, buildWheels, infoZip, targetPythons } from './env.ts';

export { REPO_ROOT };

const zipappDir = await mkdtemp(path.join(tmpdir(), 'reqset-test-zipapp-'));
process.on('exit', () => rmSync(zipappDir, { recursive: true, force: true }));
/** The helper as packages ship it: the zipapp, built once per test process. */
export const RUNTIME_HELPER = await writeRuntimeZipapp(path.join(zipappDir, RUNTIME_ZIPAPP_NAME));

/** Interpreters the helper must run on (el8's 3.6 up to 3.13). */
export const TARGET_PYTHONS: Record<string, string> = targetPythons();

export async function makeTempDir(prefix = 'reqset-runtime-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** One JSON line, as every helper subcommand prints on success. */
export function parseJsonLine<T>(stdout: string): T {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected one JSON line, got:\n${stdout}`);
  return JSON.parse(lines[0] as string) as T;
}

/**
 * Unpacks a wheel into `tree` and writes `tree/.reqset-wheel.json` (format 1).
 * The central directory is parsed by hand so that central and local extra
 * fields, flags and versions are taken from the archive's own bytes.
 * `internalAttr` also records each member's internal attributes (an optional
 * key the helper reads; Info-ZIP sets its "text" bit).
 */
const UNPACK_SCRIPT = String.raw`
import hashlib, json, os, struct, sys, zipfile
whl, tree, with_internal = sys.argv[1], sys.argv[2], sys.argv[3] == '1'
with open(whl, 'rb') as f:
    data = f.read()
eocd = data.rfind(b'PK\x05\x06')
count, cd_size, cd_offset, clen = struct.unpack_from('<HIIH', data, eocd + 10)
comment = data[eocd + 22:eocd + 22 + clen]
if count == 0xFFFF or cd_offset == 0xFFFFFFFF:
    locator = data.rfind(b'PK\x06\x07', 0, eocd)
    z64 = struct.unpack_from('<Q', data, locator + 8)[0]
    count, cd_size, cd_offset = struct.unpack_from('<QQQ', data, z64 + 32)
archive = zipfile.ZipFile(whl)
infos = archive.infolist()
assert len(infos) == count, 'entry count'
os.makedirs(tree, exist_ok=True)
members = []
pos = cd_offset
for info in infos:
    (sig, made_by, needed, flags, method, t, d, crc, cs, us, nlen, elen, mlen, disk, internal, attr,
     offset) = struct.unpack_from('<IHHHHHHIIIHHHHHII', data, pos)
    assert sig == 0x02014b50, 'central directory signature'
    raw_name = data[pos + 46:pos + 46 + nlen]
    extra = data[pos + 46 + nlen:pos + 46 + nlen + elen]
    member_comment = data[pos + 46 + nlen + elen:pos + 46 + nlen + elen + mlen]
    pos += 46 + nlen + elen + mlen
    lnlen, lelen = struct.unpack_from('<HH', data, info.header_offset + 26)
    local_extra = data[info.header_offset + 30 + lnlen:info.header_offset + 30 + lnlen + lelen]
    name = raw_name.decode('utf-8' if flags & 0x800 else 'cp437')
    member = {
        'name': name, 'method': method,
        'time': [(d >> 9) + 1980, (d >> 5) & 0xF, d & 0x1F, t >> 11, (t >> 5) & 0x3F, (t & 0x1F) * 2],
        'madeBy': made_by, 'needed': needed, 'flags': flags, 'attr': attr,
        'extra': extra.hex(), 'localExtra': local_extra.hex(), 'comment': member_comment.hex(),
    }
    if with_internal:
        member['internalAttr'] = internal
    members.append(member)
    target = os.path.join(tree, *name.rstrip('/').split('/'))
    if name.endswith('/'):
        os.makedirs(target, exist_ok=True)
        continue
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with archive.open(info) as src, open(target, 'wb') as dst:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            dst.write(chunk)
doc = {'format': 1, 'filename': os.path.basename(whl), 'sha256': hashlib.sha256(data).hexdigest(),
       'size': len(data), 'comment': comment.hex(), 'members': members}
with open(os.path.join(tree, '.reqset-wheel.json'), 'w') as f:
    json.dump(doc, f, indent=1)
`;

export async function unpackWheelTree(wheel: string, tree: string, options: { internalAttr?: boolean } = {}): Promise<void> {
  await run(['python3', '-c', UNPACK_SCRIPT, wheel, tree, options.internalAttr ? '1' : '0']);
}

/**
 * Builds a tiny setuptools project (a package, a data file, a console script)
 * with `pip wheel`, offline. Returns the wheel's path.
 */
export async function buildTinyWheel(workDir: string): Promise<string> {
  const project = path.join(workDir, 'tinypkg-src');
  const links = path.join(workDir, 'build-wheels');
  const out = path.join(workDir, 'tiny-wheel');
  await mkdir(path.join(project, 'src', 'tinypkg'), { recursive: true });
  await mkdir(links, { recursive: true });
  for (const wheel of buildWheels()) await copyFile(wheel, path.join(links, path.basename(wheel)));
  await writeFile(
    path.join(project, 'pyproject.toml'),
    '[build-system]\nrequires = ["setuptools", "wheel"]\nbuild-backend = "setuptools.build_meta"\n',
  );
  await writeFile(
    path.join(project, 'setup.cfg'),
    [
      '[metadata]',
      'name = tinypkg',
      'version = 1.0',
      '',
      '[options]',
      'package_dir =',
      '    = src',
      'packages = tinypkg',
      '',
      '[options.package_data]',
      'tinypkg = data.txt',
      '',
      '[options.entry_points]',
      'console_scripts =',
      '    tinypkg-hello = tinypkg:hello',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(project, 'src', 'tinypkg', '__init__.py'), 'def hello():\n    print("hello from tinypkg")\n');
  await writeFile(path.join(project, 'src', 'tinypkg', 'data.txt'), 'some data\n');
  await run(
    ['python3', '-m', 'pip', 'wheel', '--isolated', '--disable-pip-version-check', '--no-index', '--find-links', links, '--no-deps', '-w', out, project],
    { timeoutMs: 180_000 },
  );
  return path.join(out, 'tinypkg-1.0-py3-none-any.whl');
}

/**
 * Python that the scripts writing test wheels by hand share: `add_record(files, dist_info)` appends
 * RECORD (a row per file of `files`, [(name, bytes or None for a directory)]), and `Unseekable`
 * wraps a file so that zipfile cannot seek in it (it then writes data descriptors).
 */
export const HAND_WHEEL_PY = String.raw`
def b64(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
def add_record(files, dist_info):
    record = ''.join('%s,sha256=%s,%d\n' % (n, b64(d), len(d)) for n, d in files if d is not None)
    files.append((dist_info + '/RECORD', (record + dist_info + '/RECORD,,\n').encode()))

class Unseekable(object):
    def __init__(self, f):
        self.f = f
    def write(self, b):
        return self.f.write(b)
    def flush(self):
        self.f.flush()
`;

/**
 * A valid wheel with every unusual layout the helper must reproduce: written by
 * zipfile to an unseekable stream (data descriptors), one member with a zip64
 * local header, extra fields in the central directory only, member and archive
 * comments, stored and deflated members, directory entries, DOS and Unix
 * "made by", a UTF-8 name.
 */
const EXOTIC_SCRIPT = String.raw`
import base64, hashlib, struct, sys, zipfile
files = [
    ('exotic/', None),
    ('exotic/__init__.py', b'VALUE = 1\n'),
    ('exotic/data/blob.bin', bytes(range(256)) * 64),
    ('exotic/empty.txt', b''),
    ('exotic/caf\u00e9.txt', 'd\u00e9j\u00e0 vu\n'.encode('utf-8')),
    ('exotic-1.0.dist-info/METADATA', b'Metadata-Version: 2.1\nName: exotic\nVersion: 1.0\n'),
    ('exotic-1.0.dist-info/WHEEL', b'Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
]
${HAND_WHEEL_PY}
add_record(files, 'exotic-1.0.dist-info')

with open(sys.argv[1], 'wb') as raw:
    with zipfile.ZipFile(Unseekable(raw), 'w') as zf:
        for i, (name, data) in enumerate(files):
            info = zipfile.ZipInfo(name, date_time=(2001, 2, 3, 4, 5, 7 + i))
            info.create_system = 0 if i % 2 else 3
            info.external_attr = ((0o40755 << 16) | 0x10) if data is None else (0o100644 << 16)
            info.compress_type = zipfile.ZIP_STORED if (i % 3 == 2 or data is None) else zipfile.ZIP_DEFLATED
            info.comment = ('comment %d' % i).encode() if i % 2 == 0 else b''
            info.extra = struct.pack('<HH4s', 0xCAFE, 4, b'x%03d' % i) if i % 2 else b''
            if data is None:
                zf.writestr(info, b'')
            elif i == 2:
                with zf.open(info, 'w', force_zip64=True) as f:
                    f.write(data)
            else:
                zf.writestr(info, data)
        zf.comment = b'archive comment'
`;

export async function makeExoticWheel(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const wheel = path.join(dir, 'exotic-1.0-py3-none-any.whl');
  await run(['python3', '-c', EXOTIC_SCRIPT, wheel]);
  return wheel;
}

/**
 * The tiny wheel's files re-zipped by Info-ZIP `zip` (extended-timestamp and
 * Unix extra fields that differ between local and central headers, "text"
 * internal attributes, version 1.0 for stored members).
 */
export async function makeInfoZipWheel(sourceWheel: string, dir: string): Promise<string> {
  const zip = infoZip();
  const src = path.join(dir, 'infozip-src');
  await unpackWheelTree(sourceWheel, src);
  // Fixed times so that the archive is the same on every run.
  await run([
    'python3',
    '-c',
    'import os, sys\nfor root, dirs, files in os.walk(sys.argv[1]):\n    for n in files: os.utime(os.path.join(root, n), (1588748889, 1588748889))',
    src,
  ]);
  const wheel = path.join(dir, path.basename(sourceWheel));
  const tops = (await run(['python3', '-c', 'import os,sys; print("\\n".join(sorted(n for n in os.listdir(sys.argv[1]) if not n.startswith("."))))', src])).stdout
    .split('\n')
    .filter(Boolean);
  await run([zip, '-q', '-r', wheel, ...tops], { cwd: src });
  return wheel;
}
