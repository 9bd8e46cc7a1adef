/**
 * rpmlint and lintian on built packages, and the one table of the warnings
 * they may still give on the example reqsets' packages, each with the reason
 * it is acceptable. An error, a warning the table does not list, or a table
 * entry whose packages no longer get it is a problem: the table stays true.
 *
 * What the design makes unavoidable is filtered before this table: for RPM
 * by packaging/rpmlint.toml, for DEB by the overrides each package ships
 * (src/packagers/deb/lintian.ts).
 */
import path from 'node:path';
import { run } from '../../src/run.ts';
import { MissingTestEnvironment, REPO_ROOT } from './env.ts';

export type LintTool = 'rpmlint' | 'lintian';
/** The example reqsets whose packages are linted: reqsset3 (test/integration/lint.test.ts) and webapp (test/e2e/webapp.test.ts). */
export type ExampleReqset = 'reqsset3' | 'webapp';

export interface LintFinding {
  tool: LintTool;
  severity: 'E' | 'W';
  /** The package name, without version or architecture. */
  pkg: string;
  tag: string;
  detail: string;
}

export interface AcceptedWarning {
  tool: LintTool;
  tag: string;
  /** Per example reqset, exactly the packages that get the warning, without the `<reqset>-` prefix. */
  packages: Partial<Record<ExampleReqset, string[]>>;
  reason: string;
}

export const RPMLINT_CONFIG = path.join(REPO_ROOT, 'packaging', 'rpmlint.toml');

const ALL_WHEELS_3 = ['wheel-an-example-pypi-project', 'wheel-setuptools', 'wheel-textfmt', 'wheel-tinystats', 'wheel-tinyvec', 'wheel-wheel'];
const ALL_PACKAGES_3 = ['an-example-pypi-project', 'pins', 'runtime', ...ALL_WHEELS_3];
const COMPILED_3 = ['wheel-tinystats', 'wheel-tinyvec'];

