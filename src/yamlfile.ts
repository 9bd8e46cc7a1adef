/**
 * YAML configuration files (endpoint specs, targets) read against one strict
 * schema: every problem of a file at once, each as `file:line: field: what to
 * do`, the line taken from the YAML document so people can find it.
 */
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError } from './errors.ts';

type FieldPath = readonly PropertyKey[];

/** What a field is for and what it holds, in the messages about a missing or mistyped one. */
export interface FieldHelp {
  what: string;
  type: string;
}

/** Help per dotted field path (`requires.rpm`); list entries are named by their list. */
export type FieldHelpTable = Record<string, FieldHelp>;

/** The parsed file and the line of any field path in it. */
export interface YamlFile {
  file: string;
  data: unknown;
  /** The line of the node at `fieldPath`, or of its nearest existing parent (a missing field: its mapping). */
  lineOf(fieldPath: FieldPath): number;
  /** The line of the key `key` of the mapping at `fieldPath`. */
  keyLine(fieldPath: FieldPath, key: string): number;
}

export function readYamlFile(text: string, file: string): YamlFile {
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
  return { file, data: doc.toJS(), lineOf, keyLine };
}

/**
 * Parses the file's data with `schema`; on failure one InputError `summary`
 * listing every issue with its line.
 */
export function parseYamlWith<S extends z.ZodType>(yaml: YamlFile, schema: S, fields: FieldHelpTable, summary: string): z.infer<S> {
  const result = schema.safeParse(yaml.data);
  if (!result.success) throw new InputError(`${yaml.file}: ${summary}`, describeIssues(yaml, result.error, fields));
  return result.data;
}

const KINDS: Record<string, string> = { string: 'a string', number: 'a number', array: 'a list', object: 'a mapping' };

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

function valueAt(data: unknown, fieldPath: FieldPath): unknown {
  return fieldPath.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), data);
}

/** The fields known directly under `field` ('' for the top level). */
function fieldsUnder(fields: FieldHelpTable, field: string): string[] {
  return Object.keys(fields)
    .filter((f) => (field ? f.startsWith(`${field}.`) && !f.slice(field.length + 1).includes('.') : !f.includes('.')))
    .map((f) => f.slice(field ? field.length + 1 : 0));
}

/** `file:line: field: message` for each issue; list items are named by their list (the line tells which). */
function describeIssues(yaml: YamlFile, error: z.ZodError, fields: FieldHelpTable): string[] {
  const { file } = yaml;
  return error.issues.flatMap((issue) => {
    const field = issue.path.filter((key) => typeof key === 'string').join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = fieldsUnder(fields, field);
      return issue.keys.map((key) => `${file}:${yaml.keyLine(issue.path, key)}: ${field ? `${field}.` : ''}${key}: unknown field: the fields here are ${known.join(', ')}`);
    }
    const where = `${file}:${yaml.lineOf(issue.path)}:`;
    if (issue.code !== 'invalid_type') return [`${where} ${field || '(top level)'}: ${issue.message}`];
    const value = valueAt(yaml.data, issue.path);
    if (!field) return [`${where} expected a mapping with the fields ${fieldsUnder(fields, '').join(', ')}, got ${kindOf(value)}`];
    const help = fields[field];
    // List entries: the list's help is about the list, and the line names the entry.
    if (!help || typeof issue.path.at(-1) === 'number') return [`${where} ${field}: expected ${KINDS[issue.expected] ?? issue.expected}, got ${kindOf(value)}`];
    if (value === undefined) return [`${where} ${field}: required: ${help.what} (${help.type})`];
    return [`${where} ${field}: expected ${help.type}, got ${kindOf(value)}: ${help.what}`];
  });
}
