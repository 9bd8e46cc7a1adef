/**
 * Which versions of a package stay in a repository: the newest and the `keep`
 * versions before it. The order itself is the package manager's (rpm's own
 * rpm.vercmp; dpkg's, computed by the Debian packager): this file only
 * decides given that order.
 */

export interface Versioned {
  name: string;
  /** The version string the package manager compares (`E:V-R` for rpm). */
  versionKey: string;
}

export interface Selection<T> {
  /** The packages of the newest version (one per architecture). */
  newest: T[];
  /** Kept older packages, newest version first. */
  older: T[];
  /** Older than the kept versions: removed from the repository. */
  pruned: T[];
}

/**
 * @param rank the position of every version of `items` in the package
 *   manager's order, oldest 0; versions it considers equal share a rank and
 *   ranks are dense (see `rankVersions`).
 */
export function selectKept<T extends Versioned>(items: readonly T[], rank: ReadonlyMap<string, number>, keep: number): Selection<T> {
  if (!Number.isInteger(keep) || keep < 0) throw new Error(`keep must be a non-negative integer, got ${keep}`);
  const rankOf = (item: T) => {
    const r = rank.get(item.versionKey);
    if (r === undefined) throw new Error(`version ${item.versionKey} of ${item.name} missing from the order`);
    return r;
  };
  const newestRank = Math.max(-1, ...items.map(rankOf));
  const byRankDesc = [...items].sort((a, b) => rankOf(b) - rankOf(a));
  const selection: Selection<T> = { newest: [], older: [], pruned: [] };
  for (const item of byRankDesc) {
    const r = rankOf(item);
    if (r === newestRank) selection.newest.push(item);
    else if (newestRank - r <= keep) selection.older.push(item);
    else selection.pruned.push(item);
  }
  return selection;
}

/** Dense ranks from versions sorted oldest first, equal versions grouped: [["1"], ["2", "2.0"]] -> 1:0, 2:1, 2.0:1. */
export function ranksOf(ascending: readonly (readonly string[])[]): Map<string, number> {
  const rank = new Map<string, number>();
  ascending.forEach((equal, i) => {
    for (const v of equal) rank.set(v, i);
  });
  return rank;
}

/** Groups by package name, names sorted. */
export function groupByName<T extends Versioned>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const group = groups.get(item.name);
    if (group) group.push(item);
    else groups.set(item.name, [item]);
  }
  return groups;
}

/**
 * Sorts versions oldest first by `compare`, keeping versions that compare
 * equal (dpkg: "1.0-1" and "1.0-01") in one group.
 */
export function sortVersions(versions: Iterable<string>, compare: (a: string, b: string) => number): string[][] {
  const sorted: string[][] = [];
  for (const version of new Set(versions)) {
    let lo = 0;
    let hi = sorted.length;
    let equalGroup: string[] | undefined;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const group = sorted[mid] as string[];
      const c = compare(version, group[0] as string);
      if (c === 0) {
        equalGroup = group;
        break;
      }
      if (c < 0) hi = mid;
      else lo = mid + 1;
    }
    if (equalGroup) equalGroup.push(version);
    else sorted.splice(lo, 0, [version]);
  }
  return sorted;
}
