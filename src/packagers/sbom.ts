/**
 * The CycloneDX 1.6 SBOM of one build (reqset, target): every wheel and every
 * package as a component, and the dependency graph between them. A pure
 * rendering of what the build knows (`sbomInputOf` gathers it), the same bytes
 * for the same build: the runtime package ships it, so a rebuild with nothing
 * changed must keep that package's inputs, hence its version and bytes.
 */
import path from 'node:path';
import { computeClosure } from '../closure/closure.ts';
import { sha256 } from '../fsutil.ts';
import type { Pin } from '../reqset/load.ts';
import { defaultMaintainer, type PackagedBy } from '../specs/vendor.ts';
import type { Target } from '../targets/target.ts';
import type { WheelRecord } from '../wheels/wheelhouse.ts';
import { isRemoteUrl } from '../wheels/fetch.ts';
import type { BuiltPackage, EndpointPackage, PackagesOptions, WheelPackage } from './build.ts';
import { reqsetPaths, runtimePackageName } from './plan.ts';

/** Where a distribution came from: a URL (credentials redacted), or a local file relative to the workspace. */
export interface SbomArtifact {
  from: string;
  sha256: string;
  /** Its sha256 matched one of the pin's --hash values. */
  hashChecked: boolean;
}

export interface SbomWheel {
  key: string;
  name: string;
  version: string;
  filename: string;
  sha256: string;
  /** Built here from the sdist `artifact` (else `artifact` is the wheel itself, collected). */
  built: boolean;
  artifact: SbomArtifact;
  /** The pinned build requirements it was built with, `name==version`. */
  buildRequirements: string[];
  /** Build requirements pip took from the index, `name==version` (--allow-unpinned-build-requirements). */
  unpinnedBuildRequirements: string[];
  /** Keys of the wheels its Requires-Dist reach on the target (markers and extras evaluated). */
  requires: string[];
  /** SPDX expression from its METADATA (License-Expression, or the licence classifiers). */
  license?: string;
  /** Its METADATA's home page. */
  homePage?: string;
}

export type PackageRole = 'runtime' | 'pins' | 'wheel' | 'endpoint';

export interface SbomPackage {
  role: PackageRole;
  name: string;
  /** The built file; none for the runtime package, whose version depends on this SBOM. */
  built?: { version: string; epoch: number; file: string; sha256: string };
  /** The key of the wheel a wheel package carries. */
  wheel?: string;
  /** Names of the packages of this build it requires. */
  requires: string[];
}

export interface SbomInput {
  reqset: string;
  target: { name: string; format: 'rpm' | 'deb'; distribution: string };
  toolVersion: string;
  /** SOURCE_DATE_EPOCH: the BOM's timestamp. */
  epoch: number;
  wheels: SbomWheel[];
  packages: SbomPackage[];
  /** Who ships the packages (packaging/vendor.yml); none when the workspace names nobody. */
  supplier?: SbomSupplier;
}

/** CycloneDX's organizationalEntity: the vendor, the maintainer as its contact. */
export interface SbomSupplier {
  name: string;
  contact?: { name: string; email: string }[];
}

