/**
 * Endpoint specs (`specs/<app>.yml`): one application of a reqset. One strict
 * schema; every value is checked against the grammar of the package name,
 * spec file, control file or script it ends up in, and every problem of a
 * file is reported at once as `file:line: field: what to do`.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { normalizeName } from '../python/names.ts';
import { parseYamlWith, readYamlFile, type FieldHelpTable } from '../yamlfile.ts';
import {
  accountNameProblem,
  configDestProblem,
  debRelationProblem,
  distributionProblem,
  endpointNameProblem,
  execArgumentProblem,
  modeProblem,
  reqsetNameProblem,
  rpmDependencyProblem,
  scriptNameProblem,
  serviceNameProblem,
  summaryProblem,
  workingDirectoryProblem,
  workspacePathProblem,
} from './grammar.ts';
import { checked } from './checked.ts';
import { maintainerField, vendorField } from './vendor.ts';


/** Two equal scripts would be two files /usr/bin/<name>. */
const scripts = z.array(checked(scriptNameProblem)).superRefine((names, ctx) => {
  names.forEach((name, i) => {
    if (names.indexOf(name) < i) ctx.addIssue({ code: 'custom', path: [i], message: `"${name}" is listed twice: list each script once` });
  });
});

/** systemd's Restart= values (systemd.service(5)). */
export const RESTART_POLICIES = ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'];

function restartProblem(value: string): string | undefined {
  return RESTART_POLICIES.includes(value) ? undefined : `${JSON.stringify(value)} is not a systemd Restart= value: use one of ${RESTART_POLICIES.join(', ')}`;
}

/** A console script of the distribution, then its arguments. */
const exec = z
  .array(z.string())
  .min(1, 'is empty: give the console script to run, then its arguments')
  .superRefine((words, ctx) => {
    words.forEach((word, i) => {
      const message = i === 0 ? scriptNameProblem(word) : execArgumentProblem(word);
      if (message) ctx.addIssue({ code: 'custom', path: [i], message });
    });
  });

const service = z.strictObject({
  name: checked(serviceNameProblem),
  exec,
  user: checked(accountNameProblem),
  group: checked(accountNameProblem).optional(),
  'working-directory': checked(workingDirectoryProblem).optional(),
  restart: checked(restartProblem).default('on-failure'),
  /** Unset: the distribution's policy (RPM: the presets; Debian: enabled). */
  enable: z.boolean().optional(),
});

const configFile = z.strictObject({
  source: checked(workspacePathProblem),
  dest: checked(configDestProblem),
  mode: checked(modeProblem).optional(),
});

export type ServiceSpec = z.infer<typeof service>;
export type ConfigFileSpec = z.infer<typeof configFile>;

