/**
 * Package plans from the checked wheelhouse: pure functions, so names,
 * dependencies, paths and scriptlets are tested without building anything.
 */
import { isPureWheel, type WheelName } from '../python/tags.ts';
import { RUNTIME_ZIPAPP_NAME } from '../runtime/zipapp.ts';
import type { Target } from '../targets/target.ts';
import { endpointConfigDir, type ConfigFileSpec, type ServiceSpec } from '../specs/spec.ts';
import type { PackageDependency, PackagePlan, PackageVersion } from './packager.ts';
import { exactBound, specifierBounds } from './ranges.ts';
import { SERVICE_TOOLS, serviceFiles, servicePlans } from './services.ts';

/** Where everything of a reqset lives on the target. */
export function reqsetPaths(reqset: string) {
  const root = `/opt/${reqset}`;
  return {
    root,
    wheels: `${root}/wheels`,
    wheelhouse: `${root}/wheelhouse`,
    runtimeDir: `${root}/runtime`,
    helper: `${root}/runtime/${RUNTIME_ZIPAPP_NAME}`,
    /**
     * The CycloneDX SBOM of the build (sbom.ts), in the runtime package: not
     * under /usr/share/doc, which container images leave out (dpkg
     * path-exclude, dnf tsflags=nodocs).
     */
    sbom: `${root}/runtime/${SBOM_FILE_NAME}`,
  };
}

/** The SBOM's file name, in the build's output directory and on the target. */
export const SBOM_FILE_NAME = 'sbom.cdx.json';

export const wheelPackageName = (reqset: string, key: string) => `${reqset}-wheel-${key}`;
export const runtimePackageName = (reqset: string) => `${reqset}-runtime`;
export const pinsPackageName = (reqset: string) => `${reqset}-pins`;

/** The License of a package whose wheel declares none: an SPDX LicenseRef that says so, rather than a guess. */
export const UNKNOWN_LICENSE = 'LicenseRef-unknown';
/** The license of what reqset itself writes: the runtime helper and the pins package. */
export const REQSET_LICENSE = 'MIT';

/** Release 1 at the PEP 440 epoch: the version of a package built without history (src/packagers/history.ts). */
export const FIRST_RELEASE = '1';

/** A wheel's file name without `.whl`: the directory it is unpacked into. */
export const wheelStem = (filename: string) => filename.replace(/\.whl$/, '');
/** The file name of a wheel's stored zip (the stored-zip layout): `<wheel-stem>.zip`. */
export const storedZipName = (filename: string) => `${wheelStem(filename)}.zip`;

/**
 * How a wheel sits in its package:
 *  - `unpacked`: every member as a file of `/opt/<reqset>/wheels/<wheel-stem>/`
 *    plus `.reqset-wheel.json`;
 *  - `stored-zip`: one file, `/opt/<reqset>/wheels/<wheel-stem>.zip`, the
 *    wheel's members uncompressed in their order, then `.reqset-wheel.json`
 *    (src/wheels/stored-zip.ts).
 * Either way the post-install rebuilds the same .whl and endpoints install from it.
 */
export type WheelLayout = 'unpacked' | 'stored-zip';
export const WHEEL_LAYOUTS: readonly WheelLayout[] = ['unpacked', 'stored-zip'];
export const DEFAULT_WHEEL_LAYOUT: WheelLayout = 'unpacked';

/** Where a wheel is on the target in a layout: the tree directory or the stored zip. */
export function wheelPayloadPath(reqset: string, filename: string, layout: WheelLayout = DEFAULT_WHEEL_LAYOUT): string {
  const dir = reqsetPaths(reqset).wheels;
  return layout === 'stored-zip' ? `${dir}/${storedZipName(filename)}` : `${dir}/${wheelStem(filename)}`;
}

export function pythonDependency(target: Target): PackageDependency {
  return { kind: 'python', version: target.python.version, package: target.python.package };
}

