/**
 * `npm run bench packages`: the fpm backend beside the native one, same
 * closure (the corpus pins), same run, same wheel cache, each backend
 * packaging everything (the package cache moved aside before each build).
 * fpm is REQSET_FPM, else ../shared/vendor/fpm-run when there, else fpm on PATH.
 */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import * as api from '../src/api.ts';
import { CORPUS, CORPUS_PINS, makeWorkspace } from '../test/helpers/workspace.ts';
import type { Row } from './table.ts';

const VENDORED_FPM = path.resolve(import.meta.dirname, '..', '..', 'shared', 'vendor', 'fpm-run');
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(2)} MiB`;

export async function fpmBench(): Promise<Row[]> {
  if (!existsSync(CORPUS)) return [];
  if (!process.env.REQSET_FPM && existsSync(VENDORED_FPM)) process.env.REQSET_FPM = VENDORED_FPM;
  const ws = await makeWorkspace();
  try {
    await ws.writeReqset('corpus', `--no-index\n--find-links ${CORPUS}\n${CORPUS_PINS.join('\n')}\n`);
    const rows: Row[] = [];
    for (const target of ['el9-py311', 'debian12']) {
      await api.wheels('corpus', target, { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2 });
      const measured: Record<string, { seconds: number; bytes: number }> = {};
      for (const packager of api.PACKAGER_BACKENDS) {
        if (existsSync(path.join(ws.cache, 'packages'))) await rename(path.join(ws.cache, 'packages'), path.join(ws.dir, `packages-before-${packager}-${target}`));
        const started = process.hrtime.bigint();
        const result = await api.buildTarget('corpus', target, { workspace: ws.dir, out: path.join(ws.dir, `out-${packager}`), wheelCache: ws.cache, jobs: 2, packager });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        measured[packager] = { seconds, bytes: api.manifestPackages(result.manifest).reduce((sum, p) => sum + p.size, 0) };
      }
      const { native, fpm } = measured as Record<api.PackagerBackend, { seconds: number; bytes: number }>;
      rows.push({ measure: `package corpus closures for ${target}: fpm vs native`, value: `${fpm.seconds.toFixed(2)}s`, baseline: `${native.seconds.toFixed(2)}s`, ratio: fpm.seconds / native.seconds });
      rows.push({ measure: `${target} package bytes: fpm vs native (${CORPUS_PINS.length} pins)`, value: mib(fpm.bytes), baseline: mib(native.bytes), ratio: fpm.bytes / native.bytes });
    }
    return rows;
  } finally {
    await ws.cleanup();
  }
}
