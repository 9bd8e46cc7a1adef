/**
 * Endpoint specs (`specs/<app>.yml`): one application of a reqset. One strict
 * schema; every value is checked against the grammar of the package name,
 * spec file, control file or script it ends up in, and every problem of a
 * file is reported at once as `file:line: field: what to do`.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { normalizeName } from '../python/names.ts';
import {
  debRelationProblem,
  distributionProblem,
  endpointNameProblem,
  reqsetNameProblem,
  rpmDependencyProblem,
  scriptNameProblem,
  summaryProblem,
} from './grammar.ts';

/** A string that `problem` accepts; its message is the issue's. */
function checked(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  });
}

/** Two equal scripts would be two files /usr/bin/<name>. */
const scripts = z.array(checked(scriptNameProblem)).superRefine((names, ctx) => {
  names.forEach((name, i) => {
    if (names.indexOf(name) < i) ctx.addIssue({ code: 'custom', path: [i], message: `"${name}" is listed twice: list each script once` });
  });
});

export const specSchema = z.strictObject({
  name: checked(endpointNameProblem),
  reqset: checked(reqsetNameProblem),
  distribution: checked(distributionProblem),
  summary: checked(summaryProblem),
  scripts: scripts.default([]),
  requires: z
    .strictObject({ rpm: z.array(checked(rpmDependencyProblem)).default([]), deb: z.array(checked(debRelationProblem)).default([]) })
    .default({ rpm: [], deb: [] }),
});

/** What each field is for, in the messages about a missing or mistyped one. */
const FIELDS: Record<string, { what: string; type: string }> = {
  name: { what: 'the endpoint package is <reqset>-<name>', type: 'a string' },
  reqset: { what: 'the reqset of the application, as in reqsets/<reqset>.txt', type: 'a string' },
  distribution: { what: 'the pinned distribution that is the application', type: 'a string' },
  summary: { what: 'one line describing the application', type: 'a string' },
  scripts: { what: 'the console scripts of the distribution to put in /usr/bin', type: 'a list of names' },
  requires: { what: 'the system packages the application needs', type: 'a mapping with rpm and deb' },
  'requires.rpm': { what: 'the RPM dependencies of the application on rpm targets', type: 'a list' },
  'requires.deb': { what: 'the Debian relations of the application on deb targets', type: 'a list' },
};

/** Line numbers of the fields that later checks (checkSpec, loadSpecs) report on. */
export interface SpecLines {
  name: number;
  distribution: number;
  scripts: number[];
}

export type EndpointSpec = z.infer<typeof specSchema> & { file: string; lines: SpecLines };

type FieldPath = readonly PropertyKey[];

/** The parsed file and the line of any field path in it. */
interface YamlFile {
  data: unknown;
  /** The line of the node at `fieldPath`, or of its nearest existing parent (a missing field: its mapping). */
  lineOf(fieldPath: FieldPath): number;
  /** The line of the key `key` of the mapping at `fieldPath`. */
  keyLine(fieldPath: FieldPath, key: string): number;
}

function readYaml(text: string, file: string): YamlFile {
  const counter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length) {
    // The library's message ends in the place and an excerpt; the line is in front instead.
    const problems = doc.errors.map((e) => `${file}:${e.linePos?.[0].line ?? 1}: not valid YAML: ${e.message.replace(/\n[^]*/, '').replace(/ at line \d+, column \d+:$/, '')}`);
    throw new InputError(`${file}: not valid YAML`, problems);
  }
  const nodeAt = (fieldPath: FieldPath) => (fieldPath.length ? doc.getIn(fieldPath, true) : doc.contents);
  const lineOf = (fieldPath: FieldPath): number => {
    for (let n = fieldPath.length; n >= 0; n--) {
      const node = nodeAt(fieldPath.slice(0, n));
      if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
    }
    return 1;
  };
  const keyLine = (fieldPath: FieldPath, key: string): number => {
    const map = nodeAt(fieldPath);
    const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && String(p.key.value) === key) : undefined;
    return isNode(pair?.key) && pair.key.range ? counter.linePos(pair.key.range[0]).line : lineOf(fieldPath);
  };
  return { data: doc.toJS(), lineOf, keyLine };
}

const KINDS: Record<string, string> = { string: 'a string', array: 'a list', object: 'a mapping' };

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

function valueAt(data: unknown, fieldPath: FieldPath): unknown {
  return fieldPath.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), data);
}

