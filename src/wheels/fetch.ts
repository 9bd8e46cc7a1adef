/**
 * Fetching a pin's distribution from the package indexes (PEP 503 HTML and
 * PEP 691 JSON simple pages, and --find-links URLs) before anything is built:
 * the wheel that fits the target best, else the sdist, checked against the
 * pin's hashes by reqset and kept in the wheel cache under what selected it,
 * so an unchanged pin is fetched once and a no-op rebuild needs no network.
 * Not `pip download`: pip prepares an sdist's metadata even with --no-deps,
 * installing its build requirements from the index (pypa/pip#1884) before
 * reqset could read and pin them. Credentials come as pip takes them: the
 * index URL's own (its `${VAR}` expanded), else the netrc, for that host only.
 */
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import pLimit from 'p-limit';
import { InputError, ToolError } from '../errors.ts';
import { sha256, withTempDir } from '../fsutil.ts';
import { normalizeName } from '../python/names.ts';
import { incompatibility, type TagTarget } from '../python/tags.ts';
import { DEFAULT_INDEX_URL, type IndexOptions, type Pin } from '../reqset/load.ts';
import { traceNote } from '../run.ts';
import type { WheelCache } from './cache.ts';
import { pinLabel, verifyHash, type HashCheck } from './hashes.ts';
import { locate } from './locate.ts';

/** A distribution fetched from an index, as the wheel cache keeps it. */
export interface Fetched {
  kind: 'wheel' | 'sdist';
  path: string;
  sha256: string;
  /** The file's URL, credentials redacted. */
  from: string;
  hashCheckedBy: HashCheck;
}

/** What pip sends for a simple page: PEP 691 JSON preferred, HTML accepted. */
const ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';

/** Pins fetched at once: enough to hide latency, few enough not to hammer an index. */
const PARALLEL_FETCHES = 8;

export const isRemoteUrl = (link: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(link) && !link.startsWith('file:');

/** The user's netrc (NETRC, else ~/.netrc), where pip finds the credentials of an index URL that has none. */
export function netrcFile(): string | undefined {
  const file = process.env.NETRC || path.join(homedir(), '.netrc');
  return existsSync(file) ? file : undefined;
}

/** The login and password a netrc gives a host (its `machine`, else `default`). */
export function netrcCredentials(text: string, host: string): { login: string; password: string } | undefined {
  const tokens = text.split(/\s+/).filter(Boolean);
  let found: { login: string; password: string } | undefined;
  let current: { login: string; password: string } | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === 'machine' || token === 'default') {
      const name = token === 'default' ? undefined : tokens[++i];
      current = { login: '', password: '' };
      if (name === host || (name === undefined && !found)) found = current;
    } else if ((token === 'login' || token === 'password') && current) current[token] = tokens[++i] ?? '';
  }
  return found;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The indexes in use, in pip's order (--index-url, PyPI when none is named, then --extra-index-url). */
const indexUrls = (index: IndexOptions) => (index.noIndex ? [] : [index.indexUrl ?? DEFAULT_INDEX_URL, ...index.extraIndexUrls]);

/** Every URL reqset may fetch from: the indexes in use and the --find-links URLs. */
const remoteLinks = (index: IndexOptions) => [...indexUrls(index), ...index.findLinks.filter(isRemoteUrl)];

/** The Authorization header of each request: an index URL's credentials for its host, else the netrc's. */
function authorizer(index: IndexOptions, netrc: string | undefined): (url: URL) => string | undefined {
  const byHost = new Map<string, string>();
  for (const link of remoteLinks(index)) {
    const url = new URL(link);
    if (url.username && !byHost.has(url.host)) byHost.set(url.host, basic(decodeURIComponent(url.username), decodeURIComponent(url.password)));
  }
  const netrcText = netrc ? readFileSync(netrc, 'utf8') : undefined;
  return (url) => {
    const own = byHost.get(url.host);
    if (own || !netrcText) return own;
    const entry = netrcCredentials(netrcText, url.hostname);
    return entry ? basic(entry.login, entry.password) : undefined;
  };
}

