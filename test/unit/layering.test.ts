/**
 * The layering rule of docs/ARCHITECTURE.md, checked against the code: every
 * import in src/ (static, re-export and dynamic, as the TypeScript scanner
 * reads them) is allowed by the table there, and no two folders import each
 * other, directly or around a loop.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const DOC = path.join(ROOT, 'docs', 'ARCHITECTURE.md');

/** The unit a file of src/ belongs to: its top folder (`wheels/`) or, at the top, the module itself (`api.ts`). */
function unitOf(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length ? `${first}/` : (first as string);
}

interface Rules {
  shared: string[];
  allowed: Map<string, Set<string>>;
}

/** The table of the doc's layering section; `shared` in a row stands for the shared modules. */
function parseRules(markdown: string): Rules {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('The layering rule'));
  assert.ok(section, 'docs/ARCHITECTURE.md has a "## The layering rule" section');
  const ticked = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  const sharedLine = section.split('\n').find((l) => l.startsWith('The shared modules'));
  assert.ok(sharedLine, 'the section names the shared modules');
  const shared = ticked(sharedLine);
  const allowed = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (!cells) continue;
    const imports = ticked(cells[2] as string);
    if (/\bshared\b/.test(cells[2] as string)) imports.push(...shared);
    allowed.set(cells[1] as string, new Set(imports.filter((u) => u !== cells[1])));
  }
  return { shared, allowed };
}

/** Every relative import of every .ts file under src/, as unit -> unit edges (with one file:line per edge, for messages). */
function importEdges(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(SRC, f));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue;
      const from = unitOf(file);
      const to = unitOf(path.resolve(path.dirname(file), imported.fileName));
      if (from === to) continue;
      const line = text.slice(0, imported.pos).split('\n').length;
      const targets = edges.get(from) ?? new Map<string, string>();
      if (!targets.has(to)) targets.set(to, `${path.relative(ROOT, file)}:${line} imports ${imported.fileName}`);
      edges.set(from, targets);
    }
  }
  return edges;
}

/** The cycles of a graph: each strongly connected component of more than one unit (Tarjan), sorted. */
function cyclesOf(graph: Map<string, Iterable<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (unit: string) => {
    index.set(unit, index.size);
    low.set(unit, index.get(unit) as number);
    stack.push(unit);
    onStack.add(unit);
    for (const next of graph.get(unit) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit) as number, low.get(next) as number));
      } else if (onStack.has(next)) low.set(unit, Math.min(low.get(unit) as number, index.get(next) as number));
    }
    if (low.get(unit) !== index.get(unit)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== unit);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const unit of graph.keys()) if (!index.has(unit)) visit(unit);
  return cycles;
}

describe('layering', () => {
  const rules = parseRules(readFileSync(DOC, 'utf8'));
  const edges = importEdges();

  it('the table names every folder with TypeScript in it and every top-level module of src/, and only those', () => {
    const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const units = new Set(files.map((f) => unitOf(path.join(SRC, f))));
    assert.deepEqual([...rules.allowed.keys()].sort(), [...units].sort());
    for (const [unit, imports] of rules.allowed) {
      for (const imported of imports) assert.ok(existsSync(path.join(SRC, imported)), `${unit}'s row names ${imported}, which is not in src/`);
    }
  });

  it('every import in src/ is one the table allows', () => {
    const forbidden = [...edges].flatMap(([from, targets]) => [...targets].filter(([to]) => !rules.allowed.get(from)?.has(to)).map(([, where]) => `${from} -> ${where}`));
    assert.deepEqual(forbidden, []);
  });

  it('no import cycle between folders, and none the table would allow', () => {
    assert.deepEqual(cyclesOf(new Map([...edges].map(([from, targets]) => [from, targets.keys()]))), []);
    assert.deepEqual(cyclesOf(rules.allowed), []);
  });

  it('finds a cycle around a loop of three and ignores a chain', () => {
    assert.deepEqual(cyclesOf(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']]);
    assert.deepEqual(cyclesOf(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), []);
  });

  it('formats are reached only through the Packager interface: only packagers/index.ts imports rpm/ or deb/, and neither imports the other', () => {
    const dir = path.join(SRC, 'packagers');
    const reaching: string[] = [];
    for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      const file = path.join(dir, rel);
      const ownFormat = rel.split(path.sep).length > 1 ? rel.split(path.sep)[0] : undefined;
      for (const imported of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
        if (!imported.fileName.startsWith('.')) continue;
        const format = path.relative(dir, path.resolve(path.dirname(file), imported.fileName)).split(path.sep)[0];
        if ((format === 'rpm' || format === 'deb') && format !== ownFormat && rel !== 'index.ts') reaching.push(`src/packagers/${rel} imports ${imported.fileName}`);
      }
    }
    assert.deepEqual(reaching, []);
  });
});
