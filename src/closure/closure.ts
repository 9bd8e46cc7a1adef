/**
 * The closure check: every Requires-Dist of every wheel (markers evaluated for
 * the target, extras honoured) is satisfied by a pin, and every wheel can be
 * installed on the target. Pure: it works on facts read from the wheels.
 */
import pep440 from '@renovatebot/pep440';
import { evaluateMarker, type MarkerEnvironment } from '../python/markers.ts';
import { parseRequirement, RequirementSyntaxError, type Requirement } from '../python/requirement.ts';
import { incompatibility, type TagTarget } from '../python/tags.ts';
import type { Pin } from '../reqset/load.ts';
import type { WheelFacts } from '../wheels/facts.ts';

export interface ClosureTarget {
  name: string;
  env: MarkerEnvironment;
  tags: TagTarget;
}

export type ProblemKind = 'missing' | 'version' | 'python' | 'platform' | 'metadata';

export interface ClosureProblem {
  kind: ProblemKind;
  /** The distribution whose wheel or requirement is at fault. */
  distribution: string;
  /** For missing/version: who requires it. */
  requiredBy?: string;
  requirement?: string;
  message: string;
}

export interface Dependency {
  key: string;
  /** The requirement as written in the wheel's metadata. */
  requirement: string;
  /** Its PEP 440 specifier, comma-separated ('' for any version); several requirements of one name are joined. */
  specifier: string;
}

export interface Closure {
  /** Keys of the distributions reached, in a stable order. */
  keys: string[];
  /** Extras requested of each distribution. */
  extras: Map<string, Set<string>>;
  /** Applicable dependencies of each distribution (markers and extras evaluated). */
  dependencies: Map<string, Dependency[]>;
}

interface ParsedFacts {
  facts: WheelFacts;
  requirements: Requirement[];
}

function parseAll(wheels: Map<string, WheelFacts>, problems: ClosureProblem[]): Map<string, ParsedFacts> {
  const parsed = new Map<string, ParsedFacts>();
  for (const [key, facts] of wheels) {
    const requirements: Requirement[] = [];
    for (const text of facts.requiresDist) {
      try {
        requirements.push(parseRequirement(text));
      } catch (error) {
        if (!(error instanceof RequirementSyntaxError)) throw error;
        problems.push({ kind: 'metadata', distribution: key, message: `${facts.name.filename}: unreadable Requires-Dist ${JSON.stringify(text)}: ${error.message}` });
      }
    }
    parsed.set(key, { facts, requirements });
  }
  return parsed;
}

/**
 * Walks from the roots through the dependencies that apply on the target.
 * Extras propagate: `a` requiring `b[x]` turns on b's `extra == "x"` lines.
 */
export function computeClosure(roots: { key: string; extras: string[] }[], wheels: Map<string, WheelFacts>, env: MarkerEnvironment): Closure {
  const parsed = parseAll(wheels, []);
  const extras = new Map<string, Set<string>>();
  const dependencies = new Map<string, Dependency[]>();
  const queue: string[] = [];
  const request = (key: string, wanted: Iterable<string>) => {
    let set = extras.get(key);
    const fresh = !set;
    if (!set) extras.set(key, (set = new Set()));
    let grew = false;
    for (const e of wanted) if (!set.has(e)) (set.add(e), (grew = true));
    if (fresh || grew) queue.push(key);
  };
  for (const root of roots) request(root.key, root.extras);
  while (queue.length) {
    const key = queue.shift() as string;
    const entry = parsed.get(key);
    if (!entry) continue;
    const active = extras.get(key) ?? new Set<string>();
    const deps = entry.requirements
      .filter((r) => !r.marker || evaluateMarker(r.marker, env, active))
      .map((r) => ({ requirement: r, dep: { key: r.key, requirement: requirementText(r), specifier: r.specifier } }));
    dependencies.set(key, uniqueDeps(deps.map((d) => d.dep)));
    for (const { requirement } of deps) request(requirement.key, requirement.extras);
  }
  return { keys: [...extras.keys()].sort(), extras, dependencies };
}

function requirementText(r: Requirement): string {
  return `${r.name}${r.extras.length ? `[${r.extras.join(',')}]` : ''}${r.specifier}`;
}

function uniqueDeps(deps: Dependency[]): Dependency[] {
  const seen = new Map<string, Dependency>();
  for (const d of deps) {
    const earlier = seen.get(d.key);
    const specifier = [earlier?.specifier, d.specifier].filter(Boolean).join(',');
    seen.set(d.key, earlier ? { key: d.key, requirement: `${earlier.requirement}, ${d.requirement}`, specifier } : d);
  }
  return [...seen.values()];
}

/** Every violation of the reqset on the target, at once. */
export function checkClosure(pins: Pin[], wheels: Map<string, WheelFacts>, target: ClosureTarget): ClosureProblem[] {
  const problems: ClosureProblem[] = [];
  const parsed = parseAll(wheels, problems);
  const pinByKey = new Map(pins.map((p) => [p.key, p]));
  const label = (key: string) => {
    const pin = pinByKey.get(key);
    return pin ? `${pin.name}==${pin.version}` : key;
  };

  for (const pin of pins) {
    const entry = parsed.get(pin.key);
    if (!entry) continue;
    const { facts } = entry;
    if (!pep440.eq(facts.metadataVersion, pin.version)) {
      problems.push({ kind: 'metadata', distribution: pin.key, message: `${label(pin.key)} (${pin.source}): ${facts.name.filename} contains version ${facts.metadataVersion}` });
    }
    const why = incompatibility(facts.name, target.tags);
    if (why) {
      problems.push({ kind: 'platform', distribution: pin.key, message: `${label(pin.key)}: ${facts.name.filename} cannot be installed on ${target.name}: ${why}` });
    }
    if (facts.requiresPython && !pep440.satisfies(target.env.python_full_version, facts.requiresPython, { prereleases: true })) {
      problems.push({
        kind: 'python',
        distribution: pin.key,
        message: `${label(pin.key)} requires Python ${facts.requiresPython} (Requires-Python); ${target.name} has Python ${target.env.python_full_version}`,
      });
    }
  }

  const closure = computeClosure(pins.map((p) => ({ key: p.key, extras: p.extras })), wheels, target.env);
  for (const [key, deps] of closure.dependencies) {
    const requirements = parsed.get(key)?.requirements ?? [];
    for (const dep of deps) {
      const pin = pinByKey.get(dep.key);
      const written = requirements.filter((r) => r.key === dep.key);
      const name = written[0]?.name ?? dep.key;
      if (!pin) {
        problems.push({
          kind: 'missing',
          distribution: dep.key,
          requiredBy: key,
          requirement: dep.requirement,
          message: `${label(key)} requires ${dep.requirement}, but ${dep.key} is not pinned: add "${name}==<version>" to the pin list`,
        });
        continue;
      }
      for (const r of written) {
        if (r.specifier && (!r.marker || evaluateMarker(r.marker, target.env, closure.extras.get(key))) && !pep440.satisfies(pin.version, r.specifier, { prereleases: true })) {
          problems.push({
            kind: 'version',
            distribution: dep.key,
            requiredBy: key,
            requirement: requirementText(r),
            message: `${label(key)} requires ${requirementText(r)}, but ${pin.source} pins ${pin.name}==${pin.version}`,
          });
        }
      }
    }
  }
  return problems;
}