export const ACCEPTED_WARNINGS: AcceptedWarning[] = [
  {
    tool: 'rpmlint',
    tag: 'requires-on-release',
    packages: { reqsset3: ['an-example-pypi-project', 'pins'] },
    reason: 'SPEC: the endpoint and pins packages carry the exact pinned closure, so they require exact package versions, release included',
  },
  {
    tool: 'rpmlint',
    tag: 'postin-without-ghost-file-creation',
    packages: { reqsset3: ALL_WHEELS_3 },
    reason: "the %ghost wheel is written by the runtime helper's rebuild-wheel, which %post runs; rpmlint looks only for touch/mkdir-like commands",
  },
  {
    tool: 'rpmlint',
    tag: 'dangerous-command-in-%postun',
    packages: { reqsset3: ALL_WHEELS_3 },
    reason: "%postun on erase runs `rm -f` of exactly the package's own %ghost wheel in the wheelhouse",
  },
  {
    tool: 'rpmlint',
    tag: 'hidden-file-or-dir',
    packages: { reqsset3: ALL_WHEELS_3 },
    reason: '.reqset-wheel.json beside the unpacked wheel: what rebuilding the .whl needs, hidden so it cannot clash with a top-level name of the wheel',
  },
  {
    tool: 'rpmlint',
    tag: 'dangling-symlink',
    packages: { reqsset3: ['an-example-pypi-project'] },
    reason: "/usr/bin/<script> points into the application's venv, which %post creates from the wheelhouse",
  },
  {
    tool: 'rpmlint',
    tag: 'symlink-should-be-relative',
    packages: { reqsset3: ['an-example-pypi-project'] },
    reason: "/usr/bin/<script> -> /opt/...: between top-level directories an absolute link, as Debian Policy 10.5 asks (one tree for both formats); Fedora's own rpmlint configuration filters this tag",
  },
  {
    tool: 'rpmlint',
    tag: 'no-manual-page-for-binary',
    packages: { reqsset3: ['an-example-pypi-project'] },
    reason: 'console scripts of Python applications come without manual pages; the wheel has none to ship',
  },
  {
    tool: 'rpmlint',
    tag: 'no-documentation',
    packages: { reqsset3: ALL_PACKAGES_3 },
    reason: "a wheel's documentation is its METADATA, shipped in the unpacked .dist-info; reqset adds no %doc of its own",
  },
  {
    tool: 'rpmlint',
    tag: 'summary-not-capitalized',
    packages: { reqsset3: ALL_WHEELS_3 },
    reason: "a wheel package's summary starts with the PEP 503 name of the distribution, which is lower case by definition",
  },
  {
    tool: 'rpmlint',
    tag: 'unstripped-binary-or-object',
    packages: { reqsset3: COMPILED_3 },
    reason: 'SPEC: nothing is stripped; the unpacked wheel is byte for byte the wheel, or the rebuilt .whl fails its RECORD hashes',
  },
  {
    tool: 'rpmlint',
    tag: 'devel-file-in-non-devel-package',
    packages: { reqsset3: ['wheel-tinyvec'] },
    reason: "tinyvec's wheel ships its C header for the extensions compiled against it (tinystats); wheels have no -devel split",
  },
  {
    tool: 'rpmlint',
    tag: 'files-duplicate',
    packages: { reqsset3: ['wheel-setuptools'] },
    reason: "identical files inside the wheel as its authors built it (setuptools vendors importlib_resources twice; the same launcher .exe under two names)",
  },
  {
    tool: 'rpmlint',
    tag: 'changelog-time-overflow',
    packages: { reqsset3: ALL_PACKAGES_3 },
    reason: 'without SOURCE_DATE_EPOCH every timestamp reqset writes is 1980-01-01 (src/epoch.ts), the changelog entry\'s too, so builds are reproducible; rpmlint finds dates before 1990 suspicious. A release build sets SOURCE_DATE_EPOCH',
  },
  {
    tool: 'rpmlint',
    tag: 'invalid-license',
    packages: { reqsset3: ALL_PACKAGES_3 },
    reason: "Debian's rpmlint has an empty license list (ValidLicenses = []), so it calls every value invalid, SPDX `MIT` included; Fedora's rpmlint checks against the SPDX list",
  },
  {
    tool: 'rpmlint',
    tag: 'no-url-tag',
    packages: { reqsset3: ['an-example-pypi-project', 'pins', 'runtime', 'wheel-an-example-pypi-project', 'wheel-textfmt', 'wheel-tinystats', 'wheel-tinyvec'] },
    reason: 'the URL is the wheel\'s home page (pending M); the example projects under examples/ name none, and the runtime and pins packages have no upstream',
  },
  {
    tool: 'lintian',
    tag: 'initial-upload-closes-no-bugs',
    packages: { reqsset3: ALL_PACKAGES_3 },
    reason: 'the changelog\'s first entry closes no Debian bug: these packages are published to their own apt repository, never uploaded to Debian (no ITP)',
  },
  {
    tool: 'lintian',
    tag: 'copyright-without-copyright-notice',
    packages: { reqsset3: ['an-example-pypi-project', 'pins', 'runtime', 'wheel-an-example-pypi-project', 'wheel-setuptools', 'wheel-textfmt', 'wheel-tinystats', 'wheel-tinyvec'] },
    reason: 'pending M: /usr/share/doc/<pkg>/copyright gives the licence but no Copyright: line (a wheel\'s METADATA names an author, not a copyright holder)',
  },
  {
    tool: 'lintian',
    tag: 'command-with-path-in-maintainer-script',
    packages: { reqsset3: ['an-example-pypi-project', ...ALL_WHEELS_3] },
    reason: "postinst (and the endpoint's prerm) run the runtime helper with the target's interpreter by its path (python.path): wheels are checked and venvs made by exactly that Python, not whichever python3 comes first on PATH",
  },
  {
    tool: 'lintian',
    tag: 'no-manual-page',
    packages: { reqsset3: ['an-example-pypi-project'] },
    reason: 'console scripts of Python applications come without manual pages; the wheel has none to ship',
  },
  {
    tool: 'lintian',
    tag: 'script-not-executable',
    packages: { reqsset3: ['wheel-setuptools'] },
    reason: "a module of the wheel with a shebang line, shipped 0644 by its authors: the wheel's file modes are kept",
  },
  {
    tool: 'lintian',
    tag: 'unusual-interpreter',
    packages: { reqsset3: ['wheel-setuptools'] },
    reason: "that module's shebang (`#!/usr/bin/env python`) as the wheel's authors wrote it; it is imported, never run",
  },
];

