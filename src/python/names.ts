/** PEP 503 name normalization and the PEP 508 name grammar. */

const VALID_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

export function isValidName(name: string): boolean {
  return VALID_NAME.test(name);
}

/** `Foo.Bar__baz` -> `foo-bar-baz` (PEP 503). */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