/** Single-quotes a value for /bin/sh. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface WheelPackageInput {
  reqset: string;
  target: Target;
  key: string;
  version: string;
  wheel: { filename: string; name: WheelName };
  /** The wheel's METADATA Summary, License (SPDX) and home page, and its license files' copyright statements. */
  summary?: string;
  license?: string;
  homepage?: string;
  copyright?: string[];
  /** Dependencies of the wheel on the target (markers evaluated): distribution key and PEP 440 specifier. */
  dependencies: { key: string; specifier: string }[];
  /** Pins this compiled wheel was built against here (its ABI): required at exactly their pinned version. */
  compiledAgainst: { key: string; version: string }[];
  /** Files in the wheel's top-level `*.libs/` directories (bundled shared libraries). */
  bundledLibraries: string[];
  /** How the wheel sits in the package (default `unpacked`). */
  layout?: WheelLayout;
  /**
   * System requirements found outside the payload, in the format's syntax: the
   * shared libraries of a compiled wheel in the stored-zip layout, whose ELF
   * files rpmbuild and dpkg-shlibdeps cannot see inside the zip.
   */
  systemRequires?: string[];
}

export function planWheelPackage(input: WheelPackageInput): PackagePlan {
  const paths = reqsetPaths(input.reqset);
  const layout = input.layout ?? DEFAULT_WHEEL_LAYOUT;
  const tree = wheelPayloadPath(input.reqset, input.wheel.filename, layout);
  const wheelFile = `${paths.wheelhouse}/${input.wheel.filename}`;
  const python = pythonDependency(input.target);
  const runtime: PackageDependency = { kind: 'any', name: runtimePackageName(input.reqset) };
  return {
    kind: 'wheel',
    name: wheelPackageName(input.reqset, input.key),
    pep440: input.version,
    release: FIRST_RELEASE,
    pydist: { reqset: input.reqset, key: input.key, pep440: input.version },
    arch: isPureWheel(input.wheel.name) ? 'noarch' : input.target.arch,
    summary: `${input.key} ${input.version} wheel for the ${input.reqset} reqset`,
    description:
      (layout === 'stored-zip' ? `The wheel ${input.wheel.filename}, stored uncompressed in ${tree}. ` : `The wheel ${input.wheel.filename}, unpacked under ${tree}. `) +
      `Installing it rebuilds ${wheelFile} for the virtualenvs of the ${input.reqset} applications.` +
      (input.summary ? `\n${input.summary}` : ''),
    license: input.license ?? UNKNOWN_LICENSE,
    ...(input.homepage ? { url: input.homepage } : {}),
    upstream: input.key,
    ...(input.copyright?.length ? { copyright: input.copyright } : {}),
    requires: [
      runtime,
      python,
      // A pin the wheel was compiled against is required exactly, which says all its range would.
      ...input.dependencies
        .filter(({ key }) => !input.compiledAgainst.some((c) => c.key === key))
        .map(({ key, specifier }) => ({ kind: 'pydist' as const, reqset: input.reqset, key, bounds: specifierBounds(specifier) })),
      ...input.compiledAgainst.map(({ key, version }) => ({ kind: 'pydist' as const, reqset: input.reqset, key, bounds: [exactBound(version)] })),
      ...(input.systemRequires ?? []).map((text) => ({ kind: 'system' as const, text })),
    ],
    scriptletRequires: [runtime, python],
    contents: [tree],
    ownedDirs: [],
    ghostFiles: [wheelFile],
    privateLibraries: input.bundledLibraries.map((file) => file.split('/').pop() as string).sort(),
    scriptlets: {
      afterInstall: `${shellQuote(input.target.python.path)} ${paths.helper} rebuild-wheel ${shellQuote(tree)} ${paths.wheelhouse} >/dev/null`,
      afterRemove: `rm -f ${shellQuote(wheelFile)}`,
    },
  };
}

