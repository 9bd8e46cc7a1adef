/**
 * Endpoint specs (`specs/<app>.yml`): one application of a reqset. One strict
 * schema; every problem of a file is reported at once, naming file and field.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { normalizeName } from '../python/names.ts';
import { formatZodIssues } from '../targets/target.ts';

const systemPackages = z.array(z.string().min(1));

export const specSchema = z.strictObject({
  /** The endpoint package is `<reqset>-<name>`; a valid name in both rpm and dpkg. */
  name: z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/, 'lower-case letters, digits, ".", "+" and "-", starting with a letter or digit'),
  reqset: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  distribution: z.string().min(1),
  summary: z.string().min(1),
  scripts: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a command name')).default([]),
  requires: z.strictObject({ rpm: systemPackages.default([]), deb: systemPackages.default([]) }).default({ rpm: [], deb: [] }),
});

export type EndpointSpec = z.infer<typeof specSchema> & { file: string };

export function parseSpec(text: string, file: string): EndpointSpec {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new InputError(`${file}: not valid YAML: ${(error as Error).message}`);
  }
  const result = specSchema.safeParse(data);
  if (!result.success) throw new InputError(`${file}: invalid endpoint spec`, formatZodIssues(file, result.error));
  return { ...result.data, file };
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
    if (other) problems.push(`${spec.file}: name: "${spec.name}" is also the name in ${other.file}: endpoint names must be unique per reqset`);
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
    problems.push(`${spec.file}: distribution: "${spec.distribution}" is not pinned in ${reqsetFile}: pin it there or fix the name`);
    return problems;
  }
  for (const script of spec.scripts) {
    if (!facts.consoleScripts.includes(script)) {
      const has = facts.consoleScripts.length ? `its console scripts are ${facts.consoleScripts.join(', ')}` : 'it has no console scripts';
      problems.push(`${spec.file}: scripts: "${script}" is not a console script of ${facts.name} ${facts.version} (${has})`);
    }
  }
  return problems;
}