/** `file:line: field: message` for each issue; list items are named by their list (the line tells which). */
function describeIssues(yaml: YamlFile, file: string, error: z.ZodError): string[] {
  return error.issues.flatMap((issue) => {
    const field = issue.path.filter((key) => typeof key === 'string').join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(FIELDS)
        .filter((f) => (field ? f.startsWith(`${field}.`) : !f.includes('.')))
        .map((f) => f.slice(field ? field.length + 1 : 0));
      return issue.keys.map((key) => `${file}:${yaml.keyLine(issue.path, key)}: ${field ? `${field}.` : ''}${key}: unknown field: the fields here are ${known.join(', ')}`);
    }
    const where = `${file}:${yaml.lineOf(issue.path)}:`;
    if (issue.code !== 'invalid_type') return [`${where} ${field}: ${issue.message}`];
    const value = valueAt(yaml.data, issue.path);
    if (!field) return [`${where} expected a mapping with the fields ${Object.keys(FIELDS).filter((f) => !f.includes('.')).join(', ')}, got ${kindOf(value)}`];
    const help = FIELDS[field];
    // List entries: the list's help is about the list, and the line names the entry.
    if (!help || typeof issue.path.at(-1) === 'number') return [`${where} ${field}: expected ${KINDS[issue.expected] ?? issue.expected}, got ${kindOf(value)}`];
    if (value === undefined) return [`${where} ${field}: required: ${help.what} (${help.type})`];
    return [`${where} ${field}: expected ${help.type}, got ${kindOf(value)}: ${help.what}`];
  });
}

export function parseSpec(text: string, file: string): EndpointSpec {
  const yaml = readYaml(text, file);
  const result = specSchema.safeParse(yaml.data);
  if (!result.success) throw new InputError(`${file}: invalid endpoint spec`, describeIssues(yaml, file, result.error));
  const lines = {
    name: yaml.lineOf(['name']),
    distribution: yaml.lineOf(['distribution']),
    scripts: result.data.scripts.map((_, i) => yaml.lineOf(['scripts', i])),
  };
  return { ...result.data, file, lines };
}

/** The specs of one reqset in `<workspace>/specs/`, every file's problems at once. */
export async function loadSpecs(workspace: string, reqset: string): Promise<EndpointSpec[]> {
  const dir = path.join(workspace, 'specs');
  let entries: string[];
  try {
    entries = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const specs: EndpointSpec[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const file = path.join('specs', entry);
    try {
      specs.push(parseSpec(await readFile(path.join(dir, entry), 'utf8'), file));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(...(error.problems.length ? error.problems : [error.message]));
    }
  }
  if (problems.length) throw new InputError('invalid endpoint specs', problems);
  const mine = specs.filter((s) => s.reqset === reqset);
  const seen = new Map<string, EndpointSpec>();
  for (const spec of mine) {
    const other = seen.get(spec.name);
    if (other) {
      problems.push(
        `${spec.file}:${spec.lines.name}: name: "${spec.name}" is also the name in ${other.file}:${other.lines.name}: ` +
          `both would be the package ${reqset}-${spec.name}: give each endpoint of a reqset its own name`,
      );
    }
    seen.set(spec.name, spec);
  }
  if (problems.length) throw new InputError('invalid endpoint specs', problems);
  return mine;
}

export interface DistributionFacts {
  name: string;
  version: string;
  consoleScripts: string[];
}

/** Checks a spec against the reqset's pins and wheels: every problem at once. */
export function checkSpec(spec: EndpointSpec, pinned: Map<string, DistributionFacts>, reqsetFile: string): string[] {
  const problems: string[] = [];
  const facts = pinned.get(normalizeName(spec.distribution));
  if (!facts) {
    problems.push(`${spec.file}:${spec.lines.distribution}: distribution: "${spec.distribution}" is not pinned in ${reqsetFile}: pin it there or fix the name`);
    return problems;
  }
  spec.scripts.forEach((script, i) => {
    if (!facts.consoleScripts.includes(script)) {
      const has = facts.consoleScripts.length ? `its console scripts are ${facts.consoleScripts.join(', ')}` : 'it has no console scripts';
      problems.push(`${spec.file}:${spec.lines.scripts[i]}: scripts: "${script}" is not a console script of ${facts.name} ${facts.version} (${has})`);
    }
  });
  return problems;
}
