/**
 * The rebuild check of wheel packages: the runtime helper itself rebuilds
 * each staged wheel tree (or stored zip) as the post-install will, so the
 * manifest can say whether the target gets the very same .whl back.
 *
 * The checks of one build go to `rebuild-wheels` processes (one request line
 * each), not one `rebuild-wheel` process per wheel: a Python start-up with
 * the helper's imports from its zipapp takes about 150 ms, many times the
 * check of a small wheel. A process is started when every running one is
 * busy, so there are never more than the build's concurrent jobs.
 *
 * A check's verdict is kept by what it depends on (the helper, the
 * interpreter and its zlib, the payload's description), so another target of
 * the same layout, or a package rebuilt for new inputs, does not deflate the
 * same wheel again.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { sha256, sha256File, withTempDir, type VerdictFiles } from '../fsutil.ts';
import { run, startLineServer, type LineServer } from '../run.ts';
import { RUNTIME_ZIPAPP_NAME, runtimeZipappOnce, writeRuntimeZipapp } from '../runtime/zipapp.ts';
import { ZIPINFO_FILE } from '../wheels/zipinfo.ts';

export interface RebuiltWheel {
  sha256: string;
  identical: boolean;
}

interface Interpreter {
  executable: string;
  /** What a rebuilt wheel's bytes depend on in the interpreter: its version and its zlib's, which deflates. */
  identity: string;
}

const interpreters = new Map<string, Promise<Interpreter>>();

const ASK_INTERPRETER = 'import json, sys, zlib; print(json.dumps([sys.executable, sys.version, zlib.ZLIB_RUNTIME_VERSION]))';

/**
 * The interpreter's own executable (its sys.executable) and identity, asked
 * once per process: `python3` on PATH may be a version manager's shim
 * (pyenv's costs about 100 ms a call).
 */
function interpreterOf(python: string): Promise<Interpreter> {
  let found = interpreters.get(python);
  if (!found) {
    found = run([python, '-c', ASK_INTERPRETER]).then((r) => {
      const [executable, version, zlib] = parseAnswer<string[]>(r.stdout, `${python} -c ...`);
      return { executable: executable || python, identity: `${version} zlib ${zlib}` };
    });
    interpreters.set(python, found);
  }
  return found;
}

/** One JSON line from a Python process; anything else is the tool's failure (a sitecustomize printing, say). */
function parseAnswer<T>(line: string, from: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new ToolError(`${from} answered something other than one JSON line: ${JSON.stringify(line.trim().slice(0, 200))}`);
  }
}

/**
 * What a check of `payload` depends on besides the helper and interpreter:
 * a tree's `.reqset-wheel.json` (its files are the wheel's members, each
 * checked against its CRC and RECORD hash as it was extracted), or the bytes
 * of a stored zip.
 */
async function payloadDigest(payload: string): Promise<string> {
  return (await stat(payload)).isDirectory() ? `tree ${await sha256File(path.join(payload, ZIPINFO_FILE))}` : `stored-zip ${await sha256File(payload)}`;
}

function isRebuiltWheel(value: unknown): value is RebuiltWheel {
  const v = value as Partial<RebuiltWheel> | undefined;
  return typeof v?.sha256 === 'string' && typeof v.identical === 'boolean';
}

export class RebuildChecker {
  private readonly idle: LineServer[] = [];
  private readonly started: LineServer[] = [];

  private constructor(
    private readonly argv: string[],
    private readonly scratch: string,
    /** The helper's and the interpreter's part of every verdict's key. */
    private readonly identity: string,
    private readonly verdicts: VerdictFiles | undefined,
  ) {}

  /** The wheel the post-install will rebuild from `payload` (a staged tree or stored zip). */
  async check(payload: string): Promise<RebuiltWheel> {
    const key = this.verdicts && sha256(`${this.identity}\n${await payloadDigest(payload)}`);
    const known = key ? await this.verdicts?.read<unknown>(key) : undefined;
    if (isRebuiltWheel(known)) return { sha256: known.sha256, identical: known.identical };
    const rebuilt = await this.ask(payload);
    if (key) await this.verdicts?.write(key, rebuilt);
    return rebuilt;
  }

  private async ask(payload: string): Promise<RebuiltWheel> {
    const server = this.idle.pop() ?? this.start();
    try {
      return await withTempDir('reqset-rebuild-', async (outdir) => {
        const answer = parseAnswer<Partial<RebuiltWheel> & { error?: string }>(await server.ask(JSON.stringify({ tree: payload, outdir })), 'the runtime helper\'s rebuild-wheels');
        if (answer.error !== undefined) throw new ToolError(`the runtime helper could not rebuild the wheel of ${payload}:\n  | ${answer.error}`);
        if (!isRebuiltWheel(answer)) throw new Error(`internal: rebuild-wheels answered ${JSON.stringify(answer)}`);
        return { sha256: answer.sha256, identical: answer.identical };
      }, this.scratch);
    } finally {
      this.idle.push(server);
    }
  }

  private start(): LineServer {
    const server = startLineServer(this.argv);
    this.started.push(server);
    return server;
  }

  /**
   * Checks with `python` (the host's) while `body` runs, keeping verdicts in
   * `verdicts` where given; every helper process has exited when it returns.
   */
  static async during<T>(python: string, verdicts: VerdictFiles | undefined, body: (checker: RebuildChecker) => Promise<T>): Promise<T> {
    return withTempDir('reqset-rebuild-check-', async (scratch) => {
      const helper = await writeRuntimeZipapp(path.join(scratch, RUNTIME_ZIPAPP_NAME));
      const interpreter = await interpreterOf(python);
      const identity = `helper ${sha256(await runtimeZipappOnce())}\n${interpreter.identity}`;
      const checker = new RebuildChecker([interpreter.executable, helper, 'rebuild-wheels'], scratch, identity, verdicts);
      try {
        return await body(checker);
      } finally {
        await Promise.all(checker.started.map((server) => server.close()));
      }
    });
  }
}
