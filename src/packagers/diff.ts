/**
 * What changed between a reqset's last published revision (the repository
 * history) and a new build: pins added, removed, upgraded and downgraded, and
 * each package whose version changed with the inputs that made it change.
 * Pure: `reqset diff` and the tests give it a build's packages and a history.
 */
import pep440 from '@renovatebot/pep440';
import type { BuiltPackage } from './build.ts';
import type { HistoryEntry, VersionReason } from './history.ts';
import { wheelPackageName } from './plan.ts';

/** A package of the new build, as the manifest records it. */
export type BuiltVersion = Pick<BuiltPackage, 'name' | 'pep440' | 'epoch' | 'release' | 'reason' | 'sources'>;

export interface PinChange {
  name: string;
  change: 'added' | 'removed' | 'upgraded' | 'downgraded';
  from?: string;
  to?: string;
}

export interface PackageChange {
  name: string;
  from?: string;
  to?: string;
  reason: VersionReason | 'removed';
  /** Which inputs differ from the published package's. */
  why: string[];
}

export interface RevisionDiff {
  pins: PinChange[];
  packages: PackageChange[];
  unchanged: string[];
}

/** Names for the inputs of build.ts packageInputs. */
const SOURCE_NAMES: Record<string, string> = {
  wheel: 'wheel changed',
  compiledAgainst: 'build requirement changed',
  tool: 'reqset version changed',
  plan: 'requires or metadata changed',
  target: 'target changed',
  layout: 'layout changed',
  helper: 'runtime helper changed',
  pins: 'pins changed',
  sourceDateEpoch: 'SOURCE_DATE_EPOCH changed',
  format: 'format changed',
  // The runtime package's SBOM names every package of the set.
  sbom: 'SBOM changed',
};

const show = (v: { pep440: string; epoch: number; release: string }) => `${v.epoch > 0 ? `${v.epoch}:` : ''}${v.pep440}-${v.release}`;

function changedSources(now: Record<string, string>, before: Record<string, string> | undefined): string[] {
  if (!before) return ['inputs changed (the published package records no details)'];
  const keys = [...new Set([...Object.keys(now), ...Object.keys(before)])].filter((k) => now[k] !== before[k]);
  // The plan holds the requires: it changes with a build requirement, which says more.
  const named = keys.filter((k) => !(k === 'plan' && keys.includes('compiledAgainst'))).map((k) => SOURCE_NAMES[k] ?? `${k} changed`);
  return [...new Set(named)];
}

function whyChanged(now: BuiltVersion, old: HistoryEntry | undefined): string[] {
  if (!old) return ['new package'];
  const named = changedSources(now.sources, old.sources);
  // The same inputs at a published version, made again because they came out as other bytes (history.ts decideNewBytes).
  return named.length === 0 && now.reason === 'new bytes' ? ['the same inputs came out as other bytes than the published file'] : named;
}

function pinChanges(reqset: string, pins: { key: string; version: string }[], previous: ReadonlyMap<string, HistoryEntry>): PinChange[] {
  const prefix = wheelPackageName(reqset, '');
  const before = new Map([...previous].filter(([name]) => name.startsWith(prefix)).map(([name, e]) => [name.slice(prefix.length), e.pep440]));
  const changes: PinChange[] = [];
  for (const pin of pins) {
    const old = before.get(pin.key);
    if (old === undefined) changes.push({ name: pin.key, change: 'added', to: pin.version });
    else if (pep440.compare(pin.version, old) !== 0) changes.push({ name: pin.key, change: pep440.compare(pin.version, old) > 0 ? 'upgraded' : 'downgraded', from: old, to: pin.version });
  }
  const now = new Set(pins.map((p) => p.key));
  for (const [key, version] of before) if (!now.has(key)) changes.push({ name: key, change: 'removed', from: version });
  return changes.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export function diffRevision(reqset: string, pins: { key: string; version: string }[], packages: BuiltVersion[], previous: ReadonlyMap<string, HistoryEntry>): RevisionDiff {
  const changed: PackageChange[] = [];
  const unchanged: string[] = [];
  for (const p of packages) {
    const old = previous.get(p.name);
    if (old && old.epoch === p.epoch && old.release === p.release && pep440.compare(old.pep440, p.pep440) === 0) unchanged.push(p.name);
    else changed.push({ name: p.name, from: old && show(old), to: show(p), reason: p.reason, why: whyChanged(p, old) });
  }
  const now = new Set(packages.map((p) => p.name));
  for (const [name, old] of previous) if (!now.has(name)) changed.push({ name, from: show(old), reason: 'removed', why: [] });
  return { pins: pinChanges(reqset, pins, previous), packages: changed.sort((a, b) => (a.name < b.name ? -1 : 1)), unchanged: unchanged.sort() };
}

export function formatDiff(diff: RevisionDiff): string {
  const lines: string[] = [];
  lines.push(diff.pins.length ? 'pins:' : 'pins: no change');
  for (const p of diff.pins) lines.push(`  ${p.change.padEnd(10)} ${p.name} ${[p.from, p.to].filter(Boolean).join(' -> ')}`);
  lines.push(diff.packages.length ? 'packages:' : 'packages: no change');
  for (const p of diff.packages) {
    lines.push(`  ${p.name} ${p.from ?? '(new)'} -> ${p.to ?? '(removed)'}  ${p.reason}${p.why.length ? `: ${p.why.join(', ')}` : ''}`);
  }
  lines.push(`unchanged: ${diff.unchanged.length} package${diff.unchanged.length === 1 ? '' : 's'}`);
  return `${lines.join('\n')}\n`;
}
