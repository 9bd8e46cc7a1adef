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
import { withTempDir } from '../../src/fsutil.ts';
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

/** The packages of each example, as the table names them (without `<reqset>-`). */
const WHEELS_3 = ['an-example-pypi-project', 'setuptools', 'textfmt', 'tinystats', 'tinyvec', 'wheel'].map((n) => `wheel-${n}`);
const ALL_3 = ['an-example-pypi-project', 'pins', 'runtime', ...WHEELS_3];
const WHEELS_WEBAPP = [
  'annotated-types', 'blinker', 'certifi', 'charset-normalizer', 'click', 'cython', 'flask', 'gunicorn', 'idna', 'itsdangerous',
  'jinja2', 'markupsafe', 'msgpack', 'numpy', 'packaging', 'pydantic', 'pydantic-core', 'python-dateutil', 'pyyaml', 'requests',
  'setuptools', 'simplejson', 'six', 'sqlalchemy', 'typing-extensions', 'typing-inspection', 'tzdata', 'urllib3', 'werkzeug', 'wheel',
].map((n) => `wheel-${n}`);
const ALL_WEBAPP = ['flask', 'pins', 'runtime', ...WHEELS_WEBAPP];
const wheels = (...names: string[]) => names.map((n) => `wheel-${n}`);

