/**
 * prestodelta.xml: the repodata record that tells dnf (libdnf's drpm support)
 * which delta RPMs exist. createrepo_c 1.0.2+ no longer writes it, so reqset
 * does, in the same shape createrepo_c's --deltas wrote:
 *
 *   <prestodelta>
 *     <newpackage name= epoch= version= release= arch=>
 *       <delta oldepoch= oldversion= oldrelease=>
 *         <filename>drpms/….drpm</filename>       (relative to the repository root)
 *         <sequence>…</sequence>                 (makedeltarpm -s: old NEVR + hex id)
 *         <size>…</size>
 *         <checksum type="sha256">…</checksum>
 *       </delta>
 *     </newpackage>
 *   </prestodelta>
 *
 * Pure functions: generation and the parser reqset uses to reuse the deltas
 * of an earlier publish.
 */

export interface Evr {
  epoch: string;
  version: string;
  release: string;
}

export interface PrestoDelta {
  old: Evr;
  /** Relative to the repository root, e.g. `drpms/foo-1.0-1_1.1-1.noarch.drpm`. */
  filename: string;
  sequence: string;
  size: number;
  sha256: string;
}

export interface PrestoPackage extends Evr {
  name: string;
  arch: string;
  deltas: PrestoDelta[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export const xmlEscape = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
export const xmlUnescape = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (whole, name: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[name] ?? whole;
  });

/** `V-R`, with `E:` in front when the epoch is not 0 (as rpm -q prints it). */
export function formatEvr(evr: Evr): string {
  return `${evr.epoch && evr.epoch !== '0' ? `${evr.epoch}:` : ''}${evr.version}-${evr.release}`;
}

/** createrepo_c's naming, `name-OLDV-OLDR_NEWV-NEWR.arch.drpm`, plus epochs when not 0. */
export function drpmFileName(name: string, arch: string, oldEvr: Evr, newEvr: Evr): string {
  return `${name}-${formatEvr(oldEvr)}_${formatEvr(newEvr)}.${arch}.drpm`;
}

export function prestodeltaXml(packages: readonly PrestoPackage[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<prestodelta>'];
  const sorted = [...packages].sort((a, b) => (a.name === b.name ? (a.arch < b.arch ? -1 : 1) : a.name < b.name ? -1 : 1));
  for (const pkg of sorted) {
    if (pkg.deltas.length === 0) continue;
    const attrs = `name="${xmlEscape(pkg.name)}" epoch="${xmlEscape(pkg.epoch)}" version="${xmlEscape(pkg.version)}" release="${xmlEscape(pkg.release)}" arch="${xmlEscape(pkg.arch)}"`;
    lines.push(`  <newpackage ${attrs}>`);
    for (const delta of pkg.deltas) {
      lines.push(
        `    <delta oldepoch="${xmlEscape(delta.old.epoch)}" oldversion="${xmlEscape(delta.old.version)}" oldrelease="${xmlEscape(delta.old.release)}">`,
        `      <filename>${xmlEscape(delta.filename)}</filename>`,
        `      <sequence>${xmlEscape(delta.sequence)}</sequence>`,
        `      <size>${delta.size}</size>`,
        `      <checksum type="sha256">${xmlEscape(delta.sha256)}</checksum>`,
        '    </delta>',
      );
    }
    lines.push('  </newpackage>');
  }
  lines.push('</prestodelta>', '');
  return lines.join('\n');
}

function attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of tag.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attrs.set(m[1] as string, xmlUnescape(m[2] ?? m[3] ?? ''));
  }
  return attrs;
}

function element(body: string, name: string): { attrs: Map<string, string>; text: string } | undefined {
  const m = new RegExp(`<${name}(\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(body);
  if (!m) return undefined;
  return { attrs: attributes(m[1] ?? ''), text: xmlUnescape((m[2] ?? '').trim()) };
}

/** Reads what prestodeltaXml (or createrepo_c) wrote; entries that lack a field are skipped. */
export function parsePrestodelta(xml: string): PrestoPackage[] {
  const packages: PrestoPackage[] = [];
  for (const m of xml.matchAll(/<newpackage(\s[^>]*)>([\s\S]*?)<\/newpackage>/g)) {
    const a = attributes(m[1] ?? '');
    const pkg: PrestoPackage = {
      name: a.get('name') ?? '',
      epoch: a.get('epoch') ?? '0',
      version: a.get('version') ?? '',
      release: a.get('release') ?? '',
      arch: a.get('arch') ?? '',
      deltas: [],
    };
    for (const d of (m[2] ?? '').matchAll(/<delta(\s[^>]*)>([\s\S]*?)<\/delta>/g)) {
      const da = attributes(d[1] ?? '');
      const body = d[2] ?? '';
      const filename = element(body, 'filename')?.text;
      const sequence = element(body, 'sequence')?.text;
      const size = Number(element(body, 'size')?.text);
      const checksum = element(body, 'checksum');
      if (!filename || !sequence || !Number.isFinite(size) || !checksum || checksum.attrs.get('type') !== 'sha256') continue;
      pkg.deltas.push({
        old: { epoch: da.get('oldepoch') ?? '0', version: da.get('oldversion') ?? '', release: da.get('oldrelease') ?? '' },
        filename,
        sequence,
        size,
        sha256: checksum.text,
      });
    }
    if (pkg.name && pkg.version && pkg.release && pkg.arch) packages.push(pkg);
  }
  return packages;
}
