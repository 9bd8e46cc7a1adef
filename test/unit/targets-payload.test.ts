/**
 * The target schema's `payload` field: what the built-in targets choose, and
 * that a bad setting is refused with every problem named with its line, like
 * the rest of the schema.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/errors.ts';
import { DEFAULT_DEB_PAYLOAD } from '../../src/packagers/deb/index.ts';
import { DEFAULT_RPM_PAYLOAD } from '../../src/packagers/rpm/spec.ts';
import { SMALL_PAYLOAD, parseTarget } from '../../src/targets/target.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGETS = path.join(REPO, 'packaging', 'targets');

async function builtIn(name: string) {
  const file = path.join(TARGETS, `${name}.yml`);
  return parseTarget(await readFile(file, 'utf8'), file);
}

/** el9's file with its `payload:` line replaced (or dropped when `line` is empty). */
async function el9With(line: string): Promise<string> {
  const text = await readFile(path.join(TARGETS, 'el9.yml'), 'utf8');
  assert.match(text, /^payload: .*$/m);
  return text.replace(/^payload: .*$/m, line);
}

function problems(text: string): string[] {
  try {
    parseTarget(text, 'el9.yml');
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    return error.problems;
  }
  assert.fail('the target was accepted');
}

describe('target payload compression', () => {
  it('the built-in targets: zstd 3, but el8 keeps xz 2', async () => {
    const expected = {
      el8: { compression: 'xz', level: 2 },
      el9: { compression: 'zstd', level: 3 },
      'el9-py311': { compression: 'zstd', level: 3 },
      fedora: { compression: 'zstd', level: 3 },
      debian12: { compression: 'zstd', level: 3 },
      ubuntu2404: { compression: 'zstd', level: 3 },
    };
    for (const [name, payload] of Object.entries(expected)) assert.deepEqual((await builtIn(name)).payload, payload, name);
  });

  it('is optional: a target without it parses (the packagers then use xz)', async () => {
    const target = parseTarget(await el9With(''), 'el9.yml');
    assert.equal(target.payload, undefined);
    assert.ok(!('payload' in target));
  });

  it('accepts both compressors at their levels, block or flow style', async () => {
    assert.deepEqual(parseTarget(await el9With('payload: { compression: xz, level: 9 }'), 'el9.yml').payload, { compression: 'xz', level: 9 });
    assert.deepEqual(parseTarget(await el9With('payload: { compression: xz, level: 0 }'), 'el9.yml').payload, { compression: 'xz', level: 0 });
    assert.deepEqual(parseTarget(await el9With('payload:\n  compression: zstd\n  level: 19'), 'el9.yml').payload, { compression: 'zstd', level: 19 });
  });

  it('`small` is xz at the sizes reqset had before zstd: level 2 for RPM, 6 for .deb, the packagers\' defaults', async () => {
    assert.deepEqual(parseTarget(await el9With('payload: small'), 'el9.yml').payload, { compression: 'xz', level: 2 });
    const debian = (await readFile(path.join(TARGETS, 'debian12.yml'), 'utf8')).replace(/^payload: .*$/m, 'payload: small');
    assert.deepEqual(parseTarget(debian, 'debian12.yml').payload, { compression: 'xz', level: 6 });
    assert.deepEqual(SMALL_PAYLOAD, { rpm: DEFAULT_RPM_PAYLOAD, deb: DEFAULT_DEB_PAYLOAD });
    assert.match(problems(await el9With('payload: smallest')).join('\n'), /^el9\.yml:20: payload: /m);
  });

  it('rejects unknown keys, unknown compressors, levels out of range or not whole, and a missing field', async () => {
    assert.deepEqual(problems(await el9With('payload: { compression: zstd, level: 3, threads: 4 }')), ['el9.yml:20: payload.threads: unknown field: the fields here are compression, level']);
    const gzip = problems(await el9With('payload: { compression: gzip, level: 9 }'));
    assert.equal(gzip.length, 1, gzip.join('\n'));
    assert.match(gzip[0] as string, /^el9\.yml:20: payload\.compression: /);
    for (const line of ['payload: { compression: zstd, level: 20 }', 'payload: { compression: zstd, level: 0 }', 'payload: { compression: xz, level: 10 }', 'payload: { compression: zstd, level: 2.5 }', 'payload: { compression: zstd, level: "3" }']) {
      const found = problems(await el9With(line));
      assert.equal(found.length, 1, `${line}: ${found.join('\n')}`);
      assert.match(found[0] as string, /^el9\.yml:20: payload\.level: /, line);
    }
    assert.match(problems(await el9With('payload: { compression: zstd }')).join('\n'), /^el9\.yml:20: payload\.level: /m);
    assert.match(problems(await el9With('payload: zstd')).join('\n'), /^el9\.yml:20: payload: /m);
  });

  it('reports a bad payload together with the other problems of the file', async () => {
    const text = (await el9With('payload: { compression: zstd, level: 99, extra: 1 }')).replace(/^arch: .*$/m, 'arch: sparc');
    const found = problems(text);
    assert.ok(found.some((p) => /^el9\.yml:\d+: arch: /.test(p)), found.join('\n'));
    assert.ok(found.some((p) => /^el9\.yml:20: payload/.test(p)), found.join('\n'));
  });
});
