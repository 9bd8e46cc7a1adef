/**
 * Endpoint specs (`specs/<app>.yml`): one application of a reqset. One strict
 * schema; every value is checked against the grammar of the package name,
 * spec file, control file or script it ends up in, and every problem of a
 * file is reported at once as `file:line: field: what to do`.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { normalizeName } from '../python/names.ts';
import { parseYamlWith, readYamlFile, type FieldHelpTable } from '../yamlfile.ts';
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
const FIELDS: FieldHelpTable = {
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

export function parseSpec(text: string, file: string): EndpointSpec {
  const yaml = readYamlFile(text, file);
  const spec = parseYamlWith(yaml, specSchema, FIELDS, 'invalid endpoint spec');
  const lines = {
    name: yaml.lineOf(['name']),
    distribution: yaml.lineOf(['distribution']),
    scripts: spec.scripts.map((_, i) => yaml.lineOf(['scripts', i])),
  };
  return { ...spec, file, lines };
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