export function planRuntimePackage(reqset: string, target: Target, toolVersion: string): PackagePlan {
  const paths = reqsetPaths(reqset);
  return {
    kind: 'runtime',
    name: runtimePackageName(reqset),
    pep440: toolVersion,
    release: FIRST_RELEASE,
    arch: 'noarch',
    summary: `Runtime helper of the ${reqset} reqset`,
    description: `Owns ${paths.root} and the stdlib-only helper that rebuilds and checks the wheels of the ${reqset} wheel packages.`,
    license: REQSET_LICENSE,
    requires: [pythonDependency(target), ...target.packages.runtime.map((text) => ({ kind: 'system' as const, text }))],
    scriptletRequires: [],
    contents: [paths.runtimeDir],
    ownedDirs: [paths.root, paths.wheels, paths.wheelhouse],
    ghostFiles: [],
    privateLibraries: [],
    scriptlets: {},
  };
}

export interface EndpointPackageInput {
  reqset: string;
  target: Target;
  spec: {
    name: string;
    summary: string;
    scripts: string[];
    requires: { rpm: string[]; deb: string[] };
    services?: ServiceSpec[];
    /** Configuration files; `source` relative to the workspace. */
    files?: ConfigFileSpec[];
  };
  /** The application's own distribution and pinned version; its wheel's license and home page. */
  distribution: { key: string; name: string; version: string; topLevel: string[]; license?: string; homePage?: string; copyright?: string[] };
  /** Every wheel of the application's closure on the target (the application's own included), with its package. */
  closure: { key: string; version: string; filename: string; package: { name: string; version: PackageVersion } }[];
  /** Which installer the post-install uses to fill the virtualenv. */
  installer: 'native' | 'pip';
  /** The layout of the closure's wheel packages (default `unpacked`). */
  layout?: WheelLayout;
}

export function endpointPaths(reqset: string, app: string) {
  const root = `/opt/${reqset}-${app}`;
  return { root, venv: `${root}/venv` };
}

export const endpointPackageName = (reqset: string, app: string) => `${reqset}-${app}`;

/** A file of the endpoint package besides /usr/bin: written from `text`, or copied from the workspace's `source`. */
export type EndpointFile = { path: string; mode: number; config: boolean } & ({ text: string } | { source: string });

/** The endpoint's service files (services.ts) and its configuration files from the workspace. */
export function endpointFiles(input: EndpointPackageInput): EndpointFile[] {
  const services = serviceFiles({
    reqset: input.reqset,
    app: input.spec.name,
    packageName: endpointPackageName(input.reqset, input.spec.name),
    summary: input.spec.summary,
    venv: endpointPaths(input.reqset, input.spec.name).venv,
    services: input.spec.services ?? [],
    target: input.target,
  });
  const files = (input.spec.files ?? []).map((f) => ({ path: f.dest, mode: Number.parseInt(f.mode ?? '0644', 8), config: true, source: f.source }));
  return [...services, ...files];
}

/** The directories below /etc/<reqset>-<app> that hold configuration files, and it: the package owns them. */
function configDirs(reqset: string, app: string, files: EndpointFile[]): string[] {
  const top = endpointConfigDir(reqset, app);
  const dirs = new Set<string>();
  for (const file of files.filter((f) => f.path.startsWith(`${top}/`))) {
    for (let dir = file.path.slice(0, file.path.lastIndexOf('/')); dir.startsWith(top); dir = dir.slice(0, dir.lastIndexOf('/'))) dirs.add(dir);
  }
  return [...dirs].sort();
}

/**
 * The application's package: requires its closure's wheel packages at exact
 * package versions (epoch, version and release); its post-install builds the venv beside the old one and swaps it
 * in only when it works; console scripts are symlinks it ships in /usr/bin.
 */
