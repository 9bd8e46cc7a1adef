/**
 * The fpm RPM backend reads the native spec back (src/packagers/fpm/rpm.ts
 * parseNativeSpec): on every golden spec, each tag, `%global` line,
 * description and scriptlet body is found whole, and nothing else is taken
 * for one.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parseNativeSpec } from '../../src/packagers/fpm/rpm.ts';

const GOLDEN = path.resolve(import.meta.dirname, '..', 'golden', 'rpm');

/** The lines of `spec` after the line `header` up to the next empty line followed by a `%` line (or the end). */
function section(spec: string, header: string): string | undefined {
  const lines = spec.split('\n');
  const start = lines.indexOf(header);
  if (start < 0) return undefined;
  const body: string[] = [];
  for (let i = start + 1; i < lines.length && !(lines[i] === '' && /^%[a-z]+$/.test(lines[i + 1] ?? '')); i++) body.push(lines[i] as string);
  return body.join('\n').trimEnd();
}

test('parseNativeSpec reads back every tag, %global, description and scriptlet of the golden specs', async () => {
  const files = (await readdir(GOLDEN)).filter((f) => f.endsWith('.spec'));
  assert.ok(files.length >= 3, 'golden specs found');
  for (const file of files) {
    const text = await readFile(path.join(GOLDEN, file), 'utf8');
    const parsed = parseNativeSpec(text);
    const preamble = text.slice(0, text.indexOf('\n%description\n')).split('\n');
    assert.deepEqual(parsed.globals, preamble.filter((l) => l.startsWith('%global ')), file);
    assert.deepEqual(parsed.tags.map(([tag, value]) => `${tag}: ${value}`), preamble.filter((l) => /^[A-Z][A-Za-z]*(\([a-z]+\))?: /.test(l)), file);
    for (const name of ['Name', 'Version', 'Release', 'Summary', 'License', 'Packager']) assert.ok(parsed.tags.some(([tag]) => tag === name), `${file}: ${name}`);
    for (const name of ['description', 'post', 'preun', 'postun']) assert.equal(parsed.sections.get(name), section(text, `%${name}`), `${file}: %${name}`);
    if (text.includes('\n%post\n')) assert.ok(parsed.sections.get('post')?.startsWith('set -e\n'), `${file}: %post`);
  }
});
