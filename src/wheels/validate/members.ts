/**
 * Validation steps over the central directory alone: each member's name, type,
 * method and sizes; duplicate names; files that are also parent directories.
 */
import * as path from 'node:path';
import { FLAG_ENCRYPTED, FLAG_STRONG_ENCRYPTION, METHOD_DEFLATED, METHOD_STORED } from '../zip.ts';
import { decodeUtf8, type MemberState } from '../reader.ts';
import type yauzl from 'yauzl';

const q = (s: string): string => JSON.stringify(s);

/** `member "name": why`. */
export const memberProblem = (name: string, why: string): string => `member ${q(name)}: ${why}`;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const FILE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0o120000: 'a symbolic link',
  0o020000: 'a character device',
  0o060000: 'a block device',
  0o010000: 'a FIFO',
  0o140000: 'a socket',
};

/** True when `target` is strictly inside `root` (both absolute, already resolved). */
export function isInsideRoot(root: string, target: string, sep: string = path.sep): boolean {
  const base = root.endsWith(sep) ? root : root + sep;
  return target.startsWith(base) && target.length > base.length;
}

/** A fake root to resolve member names against: a sibling like `/reqset-wheel-root-evil` must not pass. */
export const FAKE_ROOT = '/reqset-wheel-root';

/**
 * Why a zip member name is unsafe to extract, or [] when it is fine.
 * Names are `/`-separated and relative; directories end with one `/`.
 */
export function memberNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name === '' || name === '/') return ['empty name'];
  if (name.includes('\0')) problems.push('name contains a NUL byte');
  // eslint-disable-next-line no-control-regex
  else if (/[\x01-\x1f\x7f]/.test(name)) problems.push('name contains a control character');
  if (name.includes('\\')) problems.push('name contains a backslash (a Windows path separator)');
  if (name.startsWith('/')) problems.push('absolute path');
  if (/^[A-Za-z]:/.test(name)) problems.push('absolute Windows path (drive letter)');
  const segments = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (segments.includes('..')) problems.push('path contains a ".." segment');
  if (segments.includes('.')) problems.push('path contains a "." segment');
  if (!name.startsWith('/') && segments.includes('')) problems.push('path contains an empty segment ("//")');
  // Only a name found wrong above can resolve outside (it is absolute, or has "..", "." or empty segments): the others need no resolving.
  if (problems.length && !isInsideRoot(FAKE_ROOT, path.posix.resolve(FAKE_ROOT, name), '/')) problems.push('path resolves outside the extraction directory');
  return problems;
}

/** The Info-ZIP Unicode Path extra field (0x7075), when present and valid. */
function unicodePathField(entry: yauzl.Entry): string | undefined {
  for (const field of entry.extraFields) {
    if (field.id !== 0x7075 || field.data.length < 5 || field.data[0] !== 1) continue;
    try {
      return decodeUtf8(field.data.subarray(5));
    } catch {
      return '\ufffd(invalid UTF-8)';
    }
  }
  return undefined;
}

/** Why a member's file type (from its Unix mode) is not allowed; marks special files unreadable. */
function fileTypeProblems(state: MemberState): string[] {
  const { unixMode, isDirectory } = state.member;
  if (unixMode === undefined) return [];
  const type = unixMode & S_IFMT;
  const special = FILE_TYPE_NAMES[type];
  if (special) {
    state.readable = false;
    return [`is ${special} (mode ${unixMode.toString(8)}); a wheel may only hold regular files and directories`];
  }
  if (type === S_IFDIR && !isDirectory) return ['has a directory mode but its name does not end with "/"'];
  if (type === S_IFREG && isDirectory) return ['is a directory entry with a regular-file mode'];
  return [];
}

/** Why a member's encryption or compression is not allowed; marks such a member unreadable. */
function storageProblems(state: MemberState): string[] {
  const { member } = state;
  const problems: string[] = [];
  if (member.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) problems.push('is encrypted');
  if (member.method !== METHOD_STORED && member.method !== METHOD_DEFLATED) {
    problems.push(`uses compression method ${member.method}; only stored (0) and deflated (8) are allowed in a wheel`);
  } else if (member.method === METHOD_STORED && member.compressedSize !== member.uncompressedSize) {
    problems.push(`is stored uncompressed but its compressed size ${member.compressedSize} differs from its size ${member.uncompressedSize}`);
  }
  if (problems.length) state.readable = false;
  return problems;
}

/** Everything wrong with one central directory entry on its own. */
export function entryProblems(state: MemberState): string[] {
  const { member, nameProblem } = state;
  const whys: string[] = [];
  if (nameProblem) whys.push(nameProblem);
  const unicodePath = unicodePathField(state.entry);
  if (unicodePath !== undefined && unicodePath !== member.name) whys.push(`its Unicode Path extra field names it ${q(unicodePath)}: the name is ambiguous`);
  whys.push(...memberNameProblems(member.name), ...storageProblems(state), ...fileTypeProblems(state));
  if (member.isDirectory && (member.uncompressedSize !== 0 || member.compressedSize > 2)) {
    whys.push(`is a directory entry with ${member.uncompressedSize} bytes of data`);
  }
  return whys.map((why) => memberProblem(member.name, why));
}

/**
 * A member whose path an earlier member already has (as a file or a directory)
 * is a problem; the first of each path is entered in `byPath` (keyed without the
 * trailing slash) and `byName`.
 */
export function duplicateProblems(state: MemberState, byPath: Map<string, MemberState>, byName: Map<string, MemberState>): string[] {
  const { name, isDirectory } = state.member;
  const key = isDirectory ? name.slice(0, -1) : name;
  const earlier = byPath.get(key);
  if (!earlier) {
    byPath.set(key, state);
    byName.set(name, state);
    return [];
  }
  return [
    memberProblem(
      name,
      earlier.member.name === name
        ? 'appears more than once in the zip central directory (duplicate name)'
        : `conflicts with member ${q(earlier.member.name)} (same path as a file and as a directory)`,
    ),
  ];
}

/** A file cannot also be a parent directory. */
export function parentFileProblems(states: readonly MemberState[]): string[] {
  const fileNames = new Set<string>();
  for (const { member } of states) if (!member.isDirectory) fileNames.add(member.name);
  // Each parent directory is looked at once: the first member under it, shortest parent first, reports it.
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const { member } of states) {
    const unseen: string[] = [];
    const name = member.isDirectory ? member.name.slice(0, -1) : member.name;
    for (let slash = name.lastIndexOf('/'); slash >= 0; slash = slash ? name.lastIndexOf('/', slash - 1) : -1) {
      const parent = name.slice(0, slash);
      if (seen.has(parent)) break;
      seen.add(parent);
      unseen.push(parent);
    }
    for (let i = unseen.length - 1; i >= 0; i--) {
      const parent = unseen[i] as string;
      if (fileNames.has(parent)) problems.push(memberProblem(parent, `is a file, but member ${q(member.name)} needs it to be a directory`));
    }
  }
  return problems;
}
