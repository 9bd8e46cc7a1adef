/**
 * Test workspaces: a temporary directory with reqsets/ (and more as tests
 * need), the example sdists built once per process, and a wheel cache that
 * tests of one file share so the slow pip builds happen once.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildExampleSdists } from '../../scripts/example-sdists.ts';

export const CORPUS = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'corpus', 'wheels');

export interface Workspace {
  dir: string;
  /** Example sdists and bootstrap wheels. */
  dist: string;
  cache: string;
  out: string;
  writeReqset(name: string, text: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** The pins of the bundled example reqset, with find-links given by the caller. */
export function reqsset3Pins(versions: Record<string, string> = {}): string {
  const v = (name: string, fallback: string) => versions[name] ?? fallback;
  return [
    'setuptools==65.5.0',
    'wheel==0.38.4',
    `textfmt==${v('textfmt', '1.0.0')}`,
    `tinyvec==${v('tinyvec', '1.0.0')}`,
    `tinystats==${v('tinystats', '1.0.0')}`,
    `an_example_pypi_project==${v('an_example_pypi_project', '0.0.4')}`,
  ].join('\n');
}

export async function makeWorkspace(options: { versions?: Record<string, string>; cache?: string } = {}): Promise<Workspace> {
  const dir = await mkdtemp(path.join(tmpdir(), 'reqset-test-ws-'));
  const dist = path.join(dir, 'dist-src');
  await buildExampleSdists(dist, { versions: options.versions });
  await mkdir(path.join(dir, 'reqsets'), { recursive: true });
  return {
    dir,
    dist,
    cache: options.cache ?? path.join(dir, 'cache'),
    out: path.join(dir, 'out'),
    async writeReqset(name, text) {
      const file = path.join(dir, 'reqsets', `${name}.txt`);
      await writeFile(file, text);
      return file;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The example reqset twice, sharing one wheel cache: v1 as pinned, v2 with textfmt bumped to 1.1.0. */
export async function makeUpgradeWorkspaces(reqset: string): Promise<{ v1: Workspace; v2: Workspace }> {
  const v1 = await makeWorkspace();
  await v1.writeReqset(reqset, `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
  const v2 = await makeWorkspace({ cache: v1.cache });
  await buildExampleSdists(v2.dist, { versions: { textfmt: '1.1.0' } });
  await v2.writeReqset(reqset, `--no-index\n--find-links ../dist-src\n${reqsset3Pins({ textfmt: '1.1.0' })}\n`);
  return { v1, v2 };
}

/** The real-world closures of ../shared/corpus: requests, Flask and numpy. */
export const CORPUS_PINS = [
  'requests==2.34.2', 'urllib3==2.7.0', 'idna==3.13', 'certifi==2026.5.20', 'charset_normalizer==3.4.7',
  'Flask==3.1.3', 'Werkzeug==3.1.8', 'Jinja2==3.1.6', 'MarkupSafe==3.0.3', 'itsdangerous==2.2.0', 'click==8.4.0', 'blinker==1.9.0',
  'numpy==2.4.6',
];