async function requireTool(tool: LintTool): Promise<void> {
  const found = await run([tool, '--version'], { allowFailure: true }).catch(() => undefined);
  if (found?.exitCode !== 0) throw new MissingTestEnvironment(tool, 'scripts/setup-debian.sh installs it');
}

/** rpmlint with packaging/rpmlint.toml on `files`: every error and warning. */
export async function rpmlint(files: string[]): Promise<LintFinding[]> {
  await requireTool('rpmlint');
  const result = await run(['rpmlint', '-c', RPMLINT_CONFIG, ...files], { allowFailure: true, env: { LC_ALL: 'C.UTF-8' } });
  // 64: errors found (reported below); anything else but 0 is rpmlint failing.
  if (result.exitCode !== 0 && result.exitCode !== 64) throw new Error(`${result.command} failed (${result.exitCode}): ${result.stderr}${result.stdout}`);
  if (!new RegExp(`\\b${files.length} packages and 0 specfiles checked`).test(result.stdout)) throw new Error(`rpmlint did not check the ${files.length} packages:\n${result.stdout}`);
  return result.stdout.split('\n').flatMap((line) => {
    const m = /^(\S+)\.[\w]+: ([EW]): (\S+) ?(.*)$/.exec(line);
    return m ? [{ tool: 'rpmlint' as const, severity: m[2] as 'E' | 'W', pkg: m[1] ?? '', tag: m[3] ?? '', detail: m[4] ?? '' }] : [];
  });
}

/** lintian on `files`, with the overrides the packages ship: every error and warning. */
export async function lintian(files: string[]): Promise<LintFinding[]> {
  await requireTool('lintian');
  const result = await run(['lintian', '--no-cfg', '--fail-on', 'none', '--tag-display-limit', '0', ...files], { allowFailure: true, env: { LC_ALL: 'C.UTF-8' } });
  if (result.exitCode !== 0) throw new Error(`${result.command} failed (${result.exitCode}): ${result.stderr}${result.stdout}`);
  return result.stdout.split('\n').flatMap((line) => {
    const m = /^([EW]): ([^\s:]+)(?: [^\s:]+)?: (\S+) ?(.*)$/.exec(line);
    return m ? [{ tool: 'lintian' as const, severity: m[1] as 'E' | 'W', pkg: m[2] ?? '', tag: m[3] ?? '', detail: m[4] ?? '' }] : [];
  });
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

/**
 * What is wrong with `findings` for the packages of `reqset`: each error,
 * each warning whose tag the table does not list for exactly the packages
 * that got it, each table entry for this reqset that no longer occurs.
 */
export function lintProblems(reqset: ExampleReqset, tool: LintTool, findings: LintFinding[], table: AcceptedWarning[] = ACCEPTED_WARNINGS): string[] {
  const short = (pkg: string) => (pkg.startsWith(`${reqset}-`) ? pkg.slice(reqset.length + 1) : pkg);
  const problems = findings.filter((f) => f.severity === 'E').map((f) => `${tool} error ${f.tag} in ${f.pkg}: ${f.detail}`);
  const warned = new Map<string, LintFinding[]>();
  for (const f of findings.filter((x) => x.severity === 'W')) warned.set(f.tag, [...(warned.get(f.tag) ?? []), f]);
  const entries = table.filter((e) => e.tool === tool && e.packages[reqset]);
  for (const [tag, found] of warned) {
    const listed = sorted(entries.find((e) => e.tag === tag)?.packages[reqset] ?? []);
    const got = sorted(found.map((f) => short(f.pkg)));
    if (got.join(' ') !== listed.join(' ')) {
      problems.push(`${tool} warning ${tag}: the table lists [${listed.join(', ')}], got [${got.join(', ')}], e.g. ${found[0]?.pkg}: ${found[0]?.detail}`);
    }
  }
  for (const entry of entries) if (!warned.has(entry.tag)) problems.push(`${tool} warning ${entry.tag} no longer occurs in ${reqset}: remove it from the table`);
  return problems;
}
