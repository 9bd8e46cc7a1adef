/**
 * A package index for tests on 127.0.0.1: the wheels and sdists of one
 * directory as a PEP 503 (HTML) simple index, or a PEP 691 (JSON) one that
 * answers `application/vnd.pypi.simple.v1+json` when the client accepts it
 * (as pip does), optionally behind HTTP basic auth. Projects are at
 * `/simple/<name>/`, files at `/files/<file>` with their sha256 in the link.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface IndexServerOptions {
  /** `html`: PEP 503 only; `json`: PEP 691 JSON when accepted, else HTML. */
  api: 'html' | 'json';
  auth?: { user: string; password: string };
}

export interface IndexServer {
  /** `http://127.0.0.1:<port>` (no credentials). */
  origin: string;
  /** Every request: its path, the content type answered and whether it carried the right credentials. */
  requests: { path: string; type: string; authorized: boolean }[];
  close(): Promise<void>;
}

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** The project of a wheel (`name-version-...whl`) or sdist (`name-version.tar.gz`) file name. */
function projectOf(file: string): string | undefined {
  if (file.endsWith('.whl')) return normalize(file.split('-')[0] ?? '');
  const sdist = /^(.+)-[^-]+\.(tar\.gz|zip)$/.exec(file);
  return sdist?.[1] ? normalize(sdist[1]) : undefined;
}

interface Distribution {
  filename: string;
  sha256: string;
}

async function readProjects(dir: string): Promise<Map<string, Distribution[]>> {
  const projects = new Map<string, Distribution[]>();
  for (const filename of (await readdir(dir)).sort()) {
    const project = projectOf(filename);
    if (!project) continue;
    const sha256 = createHash('sha256').update(await readFile(path.join(dir, filename))).digest('hex');
    projects.set(project, [...(projects.get(project) ?? []), { filename, sha256 }]);
  }
  return projects;
}

function page(res: ServerResponse, api: IndexServerOptions['api'], accept: string, html: string, json: object): string {
  const type = api === 'json' && accept.includes(JSON_TYPE) ? JSON_TYPE : 'text/html';
  res.writeHead(200, { 'Content-Type': type });
  res.end(type === JSON_TYPE ? JSON.stringify(json) : `<!DOCTYPE html>\n<html><body>\n${html}\n</body></html>\n`);
  return type;
}

function authorized(req: IncomingMessage, auth: IndexServerOptions['auth']): boolean {
  if (!auth) return true;
  const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  return req.headers.authorization === expected;
}

/** Serves the distributions in `dir` (read once, at start) as an index. */
export async function serveIndex(dir: string, options: IndexServerOptions): Promise<IndexServer> {
  const projects = await readProjects(dir);
  const requests: IndexServer['requests'] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry = { path: urlPath, type: '', authorized: authorized(req, options.auth) };
    requests.push(entry);
    if (!entry.authorized) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test index"' }).end();
      return;
    }
    const accept = req.headers.accept ?? '';
    const project = /^\/simple\/([^/]+)\/?$/.exec(urlPath)?.[1];
    const file = /^\/files\/([^/]+)$/.exec(urlPath)?.[1];
    if (urlPath === '/simple/' || urlPath === '/simple') {
      const names = [...projects.keys()];
      const html = names.map((n) => `<a href="${n}/">${n}</a>`).join('\n');
      entry.type = page(res, options.api, accept, html, { meta: { 'api-version': '1.0' }, projects: names.map((name) => ({ name })) });
    } else if (project && projects.has(normalize(project))) {
      const files = projects.get(normalize(project)) ?? [];
      const html = files.map((f) => `<a href="../../files/${f.filename}#sha256=${f.sha256}">${f.filename}</a>`).join('\n');
      const json = { meta: { 'api-version': '1.0' }, name: normalize(project), files: files.map((f) => ({ filename: f.filename, url: `../../files/${f.filename}`, hashes: { sha256: f.sha256 } })) };
      entry.type = page(res, options.api, accept, html, json);
    } else if (file && projectOf(file)) {
      const data = await readFile(path.join(dir, path.basename(file))).catch(() => undefined);
      entry.type = 'application/octet-stream';
      if (data) res.writeHead(200, { 'Content-Type': entry.type, 'Content-Length': data.length }).end(data);
      else res.writeHead(404).end();
    } else res.writeHead(404).end();
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
