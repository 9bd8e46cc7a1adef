/**
 * What a package is, independent of its format, and the one interface each
 * format implements (as nfpm has one packager per format). Plans are made by
 * pure functions in plan.ts; a Packager turns a plan and a staged file tree
 * into one package file.
 */

import type { Payload } from '../targets/target.ts';
import type { Bound } from './ranges.ts';

/** A package's own version: PEP 440, the package epoch, the release. */
export interface PackageVersion {
  pep440: string;
  /** The package epoch: the PEP 440 epoch, or higher after a rollback (src/packagers/history.ts). */
  epoch: number;
  release: string;
}

/** A dependency on another package of the same reqset, or on a system package. */
export type PackageDependency =
  /**
   * A Python distribution of the reqset within bounds, through the virtual
   * name its wheel package provides (see PackagePlan.pydist): its versions are
   * PEP 440's, free of package epochs and releases.
   */
  | { kind: 'pydist'; reqset: string; key: string; bounds: Bound[] }
  /** Exactly this version of a package: epoch, version and release. */
  | { kind: 'package'; name: string; version: PackageVersion }
  /** Any version. */
  | { kind: 'any'; name: string }
  /** The target's interpreter: python(abi) = X.Y on RPM, bounded python3 on DEB. */
  | { kind: 'python'; version: string; package: string }
  /** A system package as written in a target or spec (format-specific syntax allowed). */
  | { kind: 'system'; text: string };

/** Shell snippets run on the target, already specific to one package. */
export interface Scriptlets {
  /** After install and after upgrade/downgrade/reinstall of this package. */
  afterInstall?: string;
  /** Before this package's files go away for good (erase, not upgrade). */
  beforeRemove?: string;
  /** After this package's files are gone: on erase and when replaced by another version. */
  afterRemove?: string;
}

/** A configuration file: kept as the admin edited it when the package is upgraded (RPM %config(noreplace), Debian conffiles). */
export interface ConfigFile {
  path: string;
  /** Permission bits, whatever the format would make of the staged file's mode. */
  mode: number;
}

/** A systemd service the package ships (its unit file is among the contents) and manages in its scriptlets (services.ts). */
export interface ServicePlan {
  /** `<name>.service` */
  unit: string;
  /** The system user and group it runs as, created by the package. */
  user: string;
  group: string;
  /** Enabled on install; unset: the distribution's policy (presets on RPM, enabled on Debian). */
  enable?: boolean;
}

export interface PackagePlan {
  kind: 'wheel' | 'runtime' | 'endpoint' | 'pins';
  /** e.g. `reqsset3-wheel-tinyvec` */
  name: string;
  /** PEP 440 version, mapped by each packager to its own syntax. */
  pep440: string;
  /** Package release / Debian revision. */
  release: string;
  /** Package epoch (default: the PEP 440 version's epoch); see PackageVersion. */
  epoch?: number;
  /** The distribution a wheel package provides at its PEP 440 version, for `pydist` dependencies. */
  pydist?: { reqset: string; key: string; pep440: string };
  /** `noarch` for pure content, else the target's arch (x86_64, aarch64). */
  arch: 'noarch' | 'x86_64' | 'aarch64';
  summary: string;
  description: string;
  /** An SPDX expression: the wheel's for wheel and endpoint packages, reqset's own for the others. */
  license: string;
  url?: string;
  /** The Python distribution whose work the package ships (wheel and endpoint packages), for the copyright file. */
  upstream?: string;
  /** The copyright statements of its license files, for the copyright file. */
  copyright?: string[];
  /**
   * This version's changelog entry, one line per change (changelog.ts):
   * given once the version is known, never part of the package's inputs.
   */
  changelog?: string[];
  requires: PackageDependency[];
  /** Needed while the scriptlets run (RPM Requires(post), DEB Pre-Depends is not used). */
  scriptletRequires: PackageDependency[];
  /** Absolute target paths this package owns; a directory with everything below it. */
  contents: string[];
  /** Further directories this package owns without their contents (e.g. /opt/<reqset>). */
  ownedDirs: string[];
  /** Configuration files (below /etc), in no other list; none: []. */
  configFiles?: ConfigFile[];
  /** systemd services; none: []. */
  services?: ServicePlan[];
  /** Absolute paths of files created on the target by scriptlets (RPM %ghost). */
  ghostFiles: string[];
  /** Shared-library names never to be provided or required (wheel-bundled `*.libs`). */
  privateLibraries: string[];
  scriptlets: Scriptlets;
}

export interface BuildContext {
  /** SOURCE_DATE_EPOCH used for every timestamp in the package. */
  epoch: number;
  /** Where the finished package file goes. */
  outDir: string;
  /** Scratch space for this one package. */
  workDir: string;
  /** Debian's Maintainer field, RPM's Packager tag, the changelog entries' author (`Full Name <address>`). */
  maintainer: string;
  /** RPM's Vendor tag (Debian has no such field); none: no tag. */
  vendor?: string;
  /** The payload compression (the target's `payload`); none: the format's default, xz. */
  payload?: Payload;
}

export interface Packager {
  readonly format: 'rpm' | 'deb';
  /**
   * Who writes the file when not the format's own tools (`fpm`): part of
   * every package's inputs, so that neither the package cache nor a
   * repository's history takes one backend's package for the other's.
   */
  readonly backend?: 'fpm';
  /** The file name the package will have, e.g. `x-1.0-1.noarch.rpm`. */
  fileName(plan: PackagePlan): string;
  /** The package's version as the package manager shows it, e.g. `1:2.0~rc1-1`. */
  version(plan: PackagePlan): string;
  /** The planned dependencies as written in the package (without those only a build finds, such as shared libraries). */
  dependencies(plan: PackagePlan): string[];
  /**
   * Builds one package from `root`, a directory laid out as the target's
   * file system (only the package's own files). The package is made from
   * `root` itself, not from a copy (a wheel can have tens of thousands of
   * files): the packager may create the plan's owned directories in it, give
   * every entry the build epoch as its time (and, for formats that want it,
   * a normal mode), and leaves nothing else of its own behind. Nothing else
   * may write to `root` meanwhile; reading it is fine.
   */
  build(plan: PackagePlan, root: string, context: BuildContext): Promise<BuiltFile>;
  /**
   * The shared-library requirements this format's own tools find for the ELF
   * files of `root` (a wheel unpacked at its place on the target), for a
   * package that carries them inside a zip, out of sight of those tools (the
   * stored-zip layout); bundled `*.libs` (`plan.privateLibraries`) left out
   * as the build leaves them out. `scratch` is an empty directory.
   */
  elfRequires(plan: PackagePlan, root: string, scratch: string): Promise<string[]>;
}

/** A package file and every dependency it carries (the planned ones and what the build found). */
export interface BuiltFile {
  path: string;
  requires: string[];
}
