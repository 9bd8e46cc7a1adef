/**
 * Target files: every problem with its file, line and field, and what the
 * field is for, the way endpoint specs report theirs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/errors.ts';
import { parseTarget } from '../../src/targets/target.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const EL9 = await readFile(path.join(REPO, 'packaging', 'targets', 'el9.yml'), 'utf8');

function problemsOf(text: string, file = 'el9.yml'): { message: string; problems: string[] } {
  try {
    parseTarget(text, file);
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    return { message: error.message, problems: error.problems };
  }
  assert.fail('the target was accepted');
}

describe('target file problems', () => {
  it('a missing field: the line of its mapping, what it is for and what it holds', () => {
    const { problems } = problemsOf(EL9.replace(/^glibc: .*\n/m, ''));
    assert.deepEqual(problems, ['el9.yml:1: glibc: required: the target\'s glibc, major.minor, e.g. "2.34" (a string)']);
  });

  it('a field of the wrong kind: its own line', () => {
    const { problems } = problemsOf(EL9.replace(/^ {2}path: .*$/m, '  path: [a, b]'));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] as string, /^el9\.yml:\d+: python\.path: expected a string, got a list: the interpreter's absolute path on the target$/);
    const line = EL9.split('\n').findIndex((l) => /^ {2}path: /.test(l)) + 1;
    assert.ok((problems[0] as string).startsWith(`el9.yml:${line}:`), problems[0]);
  });

  it('an unknown field: its line and the fields that exist there', () => {
    const { problems } = problemsOf(`${EL9}colour: blue\n`);
    const line = EL9.split('\n').length;
    assert.deepEqual(problems, [
      `el9.yml:${line}: colour: unknown field: the fields here are name, description, format, distribution, python, glibc, arch, packages, builder, payload, systemdUnitDir`,
    ]);
  });

  it('every problem of the file at once', () => {
    const text = EL9.replace(/^arch: .*$/m, 'arch: sparc').replace(/^format: .*$/m, 'format: apk');
    const { message, problems } = problemsOf(text);
    assert.ok(message.startsWith('el9.yml: invalid target'), message);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.ok(problems.some((p) => /^el9\.yml:\d+: format: /.test(p)));
    assert.ok(problems.some((p) => /^el9\.yml:\d+: arch: /.test(p)));
  });

  it('a name that is not the file name: the line and both fixes', () => {
    const { message } = problemsOf(EL9, 'packaging/targets/el10.yml');
    assert.equal(message, 'packaging/targets/el10.yml:1: name: "el9" does not match the file name: rename the file to el9.yml or set name: el10');
  });

  it('YAML that does not parse: the line', () => {
    const { problems } = problemsOf('name: el9\n  bad: [\n');
    assert.equal(problems.length >= 1, true);
    assert.match(problems[0] as string, /^el9\.yml:\d+: not valid YAML: /);
  });
});