/** A URL without its credentials (fetch refuses them; they go in the Authorization header). */
function bare(link: string): URL {
  const url = new URL(link);
  url.username = '';
  url.password = '';
  return url;
}

/** The simple pages that may list a project: each index's `<index>/<name>/` and each --find-links URL. */
function projectPages(index: IndexOptions, key: string): URL[] {
  const pages = indexUrls(index).map((base) => new URL(`${encodeURIComponent(key)}/`, bare(base.endsWith('/') ? base : `${base}/`)));
  return [...pages, ...index.findLinks.filter(isRemoteUrl).map(bare)];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name.toLowerCase()] ?? all;
  });
}

/** The file URLs a simple page links to (PEP 691 `files[].url`, or PEP 503 anchors), resolved against the page. */
function pageLinks(body: string, contentType: string, page: URL): URL[] {
  const hrefs = contentType.includes('json')
    ? ((JSON.parse(body) as { files?: { url?: unknown }[] }).files ?? []).flatMap((f) => (typeof f.url === 'string' ? [f.url] : []))
    : [...body.matchAll(/<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map((m) => decodeEntities(m[1] ?? m[2] ?? m[3] ?? ''));
  return hrefs.map((href) => {
    // The fragment carries the index's hash of the file: reqset computes its own.
    const url = new URL(href, page);
    url.hash = '';
    return url;
  });
}

const fileName = (url: URL) => decodeURIComponent(path.posix.basename(url.pathname));

/** Whether a --no-binary / --only-binary list names this project (`:all:` counts unless `byName`). */
const listsProject = (values: string[], key: string, byName = false) =>
  values.flatMap((v) => v.split(',')).some((v) => (!byName && v === ':all:') || normalizeName(v) === key);

export class IndexFetcher {
  private readonly authorization: (url: URL) => string | undefined;
  private readonly limit = pLimit(PARALLEL_FETCHES);

  constructor(
    private readonly index: IndexOptions,
    private readonly tags: TagTarget,
    private readonly cache: WheelCache,
    private readonly redact: (text: string) => string,
    private readonly warn: (pin: Pin, detail: string) => void,
    netrc: string | undefined,
  ) {
    const invalid = remoteLinks(index).filter((link) => !URL.canParse(link));
    if (invalid.length) throw new InputError('some index options are not valid URLs', invalid.map((link) => `${redact(link)}: fix the URL`));
    this.authorization = authorizer(index, netrc);
  }

  /** The pin's distribution from the cache when it was fetched before with the same selection, else from the index. */
  async fetch(pin: Pin): Promise<Fetched> {
    const pages = projectPages(this.index, pin.key);
    const selection = { pin: pin.key, version: pin.version, hashes: pin.hashes, pages: pages.map((p) => this.redact(p.href)), tags: this.tags, formats: this.formats(pin) };
    const key = sha256(JSON.stringify({ format: 1, ...selection }));
    const cached = await this.cache.lookup(key, 'downloads');
    if (cached.hit) {
      const from = cached.from ?? '';
      return { kind: cached.path.endsWith('.whl') ? 'wheel' : 'sdist', path: cached.path, sha256: cached.sha256, from, hashCheckedBy: await verifyHash(pin, cached.path, cached.sha256, from) };
    }
    if (cached.discarded) this.warn(pin, `discarded a bad download cache entry, fetching again: ${cached.discarded}`);
    return this.limit(async () => {
      const { url, kind } = this.choose(pin, pages, await this.listFiles(pages));
      const from = this.redact(url.href);
      traceNote(`fetching ${from}`);
      return withTempDir('reqset-fetch-', async (dir) => {
        const file = path.join(dir, fileName(url));
        const digest = await this.download(url, file);
        const hashCheckedBy = await verifyHash(pin, file, digest, from);
        const stored = await this.cache.store(key, file, selection, { from }, 'downloads');
        return { kind, path: stored, sha256: digest, from, hashCheckedBy };
      });
    });
  }

  /** Which formats the index options allow this pin (pip's --only-binary and --no-binary). */
  private formats(pin: Pin): { wheel: boolean; sdist: boolean } {
    const { onlyBinary, noBinary } = this.index;
    return { wheel: listsProject(onlyBinary, pin.key, true) || !listsProject(noBinary, pin.key), sdist: !listsProject(onlyBinary, pin.key) };
  }

  /** Every file the pages link to, in page order; a page that does not exist (404) lists nothing, as in pip. */
  private async listFiles(pages: URL[]): Promise<URL[]> {
    const lists = await Promise.all(
      pages.map(async (page) => {
        // A --find-links URL may name one file rather than a page of links (as in pip).
        if (/\.(whl|tar\.gz|zip)$/.test(page.pathname)) return [page];
        const response = await this.request(page, ACCEPT);
        if (response.status === 404) {
          await response.body?.cancel();
          return [];
        }
        const body = await response.text();
        return pageLinks(body, response.headers.get('content-type') ?? '', new URL(response.url || page.href));
      }),
    );
    return lists.flat();
  }

  /** The best wheel for the target, else the sdist, of the pin's version: an input error naming what the indexes offer. */
  private choose(pin: Pin, pages: URL[], links: URL[]): { url: URL; kind: Fetched['kind'] } {
    // A file several pages list comes from the first (the --index-url before extra ones, as pip lists them).
    const byName = new Map<string, URL>();
    for (const url of links) if (!byName.has(fileName(url))) byName.set(fileName(url), url);
    const found = locate([...byName.keys()], pin.key, pin.version, this.tags);
    const formats = this.formats(pin);
    const best = found.wheels[0];
    const pick = formats.wheel && best && incompatibility(best.name, this.tags) === undefined ? best.path : formats.sdist ? found.sdist : undefined;
    const url = pick ? byName.get(pick) : undefined;
    if (pick && url) return { url, kind: pick.endsWith('.whl') ? 'wheel' : 'sdist' };
    const where = pages.map((p) => this.redact(p.href)).join(', ');
    const offered = [
      ...found.wheels.map((w) => `${w.path} (${incompatibility(w.name, this.tags) ?? 'wheels excluded by --no-binary'})`),
      ...(found.sdist ? [`${found.sdist}${formats.sdist ? '' : ' (sdists excluded by --only-binary)'}`] : []),
    ];
    if (offered.length === 0) throw new InputError(`${pin.source}: ${pinLabel(pin)} is not on ${where}: check the pin and the index options`);
    throw new InputError(`${pin.source}: no distribution of ${pinLabel(pin)} on ${where} fits the target: only ${offered.join(', ')}`);
  }

  /** One GET with the host's credentials; anything but success or 404 is the index's error, the URL redacted. */
  private async request(url: URL, accept?: string): Promise<Response> {
    const headers: Record<string, string> = accept ? { Accept: accept } : {};
    const authorization = this.authorization(url);
    if (authorization) headers.Authorization = authorization;
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new ToolError(`cannot reach ${this.redact(url.href)}: ${this.redact(cause)}`);
    }
    if (response.ok || response.status === 404) return response;
    await response.body?.cancel();
    const refused = response.status === 401 || response.status === 403;
    const advice = refused ? ': check the index credentials (in its URL, as ${VAR} in the pin list, or in the netrc)' : '';
    throw new ToolError(`${this.redact(url.href)} answered HTTP ${response.status} ${response.statusText}${advice}`);
  }

  /** Streams a file to `file` and returns its sha256. */
  private async download(url: URL, file: string): Promise<string> {
    const response = await this.request(url);
    if (response.status === 404 || !response.body) {
      await response.body?.cancel();
      throw new ToolError(`${this.redact(url.href)} answered HTTP ${response.status}: the index lists a file it does not serve`);
    }
    const hash = createHash('sha256');
    const tee = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    };
    await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), tee, createWriteStream(file));
    return hash.digest('hex');
  }
}
