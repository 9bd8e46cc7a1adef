/**
 * What a publish did, as plain JSON-serialisable data (the CLI prints it with
 * --json), and the human table printed otherwise. Pure: no I/O here.
 */
import { formatDiff, type RevisionDiff } from '../packagers/diff.ts';

export interface PublishedFile {
  name: string;
  /** `[E:]V-R` for rpm, the Debian version for deb. */
  version: string;
  arch: string;
  /** Path relative to the repository root. */
  file: string;
  size: number;
}

export interface DeltaReport {
  /** The older version the delta applies to. */
  fromVersion: string;
  /** Path of the delta RPM relative to the repository root. */
  file: string;
  size: number;
  /** size / full size of the new package. */
  ratio: number;
  /** false when the delta was already in the repository (made by an earlier publish). */
  created: boolean;
}

export interface UpgradedPackage {
  name: string;
  arch: string;
  /** Versions of this package that were in the repository before, newest first. */
  oldVersions: string[];
  newVersion: string;
  file: string;
  fullSize: number;
  /** Verified deltas from the kept older versions to the new one, newest old version first. */
  deltas: DeltaReport[];
}

export interface PublishReport {
  format: 'rpm' | 'deb';
  reqset: string;
  target: string;
  repo: string;
  /** false: the repository already had exactly this content; nothing was written. */
  changed: boolean;
  signed: boolean;
  /** How many older versions of each package are kept next to the newest. */
  keep: number;
  /** Package files added to the repository (new names and upgrades). */
  added: PublishedFile[];
  /** Packages whose newest version was added by this publish while an older one was there. */
  upgraded: UpgradedPackage[];
  /** Package files removed because more than `keep` older versions were present. */
  pruned: PublishedFile[];
  /** What this revision changed against the reqset's previous one (pins and packages, and why). */
  revision?: RevisionDiff;
  warnings: string[];
  totals: {
    upgraded: number;
    /** Sum of the full sizes of the upgraded packages. */
    fullSize: number;
    /**
     * What a machine one version behind downloads: for each upgraded package
     * the delta from the previous version, or the full package without one.
     */
    updateSize: number;
    /** updateSize / fullSize (1 when nothing was upgraded). */
    ratio: number;
    /** Deltas listed in the repository's metadata for the upgraded packages. */
    deltas: number;
  };
}

export function totalsOf(upgraded: UpgradedPackage[]): PublishReport['totals'] {
  let fullSize = 0;
  let updateSize = 0;
  let deltas = 0;
  for (const pkg of upgraded) {
    fullSize += pkg.fullSize;
    const previous = pkg.oldVersions[0];
    const delta = pkg.deltas.find((d) => d.fromVersion === previous);
    updateSize += delta ? delta.size : pkg.fullSize;
    deltas += pkg.deltas.length;
  }
  return { upgraded: upgraded.length, fullSize, updateSize, ratio: fullSize ? updateSize / fullSize : 1, deltas };
}

/** 1536 -> "1.5 KiB"; bytes below 1 KiB stay exact. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function formatRatio(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The human summary: one row per upgraded package and delta, then the total. */
export function formatReport(report: PublishReport): string {
  const kind = report.format === 'rpm' ? 'rpm' : 'apt';
  const what = `${report.reqset} (${report.target})`;
  const out: string[] = [];
  if (!report.changed) {
    out.push(`${kind} repository ${report.repo}: unchanged, the packages of ${what} are already published`);
  } else {
    const parts = [`${plural(report.added.length, 'package')} added`, `${report.upgraded.length} upgraded`, `${report.pruned.length} pruned`];
    if (report.format === 'rpm') parts.push(plural(report.totals.deltas, 'delta'));
    out.push(`${kind} repository ${report.repo}: published ${what}: ${parts.join(', ')}${report.signed ? ', signed' : ''}`);
  }
  if (report.upgraded.length && report.format === 'deb') {
    // apt has no deltas: a machine downloads every upgraded package in full.
    const rows = report.upgraded.map((pkg) => [pkg.name, pkg.oldVersions[0] ?? '', pkg.newVersion, formatSize(pkg.fullSize)]);
    rows.push([`total (${plural(report.totals.upgraded, 'package')})`, '', '', formatSize(report.totals.fullSize)]);
    out.push('', ...table(['package', 'from', 'to', 'size'], rows, new Set([3])));
  } else if (report.upgraded.length) {
    const rows: string[][] = [];
    for (const pkg of report.upgraded) {
      const first = [pkg.name, pkg.oldVersions[0] ?? '', pkg.newVersion, formatSize(pkg.fullSize)];
      if (pkg.deltas.length === 0) {
        rows.push([...first, '-', '-']);
        continue;
      }
      pkg.deltas.forEach((delta, i) => {
        const lead = i === 0 ? first : ['', '', '', ''];
        lead[1] = delta.fromVersion;
        rows.push([...lead, formatSize(delta.size), formatRatio(delta.ratio)]);
      });
    }
    const t = report.totals;
    rows.push([`total (${plural(t.upgraded, 'package')}, one version behind)`, '', '', formatSize(t.fullSize), formatSize(t.updateSize), formatRatio(t.ratio)]);
    out.push('', ...table(['package', 'from', 'to', 'full', 'delta', 'ratio'], rows, new Set([3, 4, 5])));
  }
  if (report.revision && report.changed) out.push('', `revision of ${report.reqset}:`, ...formatDiff(report.revision).trimEnd().split('\n').map((l) => `  ${l}`));
  if (report.pruned.length) out.push('', `pruned (more than ${report.keep} older ${report.keep === 1 ? 'version' : 'versions'} kept): ${report.pruned.map((p) => `${p.name}-${p.version}`).join(', ')}`);
  for (const warning of report.warnings) out.push(`warning: ${warning}`);
  return `${out.join('\n')}\n`;
}
