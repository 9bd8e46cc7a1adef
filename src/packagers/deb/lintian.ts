/**
 * The lintian overrides a .deb ships in /usr/share/lintian/overrides/<package>,
 * Debian's own way of saying that a tag is intended: one for each tag the
 * design makes unavoidable, each after a comment giving the reason (lintian
 * shows it with --show-overrides). Only tags the package can raise are
 * overridden; a compiled wheel's package overrides what its libraries may
 * raise, which most do not (lintian's unused-override is information only).
 */
import type { Payload } from '../../targets/target.ts';
import type { PackagePlan } from '../packager.ts';

/** Where dpkg installs the package's overrides and lintian reads them. */
export function lintianOverridesPath(packageName: string): string {
  return `/usr/share/lintian/overrides/${packageName}`;
}

interface Override {
  tag: string;
  reason: string;
}

/** The tags `plan`, built with `payload`, raises by design. */
function designOverrides(plan: Pick<PackagePlan, 'kind' | 'arch' | 'contents' | 'ownedDirs'>, payload: Payload): Override[] {
  const overrides: Override[] = [];
  if ([...plan.contents, ...plan.ownedDirs].some((p) => p === '/opt' || p.startsWith('/opt/'))) {
    overrides.push({ tag: 'dir-or-file-in-opt', reason: 'A reqset lives in /opt/<reqset> and its applications in /opt/<reqset>-<app>, apart from the system Python.' });
  }
  if (plan.kind === 'wheel' && plan.arch !== 'noarch') {
    overrides.push(
      { tag: 'unstripped-binary-or-object', reason: 'The unpacked wheel is byte for byte the wheel: its compiled modules are not stripped, or the rebuilt wheel would fail its RECORD hashes.' },
      // Lintian's checks of a distribution's own shared libraries, on the libraries a
      // manylinux wheel bundles (auditwheel) or builds for itself.
      { tag: 'library-not-linked-against-libc', reason: "The wheel's extension modules and libraries as its authors linked them (byte for byte)." },
      { tag: 'shared-library-is-executable', reason: "The wheel's file modes are kept: its bundled libraries are executable in the wheel." },
    );
  }
  if (payload.compression === 'zstd') {
    overrides.push({ tag: 'malformed-deb-archive', reason: "zstd members are the target's payload choice: dpkg reads them since 1.21.18 (Debian 12 has 1.21.22); only the Debian archive's own uploads need xz." });
  }
  return overrides;
}

/** The overrides file of `plan`'s package, or undefined when it raises none of these tags. */
export function lintianOverrides(plan: Pick<PackagePlan, 'name' | 'kind' | 'arch' | 'contents' | 'ownedDirs'>, payload: Payload): string | undefined {
  const overrides = designOverrides(plan, payload);
  if (overrides.length === 0) return undefined;
  return overrides.map((o) => `# ${o.reason}\n${plan.name}: ${o.tag}\n`).join('');
}