export const specSchema = z.strictObject({
  name: checked(endpointNameProblem),
  reqset: checked(reqsetNameProblem),
  distribution: checked(distributionProblem),
  summary: checked(summaryProblem),
  scripts: scripts.default([]),
  requires: z
    .strictObject({ rpm: z.array(checked(rpmDependencyProblem)).default([]), deb: z.array(checked(debRelationProblem)).default([]) })
    .default({ rpm: [], deb: [] }),
  services: z.array(service).default([]),
  files: z.array(configFile).default([]),
  /** This endpoint package's own, instead of packaging/vendor.yml's. */
  maintainer: maintainerField.optional(),
  vendor: vendorField.optional(),
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
  services: { what: 'the systemd services of the application', type: 'a list of mappings with name, exec, user, ...' },
  'services.name': { what: 'the service: its unit is <name>.service', type: 'a string' },
  'services.exec': { what: 'a console script of the distribution and its arguments', type: 'a list of strings' },
  'services.user': { what: 'the system user the service runs as, created by the package', type: 'a string' },
  'services.group': { what: 'the group the service runs as (default: the user\'s name), created by the package', type: 'a string' },
  'services.working-directory': { what: 'the absolute directory the service runs in', type: 'a string' },
  'services.restart': { what: `when systemd restarts the service (default on-failure): ${RESTART_POLICIES.join(', ')}`, type: 'a string' },
  'services.enable': { what: 'whether installing enables the service (default: the distribution\'s policy: presets on RPM, enabled on Debian)', type: 'true or false' },
  files: { what: 'configuration files from the workspace, kept by the package manager when edited', type: 'a list of mappings with source, dest, mode' },
  'files.source': { what: 'the file, relative to the workspace', type: 'a string' },
  'files.dest': { what: 'where it is installed, an absolute path below /etc', type: 'a string' },
  'files.mode': { what: 'its permission bits (default "0644")', type: 'an octal string such as "0640" (quoted: YAML reads 0640 as the number 640)' },
  maintainer: { what: `the endpoint package's maintainer (default: packaging/vendor.yml's)`, type: 'a string "Full Name <address>"' },
  vendor: { what: `the endpoint package's vendor, RPM Vendor (default: packaging/vendor.yml's)`, type: 'a string' },
};

/** Line numbers of the fields that later checks (checkSpec, loadSpecs) report on. */
export interface SpecLines {
  name: number;
  distribution: number;
  scripts: number[];
  /** Each service's `name` and the first word of its `exec`. */
  services: { name: number; exec: number }[];
  /** Each file's `source` and `dest`. */
  files: { source: number; dest: number }[];
}

export type EndpointSpec = z.infer<typeof specSchema> & {
  file: string;
  lines: SpecLines;
  /** The workspace the spec was read from: `files:` sources are relative to it. */
  workspace: string;
};

/** Where the endpoint's configuration lives on the target: `/etc/<reqset>-<app>`. */
export const endpointConfigDir = (reqset: string, app: string) => `/etc/${reqset}-${app}`;

/** A service's environment file, which its unit reads (EnvironmentFile=) and the package ships as a configuration file. */
export const serviceEnvFile = (reqset: string, app: string, service: string) => `${endpointConfigDir(reqset, app)}/${service}.env`;

/** Each value listed once; `what` names it in the problem. */
function duplicates<T>(items: T[], key: (item: T) => string, problem: (item: T, first: T) => string): string[] {
  const seen = new Map<string, T>();
  return items.flatMap((item) => {
    const first = seen.get(key(item));
    if (first === undefined) seen.set(key(item), item);
    return first === undefined ? [] : [problem(item, first)];
  });
}

/** What one spec's fields say together: unique services and destinations, one primary group per user. */
function crossFieldProblems(spec: Omit<EndpointSpec, 'workspace'>): string[] {
  const at = (line: number) => `${spec.file}:${line}:`;
  const services = spec.services.map((s, i) => ({ ...s, line: spec.lines.services[i]?.name ?? 1 }));
  const files = spec.files.map((f, i) => ({ ...f, line: spec.lines.files[i]?.dest ?? 1 }));
  const envFiles = new Set(spec.services.map((s) => serviceEnvFile(spec.reqset, spec.name, s.name)));
  return [
    ...duplicates(services, (s) => s.name, (s, first) => `${at(s.line)} services.name: "${s.name}" is also the service at line ${first.line}: give each service its own name`),
    ...duplicates(
      services,
      (s) => s.user,
      (s, first) => (s.group ?? s.user) === (first.group ?? first.user) ? '' : `${at(s.line)} services.group: user "${s.user}" has group "${first.group ?? first.user}" at line ${first.line}: a user has one primary group: give both services the same group`,
    ).filter(Boolean),
    ...duplicates(files, (f) => f.dest, (f, first) => `${at(f.line)} files.dest: "${f.dest}" is also the destination at line ${first.line}: install each file once`),
    ...files.filter((f) => envFiles.has(f.dest)).map((f) => `${at(f.line)} files.dest: "${f.dest}" is a service's environment file, which the package makes: choose another destination`),
  ];
}

export function parseSpec(text: string, file: string, workspace = '.'): EndpointSpec {
  const yaml = readYamlFile(text, file);
  const spec = parseYamlWith(yaml, specSchema, FIELDS, 'invalid endpoint spec');
  const lines = {
    name: yaml.lineOf(['name']),
    distribution: yaml.lineOf(['distribution']),
    scripts: spec.scripts.map((_, i) => yaml.lineOf(['scripts', i])),
    services: spec.services.map((_, i) => ({ name: yaml.lineOf(['services', i, 'name']), exec: yaml.lineOf(['services', i, 'exec', 0]) })),
    files: spec.files.map((_, i) => ({ source: yaml.lineOf(['files', i, 'source']), dest: yaml.lineOf(['files', i, 'dest']) })),
  };
  const problems = crossFieldProblems({ ...spec, file, lines });
  if (problems.length) throw new InputError(`${file}: invalid endpoint spec`, problems);
  return { ...spec, file, lines, workspace };
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
      specs.push(parseSpec(await readFile(path.join(dir, entry), 'utf8'), file, path.resolve(workspace)));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(...(error.problems.length ? error.problems : [error.message]));
    }
  }
  if (problems.length) throw new InputError('invalid endpoint specs', problems);
  const mine = specs.filter((s) => s.reqset === reqset);
  problems.push(...sharedNameProblems(mine), ...(await Promise.all(mine.map(sourceProblems))).flat());
  if (problems.length) throw new InputError('invalid endpoint specs', problems);
  return mine;
}

