/**
 * `.reqset-wheel.json`, the contract between the TypeScript that writes it
 * (src/wheels/source.ts) and the runtime helper that reads it: a strict zod
 * schema of the writer's own type, and the wheel whose file is checked in as
 * the contract's example (test/golden/reqset-wheel.json).
 */
import path from 'node:path';
import { z } from 'zod';
import type { ZipInfo } from '../../src/wheels/zipinfo.ts';
import { REPO_ROOT } from './env.ts';
import type { WheelSpec } from './make-wheel.ts';

export const ZIPINFO_EXAMPLE = path.join(REPO_ROOT, 'test', 'golden', 'reqset-wheel.json');

const u16 = z.number().int().min(0).max(0xffff);
const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/);

const memberSchema = z.strictObject({
  name: z.string().min(1),
  method: u16,
  time: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  madeBy: u16,
  needed: u16,
  flags: u16,
  attr: z.number().int().min(0).max(0xffffffff),
  internalAttr: u16,
  extra: hex,
  localExtra: hex,
  comment: hex,
});

export const zipInfoSchema = z.strictObject({
  format: z.literal(1),
  filename: z.string().regex(/^[^/]+\.whl$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  comment: hex,
  members: z.array(memberSchema),
});

/** True only when A and B are the same type: the schema cannot drift from the writer's ZipInfo. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaIsZipInfo: Same<z.infer<typeof zipInfoSchema>, ZipInfo> = true;
void schemaIsZipInfo;

const CAFE_EXTRA = Buffer.from('feca0400636f6e74', 'hex');

/**
 * The example's wheel: stored members only (its bytes do not depend on a zlib
 * version), a directory entry, a UTF-8 name, extra fields that differ between
 * the local and central headers, member and archive comments.
 */
export const CONTRACT_WHEEL: WheelSpec = {
  name: 'contract',
  version: '1.0',
  files: { 'contract/__init__.py': 'VALUE = 1\n', 'contract/caf\u00e9.txt': 'd\u00e9j\u00e0 vu\n' },
  extraMembers: [{ name: 'contract/data/' }],
  memberOptions: {
    'contract/__init__.py': { method: 0, extra: CAFE_EXTRA, comment: Buffer.from('first member'), internalAttr: 1 },
    'contract/caf\u00e9.txt': { method: 0, localExtra: CAFE_EXTRA, mode: 0o100755 },
    'contract-1.0.dist-info/METADATA': { method: 0 },
    'contract-1.0.dist-info/WHEEL': { method: 0 },
    'contract-1.0.dist-info/RECORD': { method: 0 },
  },
  zipOptions: { comment: Buffer.from('archive comment') },
};
