/**
 * Version order as the package managers order: rpm's Lua rpm.vercmp (one
 * `rpm --eval` sorts many groups) and dpkg's, computed in-process by the
 * Debian packager (the one definition, which its shared-library relations
 * use too; test/integration/publish-versions.test.ts holds it to
 * `dpkg --compare-versions`).
 */
import { ToolError } from '../errors.ts';
import { debianVersionOrder } from '../packagers/index.ts';
import { run } from '../run.ts';
import { sortVersions } from './keep.ts';

/** `E:V-R` as rpm.vercmp parses it; nothing that could break out of a Lua string. */
const RPM_EVR = /^\d+:[A-Za-z0-9._+~^]+-[A-Za-z0-9._+~^]+$/;

/** Stays well below Linux's 128 KiB limit for one argument. */
const MAX_LUA_CHARS = 60_000;

function luaSortProgram(groups: readonly (readonly string[])[]): string {
  const list = groups.map((g) => `{${g.map((v) => `"${v}"`).join(',')}}`).join(',');
  // Sort each group, then print it with equal neighbours joined by "|", groups one per line.
  return (
    `%{lua: local gs = {${list}} ` +
    'for _, g in ipairs(gs) do ' +
    'table.sort(g, function(a, b) return rpm.vercmp(a, b) < 0 end) ' +
    'local out = g[1] ' +
    'for i = 2, #g do if rpm.vercmp(g[i - 1], g[i]) == 0 then out = out .. "|" .. g[i] else out = out .. " " .. g[i] end end ' +
    'print(out .. "\\n") end}'
  );
}

/**
 * Each group of `E:V-R` strings sorted oldest first by rpm.vercmp, versions
 * rpm considers equal grouped together.
 */
export async function rpmSortGroups(groups: readonly (readonly string[])[]): Promise<string[][][]> {
  const result: string[][][] = groups.map((g) => (g.length ? [[...new Set(g)].slice(0, 1)] : []));
  const pending: number[] = [];
  for (const [i, g] of groups.entries()) {
    for (const v of g) {
      if (!RPM_EVR.test(v)) throw new ToolError(`cannot order rpm version ${JSON.stringify(v)}: not an E:V-R string`);
    }
    if (new Set(g).size > 1) pending.push(i);
  }
  while (pending.length) {
    const batch: number[] = [];
    let chars = 0;
    while (pending.length && (batch.length === 0 || chars < MAX_LUA_CHARS)) {
      const i = pending.shift() as number;
      batch.push(i);
      chars += (groups[i] ?? []).reduce((n, v) => n + v.length + 3, 2);
    }
    const program = luaSortProgram(batch.map((i) => [...new Set(groups[i] ?? [])]));
    const { stdout } = await run(['rpm', '--eval', program]);
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    if (lines.length !== batch.length) throw new ToolError(`rpm --eval printed ${lines.length} sorted groups for ${batch.length}: ${stdout.slice(0, 200)}`);
    batch.forEach((groupIndex, k) => {
      result[groupIndex] = (lines[k] as string).trim().split(' ').map((equal) => equal.split('|').sort());
    });
  }
  return result;
}

/** Debian versions sorted oldest first in dpkg's order, versions dpkg considers equal (`1.0-1`, `1.0-01`) grouped. */
export async function dpkgSort(versions: Iterable<string>): Promise<string[][]> {
  const { compare, isValid } = await debianVersionOrder();
  const list = [...versions];
  for (const v of list) {
    if (!isValid(v)) throw new ToolError(`cannot order Debian version ${JSON.stringify(v)}: not a valid Debian version`);
  }
  return sortVersions(list, compare);
}
