/**
 * Reading the yum/dnf repodata that createrepo_c wrote (repomd.xml and
 * primary.xml): what the repository currently publishes. Pure parsers.
 */
import { xmlUnescape } from './prestodelta.ts';

export interface RepomdRecord {
  type: string;
  /** Relative to the repository root, e.g. `repodata/<sha256>-primary.xml.gz`. */
  href: string;
  checksum: { type: string; value: string };
  openChecksum?: { type: string; value: string };
  size?: number;
  openSize?: number;
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(tag);
  return m ? xmlUnescape(m[1] ?? '') : undefined;
}

export function parseRepomd(xml: string): RepomdRecord[] {
  const records: RepomdRecord[] = [];
  for (const m of xml.matchAll(/<data(\s[^>]*)>([\s\S]*?)<\/data>/g)) {
    const type = attr(m[1] ?? '', 'type');
    const body = m[2] ?? '';
    const location = /<location(\s[^>]*)\/?>/.exec(body);
    const href = location ? attr(location[1] ?? '', 'href') : undefined;
    const checksum = /<checksum(\s[^>]*)>([^<]*)<\/checksum>/.exec(body);
    if (!type || !href || !checksum) continue;
    const open = /<open-checksum(\s[^>]*)>([^<]*)<\/open-checksum>/.exec(body);
    const size = /<size>(\d+)<\/size>/.exec(body);
    const openSize = /<open-size>(\d+)<\/open-size>/.exec(body);
    records.push({
      type,
      href,
      checksum: { type: attr(checksum[1] ?? '', 'type') ?? '', value: (checksum[2] ?? '').trim() },
      ...(open ? { openChecksum: { type: attr(open[1] ?? '', 'type') ?? '', value: (open[2] ?? '').trim() } } : {}),
      ...(size ? { size: Number(size[1]) } : {}),
      ...(openSize ? { openSize: Number(openSize[1]) } : {}),
    });
  }
  return records;
}

export interface PrimaryPackage {
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  /** sha256 of the package file (createrepo_c's pkgid). */
  sha256: string;
  href: string;
  /** File mtime (seconds) and size when createrepo_c read it. */
  fileTime: number;
  size: number;
}

function text(body: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(body);
  return m ? xmlUnescape((m[1] ?? '').trim()) : undefined;
}

function tagAttrs(body: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(\\s[^>]*?)/?>`).exec(body);
  return m?.[1];
}

export function parsePrimary(xml: string): PrimaryPackage[] {
  const packages: PrimaryPackage[] = [];
  for (const m of xml.matchAll(/<package\s[^>]*type="rpm"[^>]*>([\s\S]*?)<\/package>/g)) {
    const body = m[1] ?? '';
    const version = tagAttrs(body, 'version') ?? '';
    const location = tagAttrs(body, 'location') ?? '';
    const time = tagAttrs(body, 'time') ?? '';
    const size = tagAttrs(body, 'size') ?? '';
    const checksum = /<checksum\s[^>]*type="sha256"[^>]*>([0-9a-f]+)<\/checksum>/.exec(body);
    const pkg: PrimaryPackage = {
      name: text(body, 'name') ?? '',
      arch: text(body, 'arch') ?? '',
      epoch: attr(version, 'epoch') ?? '0',
      version: attr(version, 'ver') ?? '',
      release: attr(version, 'rel') ?? '',
      sha256: checksum?.[1] ?? '',
      href: attr(location, 'href') ?? '',
      fileTime: Number(attr(time, 'file') ?? NaN),
      size: Number(attr(size, 'package') ?? NaN),
    };
    if (pkg.name && pkg.href && pkg.sha256) packages.push(pkg);
  }
  return packages;
}
