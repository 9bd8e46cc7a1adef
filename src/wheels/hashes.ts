/** A distribution checked against its pin's --hash values, by reqset itself. */
import { InputError } from '../errors.ts';
import { fileDigest } from '../fsutil.ts';
import type { Pin } from '../reqset/load.ts';

export const pinLabel = (pin: Pin) => `${pin.name}==${pin.version}`;

/** Who checked a distribution against its pin's --hash: `reqset`, or `none` when the pin has none. */
export type HashCheck = 'reqset' | 'none';

/** `what`: the file, or the URL it came from (credentials redacted). */
export function hashMismatch(pin: Pin, what: string, got: string): InputError {
  return new InputError(
    `${pin.source}: hash mismatch for ${pinLabel(pin)}: ${what} has ${got}, the pin list allows ${pin.hashes.join(', ')}: check where the file came from, then fix the --hash`,
  );
}

/**
 * Checks a file whose sha256 is `digest` against the pin's --hash values, any
 * of which may match (as in pip); `what` names it in the error.
 */
export async function verifyHash(pin: Pin, file: string, digest: string, what: string): Promise<HashCheck> {
  if (pin.hashes.length === 0) return 'none';
  for (const algorithm of new Set(pin.hashes.map((h) => h.slice(0, h.indexOf(':'))))) {
    const value = algorithm === 'sha256' ? digest : await fileDigest(file, algorithm);
    if (pin.hashes.includes(`${algorithm}:${value}`)) return 'reqset';
  }
  throw hashMismatch(pin, what, `sha256:${digest}`);
}