/**
 * Names the endpoints of one reqset cannot share: the package name, a
 * service's unit and a configuration file's path are each one thing on the
 * target.
 */
function sharedNameProblems(specs: EndpointSpec[]): string[] {
  const named = (spec: EndpointSpec, line: number, value: string) => ({ spec, line, value });
  const endpoints = specs.map((s) => named(s, s.lines.name, s.name));
  const services = specs.flatMap((s) => s.services.map((service, i) => named(s, s.lines.services[i]?.name ?? 1, service.name)));
  const files = specs.flatMap((s) => s.files.map((f, i) => named(s, s.lines.files[i]?.dest ?? 1, f.dest)));
  const elsewhere = (item: { spec: EndpointSpec }, first: { spec: EndpointSpec }) => item.spec !== first.spec;
  const clash = (items: ReturnType<typeof named>[], field: string, what: (value: string) => string) =>
    duplicates(items, (item) => item.value, (item, first) =>
      elsewhere(item, first)
        ? `${item.spec.file}:${item.line}: ${field}: "${item.value}" is also the ${field} in ${first.spec.file}:${first.line}: ${what(item.value)}`
        : '',
    ).filter(Boolean);
  return [
    ...clash(endpoints, 'name', (name) => `both would be the package ${specs[0]?.reqset}-${name}: give each endpoint of a reqset its own name`),
    ...clash(services, 'services.name', (name) => `both would be the unit ${name}.service: give each service of a reqset its own name`),
    ...clash(files, 'files.dest', () => 'two packages cannot ship one file: choose another destination'),
  ];
}

/** Each `files:` source is a regular file inside the workspace. */
async function sourceProblems(spec: EndpointSpec): Promise<string[]> {
  const root = await realpath(spec.workspace);
  const problems = await Promise.all(
    spec.files.map(async (f, i) => {
      const where = `${spec.file}:${spec.lines.files[i]?.source ?? 1}: files.source:`;
      const real = await realpath(path.join(root, f.source)).catch(() => undefined);
      if (!real) return `${where} "${f.source}" does not exist in the workspace ${spec.workspace}: create it or fix the path`;
      if (!real.startsWith(`${root}${path.sep}`)) return `${where} "${f.source}" leads outside the workspace (through a symbolic link): give a file inside it`;
      if (!(await stat(real)).isFile()) return `${where} "${f.source}" is not a regular file: give a file`;
      return undefined;
    }),
  );
  return problems.filter((p): p is string => p !== undefined);
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
  const has = facts.consoleScripts.length ? `its console scripts are ${facts.consoleScripts.join(', ')}` : 'it has no console scripts';
  const notAScript = (script: string) => `"${script}" is not a console script of ${facts.name} ${facts.version} (${has})`;
  spec.scripts.forEach((script, i) => {
    if (!facts.consoleScripts.includes(script)) problems.push(`${spec.file}:${spec.lines.scripts[i]}: scripts: ${notAScript(script)}`);
  });
  spec.services.forEach((service, i) => {
    const script = service.exec[0] as string;
    if (!facts.consoleScripts.includes(script)) problems.push(`${spec.file}:${spec.lines.services[i]?.exec}: services.exec: ${notAScript(script)}`);
  });
  return problems;
}