export function planEndpointPackage(input: EndpointPackageInput): PackagePlan {
  const paths = reqsetPaths(input.reqset);
  const app = endpointPaths(input.reqset, input.spec.name);
  const python = pythonDependency(input.target);
  const runtime: PackageDependency = { kind: 'any', name: runtimePackageName(input.reqset) };
  const wheels = input.closure.map((w) => ({ kind: 'package' as const, ...w.package }));
  const format = input.target.format;
  const services = input.spec.services ?? [];
  const files = endpointFiles(input);
  const tools = services.length ? SERVICE_TOOLS[format].map((text) => ({ kind: 'system' as const, text })) : [];
  const install = [
    shellQuote(input.target.python.path),
    paths.helper,
    'install-venv',
    '--venv',
    app.venv,
    '--installer',
    input.installer,
    '--wheelhouse',
    paths.wheelhouse,
    ...input.closure.flatMap((w) => ['--tree', shellQuote(wheelPayloadPath(input.reqset, w.filename, input.layout))]),
    ...[...new Set([...input.spec.scripts, ...services.map((s) => s.exec[0] as string)])].flatMap((s) => ['--script', shellQuote(s)]),
    ...input.distribution.topLevel.flatMap((m) => ['--check-import', m]),
  ];
  return {
    kind: 'endpoint',
    name: endpointPackageName(input.reqset, input.spec.name),
    pep440: input.distribution.version,
    release: FIRST_RELEASE,
    arch: 'noarch',
    summary: input.spec.summary,
    description:
      `${input.spec.summary}. The ${input.distribution.name} ${input.distribution.version} application of the ${input.reqset} reqset, ` +
      `in its own virtualenv at ${app.venv}, built on install from the reqset's wheel packages.`,
    license: input.distribution.license ?? UNKNOWN_LICENSE,
    ...(input.distribution.homePage ? { url: input.distribution.homePage } : {}),
    upstream: input.distribution.name,
    ...(input.distribution.copyright?.length ? { copyright: input.distribution.copyright } : {}),
    requires: [runtime, python, ...wheels, ...input.spec.requires[format].map((text) => ({ kind: 'system' as const, text }))],
    scriptletRequires: [runtime, python, ...wheels, ...tools],
    contents: [...input.spec.scripts.map((s) => `/usr/bin/${s}`), ...files.filter((f) => !f.config).map((f) => f.path)],
    ownedDirs: [app.root, ...configDirs(input.reqset, input.spec.name, files)],
    ...(files.some((f) => f.config) ? { configFiles: files.filter((f) => f.config).map((f) => ({ path: f.path, mode: f.mode })) } : {}),
    ...(services.length ? { services: servicePlans(services) } : {}),
    ghostFiles: [],
    privateLibraries: [],
    scriptlets: {
      afterInstall: install.join(' '),
      beforeRemove: `${shellQuote(input.target.python.path)} ${paths.helper} remove-venv --venv ${app.venv}`,
    },
  };
}

/** Where the pins package lists the pins on the target. */
export const pinsFilePath = (reqset: string) => `${reqsetPaths(reqset).root}/pins.txt`;

/** `name==version` lines of the pins, sorted: the pins package's one file. */
export function pinsFileText(pins: { name: string; pep440: string }[]): string {
  return pins.map((p) => `${p.name}==${p.pep440}\n`).sort().join('');
}

/**
 * `<reqset>-pins`: every pin's wheel package at its exact package version, so
 * `dnf install <reqset>-pins` installs the whole reqset and an upgrade of it
 * moves every pin; its one file lists the pins.
 */
export function planPinsPackage(reqset: string, target: Target, wheels: { name: string; version: PackageVersion }[]): PackagePlan {
  const runtime: PackageDependency = { kind: 'any', name: runtimePackageName(reqset) };
  return {
    kind: 'pins',
    name: pinsPackageName(reqset),
    pep440: '1.0',
    release: FIRST_RELEASE,
    arch: 'noarch',
    summary: `Every pin of the ${reqset} reqset`,
    description: `Requires the wheel package of every pin of the ${reqset} reqset at its exact version; ${pinsFilePath(reqset)} lists the pins.`,
    license: REQSET_LICENSE,
    requires: [runtime, pythonDependency(target), ...wheels.map((w) => ({ kind: 'package' as const, ...w }))],
    scriptletRequires: [],
    contents: [pinsFilePath(reqset)],
    ownedDirs: [],
    ghostFiles: [],
    privateLibraries: [],
    scriptlets: {},
  };
}