/** The purl of a name and version with qualifiers, percent-encoded and with qualifiers sorted (purl-spec's canonical form). */
function purl(type: string, namespace: string | undefined, name: string, version: string | undefined, qualifiers: Record<string, string | undefined>): string {
  const encoded = Object.entries(qualifiers)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`);
  const at = version === undefined ? '' : `@${encodeURIComponent(version)}`;
  const ns = namespace === undefined ? '' : `${encodeURIComponent(namespace)}/`;
  return `pkg:${type}/${ns}${encodeURIComponent(name)}${at}${encoded.length ? `?${encoded.join('&')}` : ''}`;
}

/** purl-spec's pypi name: lowercase, `_` as `-` (a PEP 503 key already is). */
const pypiPurl = (key: string, version: string, fileName: string) => purl('pypi', undefined, key, version, { file_name: fileName });

/** The architecture a package file's name ends with: `<n>-<v>-<r>.<arch>.rpm`, `<n>_<v>_<arch>.deb`. */
function fileArch(file: string): string {
  const arch = /\.([^.]+)\.rpm$/.exec(file)?.[1] ?? /_([^_]+)\.deb$/.exec(file)?.[1];
  if (!arch) throw new Error(`internal: no architecture in the package file name ${file}`);
  return arch;
}

/**
 * A package's purl. The namespace (purl-spec: the vendor) is the reqset, not
 * the distribution: these packages are not the distribution's, and a scanner
 * must not match them against its advisories (the wheels' pypi purls are for
 * that); `distro` says which release they are for. RPM's version is
 * version-release with the epoch as a qualifier; Debian's is the whole version.
 */
function packagePurl(input: SbomInput, pkg: SbomPackage): string {
  const distro = input.target.distribution;
  const vendor = input.reqset.toLowerCase(); // purl-spec: rpm and deb namespaces are lowercase
  if (!pkg.built) return purl(input.target.format, vendor, pkg.name, undefined, { distro });
  const { version, epoch, file } = pkg.built;
  if (input.target.format === 'deb') return purl('deb', vendor, pkg.name, version, { arch: fileArch(file), distro });
  return purl('rpm', vendor, pkg.name, version.replace(/^\d+:/, ''), { arch: fileArch(file), distro, epoch: epoch ? String(epoch) : undefined });
}

const property = (name: string, value: string) => ({ name: `reqset:${name}`, value });
const sha256Hash = (content: string) => [{ alg: 'SHA-256', content }];

/** The file name at the end of a URL or path. */
const baseName = (from: string) => (isRemoteUrl(from) ? path.posix.basename(new URL(from).pathname) : path.basename(from));

/** A distribution's location: a URL as an external reference, a local file (relative to the workspace) as a property. */
function location(artifact: SbomArtifact) {
  const remote = isRemoteUrl(artifact.from);
  return {
    externalReferences: remote ? [{ type: 'distribution', url: artifact.from, hashes: sha256Hash(artifact.sha256) }] : [],
    properties: [...(remote ? [] : [property('artifact:local-file', artifact.from)]), property('artifact:hash-checked', String(artifact.hashChecked))],
  };
}

/** `{ key: items }`, or nothing for no items. */
const nonEmpty = <K extends string, T>(key: K, items: T[]) => (items.length ? ({ [key]: items } as Record<K, T[]>) : {});

/**
 * A wheel: collected (its own location), or built from an sdist (the
 * pedigree's ancestor) with its build requirements; with the licence and home
 * page its METADATA declares (none rather than a guess).
 */
function wheelComponent(wheel: SbomWheel) {
  const ref = pypiPurl(wheel.key, wheel.version, wheel.filename);
  const homePage = wheel.homePage ? [{ type: 'website', url: wheel.homePage }] : [];
  const common = {
    type: 'library',
    'bom-ref': ref,
    name: wheel.name,
    version: wheel.version,
    purl: ref,
    hashes: sha256Hash(wheel.sha256),
    ...(wheel.license ? { licenses: [{ expression: wheel.license, acknowledgement: 'declared' }] } : {}),
  };
  const source = location(wheel.artifact);
  if (!wheel.built) {
    return { ...common, ...nonEmpty('externalReferences', [...homePage, ...source.externalReferences]), properties: [property('wheel:origin', 'collected'), ...source.properties] };
  }
  const sdistPurl = pypiPurl(wheel.key, wheel.version, baseName(wheel.artifact.from));
  const sdist = { type: 'library', name: wheel.name, version: wheel.version, purl: sdistPurl, hashes: sha256Hash(wheel.artifact.sha256), ...nonEmpty('externalReferences', source.externalReferences), properties: source.properties };
  return {
    ...common,
    ...nonEmpty('externalReferences', homePage),
    pedigree: { ancestors: [sdist], notes: 'Built from this sdist by pip wheel --no-deps, with the build requirements named in the properties.' },
    properties: [
      property('wheel:origin', 'built'),
      ...wheel.buildRequirements.map((r) => property('build-requirement', r)),
      ...wheel.unpinnedBuildRequirements.map((r) => property('build-requirement:unpinned', r)),
    ],
  };
}

function packageComponent(input: SbomInput, pkg: SbomPackage) {
  const ref = packagePurl(input, pkg);
  const role = property('package:role', pkg.role);
  if (!pkg.built) {
    const description = `Installs this SBOM at ${reqsetPaths(input.reqset).sbom}: its version depends on this file, so it is not named here (manifest.json names it).`;
    return { type: 'library', 'bom-ref': ref, name: pkg.name, purl: ref, description, properties: [role] };
  }
  return {
    type: pkg.role === 'endpoint' ? 'application' : 'library',
    'bom-ref': ref,
    name: pkg.name,
    version: pkg.built.version,
    purl: ref,
    // The file as built: publishing with --sign adds an RPM signature, which changes the file's sha256.
    hashes: sha256Hash(pkg.built.sha256),
    properties: [role, property('package:file', pkg.built.file)],
  };
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** Package -> the wheel it carries and the packages it requires; wheel -> the wheels it requires; the set -> its packages. */
function dependencies(input: SbomInput, setRef: string) {
  const wheelRefs = new Map(input.wheels.map((w) => [w.key, pypiPurl(w.key, w.version, w.filename)]));
  const packageRefs = new Map(input.packages.map((p) => [p.name, packagePurl(input, p)]));
  const refOf = <K>(refs: Map<K, string>, key: K) => {
    const ref = refs.get(key);
    if (ref === undefined) throw new Error(`internal: the SBOM has no component for ${String(key)}`);
    return ref;
  };
  const topLevel = input.packages.filter((p) => p.role !== 'wheel').map((p) => refOf(packageRefs, p.name));
  return [
    { ref: setRef, dependsOn: sorted(topLevel) },
    ...input.packages.map((p) => ({
      ref: refOf(packageRefs, p.name),
      dependsOn: sorted([...(p.wheel ? [refOf(wheelRefs, p.wheel)] : []), ...p.requires.map((name) => refOf(packageRefs, name))]),
    })),
    ...input.wheels.map((w) => ({ ref: refOf(wheelRefs, w.key), dependsOn: sorted(w.requires.map((key) => refOf(wheelRefs, key))) })),
  ].sort((a, b) => (a.ref < b.ref ? -1 : 1));
}

/** A UUID (version 5 layout) from the sha256 of the BOM's content: the same BOM, the same serial number. */
function contentUuid(content: string): string {
  const hex = sha256(content).slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The SBOM as JSON text (2-space indent, final newline), components and graph in a stable order. */
export function renderSbom(input: SbomInput): string {
  const setRef = `reqset:${input.reqset}:${input.target.name}`;
  const byName = <T extends { name: string }>(items: T[]) => [...items].sort((a, b) => (a.name < b.name ? -1 : 1));
  const body = {
    metadata: {
      timestamp: new Date(input.epoch * 1000).toISOString().replace(/\.000Z$/, 'Z'),
      lifecycles: [{ phase: 'build' }],
      ...(input.supplier ? { supplier: input.supplier } : {}),
      tools: { components: [{ type: 'application', name: 'reqset', version: input.toolVersion }] },
      component: {
        type: 'application',
        'bom-ref': setRef,
        name: input.reqset,
        description: `The ${input.reqset} reqset built for ${input.target.name} (${input.target.distribution}, ${input.target.format})`,
        properties: [property('target', input.target.name), property('target:distribution', input.target.distribution), property('target:format', input.target.format)],
      },
    },
    components: [...byName(input.wheels).map(wheelComponent), ...byName(input.packages).map((p) => packageComponent(input, p))],
    dependencies: dependencies(input, setRef),
  };
  const serialNumber = `urn:uuid:${contentUuid(JSON.stringify(body))}`;
  return `${JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber, version: 1, ...body }, null, 2)}\n`;
}

/** A local path relative to the workspace (the SBOM must not depend on where the workspace is); URLs as they are. */
function artifactOf(wheel: WheelRecord, workspace: string): SbomArtifact {
  const { from, sha256: digest, hashCheckedBy } = wheel.artifact;
  const where = isRemoteUrl(from) ? from : path.relative(workspace, from).split(path.sep).join('/');
  return { from: where, sha256: digest, hashChecked: hashCheckedBy === 'reqset' };
}

function sbomWheels(options: PackagesOptions, workspace: string): SbomWheel[] {
  const facts = new Map(options.wheels.map((w) => [w.pin.key, w.facts]));
  const closure = computeClosure(options.pins.map((p) => ({ key: p.key, extras: p.extras })), facts, options.env);
  const pinByKey = new Map<string, Pin>(options.pins.map((p) => [p.key, p]));
  const pinned = (key: string) => {
    const pin = pinByKey.get(key);
    if (!pin) throw new Error(`internal: build requirement ${key} is not a pin`);
    return `${pin.name}==${pin.version}`;
  };
  return options.wheels.map((w) => ({
    key: w.pin.key,
    name: w.pin.name,
    version: w.pin.version,
    filename: w.filename,
    sha256: w.sha256,
    // A wheel from the cache of built wheels was built from the same sdist: the same SBOM as when it was built.
    built: w.origin !== 'collected',
    artifact: artifactOf(w, workspace),
    buildRequirements: w.buildRequirements.map(pinned),
    unpinnedBuildRequirements: w.unpinnedBuildRequirements,
    requires: (closure.dependencies.get(w.pin.key) ?? []).map((d) => d.key),
    ...(w.facts.license ? { license: w.facts.license } : {}),
    ...(w.facts.homePage ? { homePage: w.facts.homePage } : {}),
  }));
}

const targetOf = (target: Target) => ({ name: target.name, format: target.format, distribution: target.distribution });

function sbomPackage(role: PackageRole, built: BuiltPackage, names: ReadonlySet<string>, wheel?: string): SbomPackage {
  return {
    role,
    name: built.name,
    built: { version: built.version, epoch: built.epoch, file: built.file, sha256: built.sha256 },
    ...(wheel ? { wheel } : {}),
    requires: built.requiresPackages.filter((name) => names.has(name)),
  };
}

/** The workspace's vendor, else its maintainer's name; nothing for reqset's placeholder maintainer. */
function supplierOf(by: PackagedBy, reqset: string): { supplier?: SbomSupplier } {
  const named = by.maintainer !== defaultMaintainer(reqset) ? /^(.*) <(.*)>$/.exec(by.maintainer) : null;
  const contact = named ? [{ name: named[1] as string, email: named[2] as string }] : undefined;
  const name = by.vendor ?? contact?.[0]?.name;
  return name ? { supplier: { name, ...(contact ? { contact } : {}) } } : {};
}

/** What the SBOM says, from the build (every package but the runtime package, which will carry it). */
export function sbomInputOf(
  options: PackagesOptions & { workspace: string },
  built: { wheelPackages: WheelPackage[]; pinsPackage: BuiltPackage; endpoints: EndpointPackage[] },
): SbomInput {
  const runtime = runtimePackageName(options.reqset);
  const all = [built.pinsPackage, ...built.wheelPackages.map((w) => w.package), ...built.endpoints.map((e) => e.package)];
  const names = new Set([runtime, ...all.map((p) => p.name)]);
  return {
    reqset: options.reqset,
    target: targetOf(options.target),
    toolVersion: options.toolVersion,
    epoch: options.epoch,
    ...supplierOf(options.packagedBy, options.reqset),
    wheels: sbomWheels(options, options.workspace),
    packages: [
      { role: 'runtime', name: runtime, requires: [] },
      sbomPackage('pins', built.pinsPackage, names),
      ...built.wheelPackages.map((w) => sbomPackage('wheel', w.package, names, w.pin.key)),
      ...built.endpoints.map((e) => sbomPackage('endpoint', e.package, names)),
    ],
  };
}
