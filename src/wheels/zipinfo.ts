/**
 * `.reqset-wheel.json`, written next to an unpacked wheel (extract.ts) and as
 * the last member of a stored zip (stored-zip.ts): what the runtime helper
 * needs to rebuild the very same .whl (each member's method, time, attributes
 * and extra fields, in central-directory order).
 */
import type { DosTime } from './zip.ts';
import type { MemberState } from './reader.ts';

export const ZIPINFO_FILE = '.reqset-wheel.json';

export interface ZipInfoMember {
  name: string;
  method: number;
  time: DosTime;
  madeBy: number;
  needed: number;
  flags: number;
  /** External attributes (the Unix mode in the high 16 bits). */
  attr: number;
  /** Internal attributes (Info-ZIP sets bit 0 for text); a rebuilt .whl must carry them too. */
  internalAttr: number;
  /** Hex of the central-directory extra field. */
  extra: string;
  /** Hex of the local-header extra field. */
  localExtra: string;
  /** Hex of the member comment. */
  comment: string;
}

/** What is needed to rebuild the same .whl from its unpacked tree (ZIPINFO_FILE). */
export interface ZipInfo {
  format: 1;
  filename: string;
  sha256: string;
  size: number;
  /** Hex of the archive comment. */
  comment: string;
  /** In central-directory order, directory entries included. */
  members: ZipInfoMember[];
}

/** The ZipInfo of a validated wheel whose members are `states`. */
export function zipInfoOf(file: { filename: string; sha256: string; size: number; comment: Buffer }, states: readonly MemberState[]): ZipInfo {
  return {
    format: 1,
    filename: file.filename,
    sha256: file.sha256,
    size: file.size,
    comment: file.comment.toString('hex'),
    members: states.map(({ member, entry, localExtra }) => ({
      name: member.name,
      method: member.method,
      time: member.time,
      madeBy: member.madeBy,
      needed: member.needed,
      flags: member.flags,
      attr: member.externalAttr,
      internalAttr: entry.internalFileAttributes,
      extra: entry.extraFieldRaw.toString('hex'),
      localExtra: localExtra.toString('hex'),
      comment: entry.fileCommentRaw.toString('hex'),
    })),
  };
}

/** The ZIPINFO_FILE text: 2-space indented JSON, ASCII only, trailing newline. */
export function formatZipInfo(info: ZipInfo): string {
  const ordered: ZipInfo = {
    format: info.format,
    filename: info.filename,
    sha256: info.sha256,
    size: info.size,
    comment: info.comment,
    members: info.members.map((m) => ({
      name: m.name,
      method: m.method,
      time: m.time,
      madeBy: m.madeBy,
      needed: m.needed,
      flags: m.flags,
      attr: m.attr,
      internalAttr: m.internalAttr,
      extra: m.extra,
      localExtra: m.localExtra,
      comment: m.comment,
    })),
  };
  return (
    JSON.stringify(ordered, null, 2).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n'
  );
}