export const ACCEPTED_WARNINGS: AcceptedWarning[] = [
  // What reqset's own design gives every package of its kind.
  {
    tool: 'rpmlint',
    tag: 'requires-on-release',
    packages: { reqsset3: ['an-example-pypi-project', 'pins'], webapp: ['flask', 'pins'] },
    reason: 'SPEC: the endpoint and pins packages carry the exact pinned closure, so they require exact package versions, release included',
  },
  {
    tool: 'rpmlint',
    tag: 'postin-without-ghost-file-creation',
    packages: { reqsset3: WHEELS_3, webapp: WHEELS_WEBAPP },
    reason: "the %ghost wheel is written by the runtime helper's rebuild-wheel, which %post runs; rpmlint looks only for touch/mkdir-like commands",
  },
  {
    tool: 'rpmlint',
    tag: 'dangerous-command-in-%postun',
    packages: { reqsset3: WHEELS_3, webapp: WHEELS_WEBAPP },
    reason: "%postun on erase runs `rm -f` of exactly the package's own %ghost wheel in the wheelhouse",
  },
  {
    tool: 'rpmlint',
    tag: 'hidden-file-or-dir',
    packages: { reqsset3: WHEELS_3, webapp: WHEELS_WEBAPP },
    reason: '.reqset-wheel.json beside the unpacked wheel: what rebuilding the .whl needs, hidden so it cannot clash with a top-level name of the wheel',
  },
  {
    tool: 'rpmlint',
    tag: 'dangling-symlink',
    packages: { reqsset3: ['an-example-pypi-project'], webapp: ['flask'] },
    reason: "/usr/bin/<script> points into the application's venv, which %post creates from the wheelhouse",
  },
  {
    tool: 'rpmlint',
    tag: 'symlink-should-be-relative',
    packages: { reqsset3: ['an-example-pypi-project'], webapp: ['flask'] },
    reason: "/usr/bin/<script> -> /opt/...: between top-level directories an absolute link, as Debian Policy 10.5 asks (one tree for both formats); Fedora's own rpmlint configuration filters this tag",
  },
  {
    tool: 'rpmlint',
    tag: 'no-manual-page-for-binary',
    packages: { reqsset3: ['an-example-pypi-project'], webapp: ['flask'] },
    reason: 'console scripts of Python applications come without manual pages; the wheel has none to ship',
  },
  {
    tool: 'lintian',
    tag: 'no-manual-page',
    packages: { reqsset3: ['an-example-pypi-project'], webapp: ['flask'] },
    reason: 'console scripts of Python applications come without manual pages; the wheel has none to ship',
  },
  {
    tool: 'rpmlint',
    tag: 'no-documentation',
    packages: { reqsset3: ALL_3, webapp: ALL_WEBAPP },
    reason: "a wheel's documentation is its METADATA, shipped in the unpacked .dist-info; reqset adds no %doc of its own",
  },
  {
    tool: 'rpmlint',
    tag: 'summary-not-capitalized',
    packages: { reqsset3: WHEELS_3, webapp: WHEELS_WEBAPP },
    reason: "a wheel package's summary starts with the PEP 503 name of the distribution, which is lower case by definition",
  },
  {
    tool: 'rpmlint',
    tag: 'unstripped-binary-or-object',
    packages: { reqsset3: wheels('tinystats', 'tinyvec'), webapp: wheels('charset-normalizer', 'markupsafe', 'msgpack', 'numpy', 'pyyaml', 'simplejson', 'sqlalchemy') },
    reason: 'SPEC: nothing is stripped; the unpacked wheel is byte for byte the wheel, or the rebuilt .whl fails its RECORD hashes',
  },
  {
    tool: 'rpmlint',
    tag: 'changelog-time-overflow',
    packages: { reqsset3: ALL_3, webapp: ALL_WEBAPP },
    reason: "without SOURCE_DATE_EPOCH every timestamp reqset writes is 1980-01-01 (src/epoch.ts), the changelog entry's too, so builds are reproducible; rpmlint finds dates before 1990 suspicious. A release build sets SOURCE_DATE_EPOCH",
  },
  {
    tool: 'rpmlint',
    tag: 'invalid-license',
    packages: { reqsset3: ALL_3, webapp: ALL_WEBAPP },
    reason: "Debian's rpmlint has an empty license list (ValidLicenses = []), so it calls every value invalid, SPDX `MIT` included; Fedora's rpmlint checks against the SPDX list",
  },
  {
    tool: 'rpmlint',
    tag: 'no-url-tag',
    packages: { reqsset3: ['an-example-pypi-project', 'pins', 'runtime', ...wheels('an-example-pypi-project', 'textfmt', 'tinystats', 'tinyvec')], webapp: ['pins', 'runtime', ...wheels('charset-normalizer', 'urllib3')] },
    reason: "the URL is the wheel's home page: these wheels' METADATA name none (Project-URL only, or nothing: examples/), and the runtime and pins packages have no upstream",
  },
  {
    tool: 'lintian',
    tag: 'initial-upload-closes-no-bugs',
    packages: { reqsset3: ALL_3, webapp: ALL_WEBAPP },
    reason: "the changelog's first entry closes no Debian bug: these packages are published to their own apt repository, never uploaded to Debian (no ITP)",
  },
  {
    tool: 'lintian',
    tag: 'copyright-without-copyright-notice',
    packages: {
      reqsset3: ['an-example-pypi-project', 'pins', 'runtime', ...wheels('an-example-pypi-project', 'setuptools', 'textfmt', 'tinystats', 'tinyvec')],
      webapp: ['pins', 'runtime', ...wheels('certifi', 'cython', 'gunicorn', 'packaging', 'setuptools')],
    },
    reason: "pending M: /usr/share/doc/<pkg>/copyright gives the licence but no Copyright: notice where the wheel's license files have none to copy",
  },
  {
    tool: 'lintian',
    tag: 'command-with-path-in-maintainer-script',
    packages: { reqsset3: ['an-example-pypi-project', ...WHEELS_3], webapp: ['flask', ...WHEELS_WEBAPP] },
    reason: "postinst (and the endpoint's prerm) run the runtime helper with the target's interpreter by its path (python.path): wheels are checked and venvs made by exactly that Python, not whichever python3 comes first on PATH",
  },
  {
    tool: 'lintian',
    tag: 'extended-description-line-too-long',
    packages: { webapp: wheels('charset-normalizer', 'cython', 'msgpack', 'numpy', 'pydantic-core', 'sqlalchemy') },
    reason: "descriptions are wrapped at spaces (packagers/wrap.ts); a manylinux wheel's file name alone is longer than a line",
  },
  // The wheels' own files, byte for byte and with the wheel's modes (SPEC), as their authors shipped them.
  {
    tool: 'rpmlint',
    tag: 'devel-file-in-non-devel-package',
    packages: { reqsset3: wheels('tinyvec'), webapp: wheels('cython', 'markupsafe', 'numpy') },
    reason: "C headers and sources in the wheel (tinyvec's for the extensions compiled against it); wheels have no -devel split",
  },
  {
    tool: 'rpmlint',
    tag: 'files-duplicate',
    packages: { reqsset3: wheels('setuptools'), webapp: wheels('cython', 'gunicorn', 'numpy', 'setuptools', 'tzdata') },
    reason: 'identical files inside the wheel as its authors built it (vendored copies, empty __init__.py, the same launcher under two names)',
  },
  {
    tool: 'lintian',
    tag: 'script-not-executable',
    packages: { reqsset3: wheels('setuptools'), webapp: wheels('cython', 'numpy', 'requests') },
    reason: 'modules of the wheel with a shebang line, shipped 0644 by their authors: imported, not run',
  },
  {
    tool: 'lintian',
    tag: 'unusual-interpreter',
    packages: { reqsset3: wheels('setuptools'), webapp: wheels('requests') },
    reason: 'such a module\'s shebang (`#!/usr/bin/env python`) as its authors wrote it',
  },
  {
    tool: 'lintian',
    tag: 'executable-not-elf-or-script',
    packages: { webapp: wheels('certifi') },
    reason: 'a test module shipped 0755 in the wheel without a shebang',
  },
  {
    tool: 'lintian',
    tag: 'package-contains-timestamped-gzip',
    packages: { webapp: wheels('numpy') },
    reason: "numpy's test data (a .pkl.gz) carries its own gzip timestamp, byte for byte",
  },
  {
    tool: 'lintian',
    tag: 'shared-library-lacks-prerequisites',
    packages: { webapp: wheels('numpy') },
    reason: 'extension modules that need only the interpreter, linked as numpy links them: no DT_NEEDED',
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

/**
 * lintian on `files`, with the overrides the packages ship: every error and
 * warning. In a temporary directory of its own, removed after it: lintian
 * leaves its ELF index (`mldbm-elf-*`) in TMPDIR.
 */
export async function lintian(files: string[]): Promise<LintFinding[]> {
  await requireTool('lintian');
  const result = await withTempDir('reqset-lintian-', (tmp) =>
    run(['lintian', '--no-cfg', '--fail-on', 'none', '--tag-display-limit', '0', ...files], { allowFailure: true, env: { LC_ALL: 'C.UTF-8', TMPDIR: tmp } }),
  );
  if (result.exitCode !== 0) throw new Error(`${result.command} failed (${result.exitCode}): ${result.stderr}${result.stdout}`);
  return result.stdout.split('\n').flatMap((line) => {
    const m = /^([EW]): ([^\s:]+)(?: [^\s:]+)?: (\S+) ?(.*)$/.exec(line);
    return m ? [{ tool: 'lintian' as const, severity: m[1] as 'E' | 'W', pkg: m[2] ?? '', tag: m[3] ?? '', detail: m[4] ?? '' }] : [];
  });
}

/** The lint problems (lintProblems) of `reqset`'s packages `files`, by `tool`. */
export async function lintFiles(reqset: ExampleReqset, tool: LintTool, files: string[]): Promise<string[]> {
  return lintProblems(reqset, tool, tool === 'rpmlint' ? await rpmlint(files) : await lintian(files));
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
