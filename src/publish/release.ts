/**
 * The text formats of an apt repository: Packages stanzas and the Release
 * file (deb822 paragraphs). Pure functions, tested with golden strings.
 */

export interface IndexFile {
  /** Relative to `dists/<suite>/`, e.g. `main/binary-amd64/Packages.gz`. */
  path: string;
  size: number;
  md5: string;
  sha256: string;
}

export interface ReleaseInput {
  origin: string;
  label: string;
  suite: string;
  codename: string;
  date: Date;
  architectures: string[];
  components: string[];
  description?: string;
  files: IndexFile[];
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 2822 in UTC, as Debian's archive writes it: `Mon, 23 Nov 2026 04:58:21 UTC`. */
export function releaseDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC`;
}

export function releaseFile(input: ReleaseInput): string {
  const files = [...input.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const width = Math.max(0, ...files.map((f) => String(f.size).length));
  const section = (hash: 'md5' | 'sha256') => files.map((f) => ` ${f[hash]} ${String(f.size).padStart(width)} ${f.path}`);
  return [
    `Origin: ${input.origin}`,
    `Label: ${input.label}`,
    `Suite: ${input.suite}`,
    `Codename: ${input.codename}`,
    `Date: ${releaseDate(input.date)}`,
    `Architectures: ${[...input.architectures].sort().join(' ')}`,
    `Components: ${input.components.join(' ')}`,
    ...(input.description ? [`Description: ${input.description}`] : []),
    'Acquire-By-Hash: yes',
    'MD5Sum:',
    ...section('md5'),
    'SHA256:',
    ...section('sha256'),
    '',
  ].join('\n');
}

/** The SHA256 section of a Release (or InRelease) file: path -> {sha256, size}. */
export function releaseHashes(text: string): Map<string, { sha256: string; size: number }> {
  const result = new Map<string, { sha256: string; size: number }>();
  let inSection = false;
  for (const line of text.split('\n')) {
    if (/^SHA256:\s*$/.test(line)) {
      inSection = true;
      continue;
    }
    if (!inSection) continue;
    const m = /^\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) {
      if (!/^\s/.test(line)) inSection = false;
      continue;
    }
    result.set(m[3] as string, { sha256: m[1] as string, size: Number(m[2]) });
  }
  return result;
}

/** One deb822 paragraph: fields in order, continuation lines kept verbatim. */
export interface Stanza {
  fields: [string, string][];
}

export function parseStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: [string, string][] = [];
  const flush = () => {
    if (current.length) stanzas.push({ fields: current });
    current = [];
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (/^[ \t]/.test(line)) {
      const last = current[current.length - 1];
      if (last) last[1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  flush();
  return stanzas;
}

export function field(stanza: Stanza, name: string): string | undefined {
  const lower = name.toLowerCase();
  return stanza.fields.find(([k]) => k.toLowerCase() === lower)?.[1];
}

export function formatStanza(stanza: Stanza): string {
  return `${stanza.fields.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
}

/** Fields apt-ftparchive and dpkg-scanpackages add; replaced if the control file had them. */
const FILE_FIELDS = new Set(['filename', 'size', 'md5sum', 'sha1', 'sha256', 'sha512']);

/**
 * The Packages stanza of a .deb: its control fields, with Filename, Size and
 * hashes inserted before Description (where dpkg-scanpackages puts them).
 */
export function packageStanza(control: string, file: { filename: string; size: number; md5: string; sha256: string }): Stanza {
  const parsed = parseStanzas(control)[0];
  if (!parsed) throw new Error('empty control file');
  const fields = parsed.fields.filter(([k]) => !FILE_FIELDS.has(k.toLowerCase()));
  const fileFields: [string, string][] = [
    ['Filename', file.filename],
    ['Size', String(file.size)],
    ['MD5sum', file.md5],
    ['SHA256', file.sha256],
  ];
  const at = fields.findIndex(([k]) => k.toLowerCase() === 'description');
  fields.splice(at < 0 ? fields.length : at, 0, ...fileFields);
  return { fields };
}

/** `pool/<component>/<prefix>/<name>/`: prefix is the first letter, or `libX` for lib* names, as Debian does. */
export function poolDir(component: string, name: string): string {
  const prefix = name.startsWith('lib') && name.length > 3 ? name.slice(0, 4) : name.slice(0, 1);
  return `pool/${component}/${prefix}/${name}`;
}

/** `name_version_arch.deb` without the epoch, as dpkg-name names a .deb. */
export function debFileName(name: string, version: string, arch: string): string {
  return `${name}_${version.replace(/^\d+:/, '')}_${arch}.deb`;
}

/** Debian architecture of a target's (uname) machine. */
export function debianArch(machine: string): string {
  return ({ x86_64: 'amd64', aarch64: 'arm64' } as Record<string, string>)[machine] ?? machine;
}
