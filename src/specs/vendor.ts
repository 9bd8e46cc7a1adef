/**
 * Who makes a workspace's packages: `packaging/vendor.yml` names the
 * maintainer (Debian's Maintainer field, RPM's Packager tag, the changelog
 * entries' author) and the vendor (RPM's Vendor tag, the SBOM's supplier).
 * An endpoint spec may name its own for its endpoint package.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { parseYamlWith, readYamlFile, type FieldHelpTable } from '../yamlfile.ts';
import { maintainerProblem, vendorProblem } from './grammar.ts';
import { checked } from './checked.ts';

export const VENDOR_FILE = path.join('packaging', 'vendor.yml');

export interface PackagedBy {
  maintainer: string;
  vendor?: string;
}

export const maintainerField = checked(maintainerProblem);
export const vendorField = checked(vendorProblem);

const vendorSchema = z.strictObject({ maintainer: maintainerField.optional(), vendor: vendorField.optional() });

const VENDOR_FIELDS: FieldHelpTable = {
  maintainer: { what: 'who maintains the packages: Debian Maintainer, RPM Packager, changelog author', type: 'a string "Full Name <address>"' },
  vendor: { what: 'the organisation that ships the packages: RPM Vendor, the SBOM\'s supplier', type: 'a string' },
};

/** A workspace without vendor.yml: an address that is plainly not one (RFC 2606's .invalid). */
export const defaultMaintainer = (reqset: string) => `reqset <reqset@${reqset}.invalid>`;

/** The workspace's maintainer and vendor for the packages of `reqset`. */
export async function loadPackagedBy(workspace: string, reqset: string): Promise<PackagedBy> {
  let text: string;
  try {
    text = await readFile(path.join(workspace, VENDOR_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { maintainer: defaultMaintainer(reqset) };
    throw error;
  }
  return parsePackagedBy(text, reqset);
}

/** vendor.yml's text; an empty file names nobody. */
export function parsePackagedBy(text: string, reqset: string): PackagedBy {
  const parsed = parseYamlWith(readYamlFile(text, VENDOR_FILE), vendorSchema.nullable(), VENDOR_FIELDS, 'invalid vendor file') ?? {};
  return { maintainer: parsed.maintainer ?? defaultMaintainer(reqset), ...(parsed.vendor ? { vendor: parsed.vendor } : {}) };
}
