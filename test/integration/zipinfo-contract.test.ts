/**
 * `.reqset-wheel.json` is written by TypeScript and read by the runtime helper
 * on the targets. One checked-in example (test/golden/reqset-wheel.json) is
 * what the writer writes for CONTRACT_WHEEL and what the helper's reader
 * accepts, so a change on either side fails here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../../src/run.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { formatZipInfo } from '../../src/wheels/zipinfo.ts';
import { targetPython } from '../helpers/env.ts';
import { makeWheel } from '../helpers/make-wheel.ts';
import { RUNTIME_HELPER } from '../helpers/runtime-fixtures.ts';
import { CONTRACT_WHEEL, ZIPINFO_EXAMPLE, zipInfoSchema } from '../helpers/zipinfo-contract.ts';

const work = await mkdtemp(path.join(tmpdir(), 'reqset-zipinfo-contract-'));
after(() => rm(work, { recursive: true, force: true }));

describe('.reqset-wheel.json: the TypeScript writer', () => {
  it('writes the checked-in example for the contract wheel, byte for byte', async () => {
    const source = await openWheel(await makeWheel(work, CONTRACT_WHEEL));
    try {
      assert.equal(formatZipInfo(source.zipInfo), await readFile(ZIPINFO_EXAMPLE, 'utf8'));
    } finally {
      await source.close();
    }
  });

  it('the example fits the writer\'s type, no key more or less, and formats back to itself', async () => {
    const text = await readFile(ZIPINFO_EXAMPLE, 'utf8');
    const parsed = zipInfoSchema.parse(JSON.parse(text));
    assert.equal(formatZipInfo(parsed), text);
    const renamed = JSON.parse(text) as { members: Record<string, unknown>[] };
    const first = renamed.members[0] as Record<string, unknown>;
    first.localExtraX = first.localExtra;
    delete first.localExtra;
    assert.equal(zipInfoSchema.safeParse(renamed).success, false);
  });
});

/**
 * Reads the example with the helper's own reader, then once with each key
 * (top level and first member) renamed: prints what it accepted and the error
 * of each renamed copy (null when the reader took it).
 */
const READ_SCRIPT = String.raw`
import copy, json, sys
sys.path.insert(0, sys.argv[1])
from reqset_runtime import wheelinfo as r
raw = open(sys.argv[2], 'rb').read()
info = r.parse_wheel_info_bytes(raw, 'example')
doc = json.loads(raw.decode('utf-8'))
def renamed(path):
    d = copy.deepcopy(doc)
    target = d['members'][0] if path[0] == 'members[0]' else d
    target[path[-1] + 'X'] = target.pop(path[-1])
    try:
        r.parse_wheel_info(d, 'renamed')
        return None
    except r.HelperError as e:
        return str(e)
keys = [[k] for k in doc] + [['members[0]', k] for k in doc['members'][0]]
print(json.dumps({
    'filename': info.filename, 'members': [m.name for m in info.members],
    'renamed': dict(('.'.join(k), renamed(k)) for k in keys),
}))
`;

describe('.reqset-wheel.json: the runtime helper\'s reader', () => {
  for (const version of ['3.6', '3.11'] as const) {
    it(`Python ${version} accepts the example and refuses it with any key renamed`, async () => {
      const result = await run([targetPython(version), '-c', READ_SCRIPT, RUNTIME_HELPER, ZIPINFO_EXAMPLE]);
      const read = JSON.parse(result.stdout) as { filename: string; members: string[]; renamed: Record<string, string | null> };
      const example = zipInfoSchema.parse(JSON.parse(await readFile(ZIPINFO_EXAMPLE, 'utf8')));
      assert.equal(read.filename, example.filename);
      assert.deepEqual(read.members, example.members.map((m) => m.name));
      const keys = [...Object.keys(example), ...Object.keys(example.members[0] ?? {}).map((k) => `members[0].${k}`)];
      assert.deepEqual(Object.keys(read.renamed).sort(), keys.sort());
      for (const [key, error] of Object.entries(read.renamed)) assert.ok(error, `the reader took the example with ${key} renamed`);
    });
  }
});
