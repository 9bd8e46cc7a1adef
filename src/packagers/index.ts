/** One packager per format, loaded only when that format is built. */
import type { Packager } from './packager.ts';

export async function packagerFor(format: 'rpm' | 'deb'): Promise<Packager> {
  if (format === 'rpm') return new (await import('./rpm/index.ts')).RpmPackager();
  return new (await import('./deb/index.ts')).DebPackager();
}
