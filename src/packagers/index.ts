/**
 * One packager per format, loaded only when that format is built; with `fpm`,
 * the format's own rendering written by fpm. And what other stages need of a
 * format without building (the publisher: Debian's version order).
 */
import type { Packager } from './packager.ts';

/** Who writes the package files: the format's own tools (rpmbuild, dpkg-deb), or fpm. */
export const PACKAGER_BACKENDS = ['native', 'fpm'] as const;
export type PackagerBackend = (typeof PACKAGER_BACKENDS)[number];

export async function packagerFor(format: 'rpm' | 'deb', backend: PackagerBackend = 'native'): Promise<Packager> {
  if (format === 'rpm') {
    const rpm = await import('./rpm/index.ts');
    const native = new rpm.RpmPackager();
    return backend === 'fpm' ? new (await import('./fpm/rpm.ts')).FpmRpmPackager(native, { spec: rpm.rpmSpec, buildEnv: rpm.elfOnlyMagic }) : native;
  }
  const deb = await import('./deb/index.ts');
  const native = new deb.DebPackager();
  if (backend === 'native') return native;
  return new (await import('./fpm/deb.ts')).FpmDebPackager(native, {
    control: deb.debControl,
    maintainerScripts: deb.debMaintainerScripts,
    dependencies: deb.debDependencies,
    lintianOverrides: deb.lintianOverrides,
    lintianOverridesPath: deb.lintianOverridesPath,
    prepareTree: async (root) => {
      const entries = await deb.walkTree(root);
      await deb.normaliseModes(root, entries);
      return deb.installedSizeKiB(entries);
    },
    defaultPayload: deb.DEFAULT_DEB_PAYLOAD,
  });
}

/**
 * Debian's version order, dpkg's, computed in-process by deb/ (the
 * shared-library relations use it too): `compare` gives <0, 0 or >0;
 * `isValid` is Dpkg::Version's check, the versions `compare` is meant for.
 */
export async function debianVersionOrder(): Promise<{ compare: (a: string, b: string) => number; isValid: (version: string) => boolean }> {
  const { compareDebianVersions, isValidDebianVersion } = await import('./deb/symbols.ts');
  return { compare: compareDebianVersions, isValid: isValidDebianVersion };
}
