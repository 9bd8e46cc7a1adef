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
 */
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { withTempDir } from '../fsutil.ts';
import { run, startLineServer, type LineServer } from '../run.ts';
import { RUNTIME_ZIPAPP_NAME, writeRuntimeZipapp } from '../runtime/zipapp.ts';

export interface RebuiltWheel {
  sha256: string;
  identical: boolean;
}

const executables = new Map<string, Promise<string>>();

/**
 * The interpreter's own executable (its sys.executable), asked once per
 * process: `python3` on PATH may be a version manager's shim (pyenv's costs
 * about 100 ms a call).
 */
function executableOf(python: string): Promise<string> {
  let found = executables.get(python);
  if (!found) {
    found = run([python, '-c', 'import sys; print(sys.executable)']).then((r) => r.stdout.trim() || python);
    executables.set(python, found);
  }
  return found;
}

export class RebuildChecker {
  private readonly idle: LineServer[] = [];
  private readonly started: LineServer[] = [];

  private constructor(
    private readonly argv: string[],
    private readonly scratch: string,
  ) {}

  /** The wheel the post-install will rebuild from `payload` (a staged tree or stored zip). */
  async check(payload: string): Promise<RebuiltWheel> {
    const server = this.idle.pop() ?? this.start();
    try {
      return await withTempDir('reqset-rebuild-', async (outdir) => {
        const answer = JSON.parse(await server.ask(JSON.stringify({ tree: payload, outdir }))) as Partial<RebuiltWheel> & { error?: string };
        if (answer.error !== undefined) throw new ToolError(`the runtime helper could not rebuild the wheel of ${payload}:\n  | ${answer.error}`);
        if (typeof answer.sha256 !== 'string' || typeof answer.identical !== 'boolean') throw new Error(`internal: rebuild-wheels answered ${JSON.stringify(answer)}`);
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

  /** Checks with `python` (the host's) while `body` runs; every helper process has exited when it returns. */
  static async during<T>(python: string, body: (checker: RebuildChecker) => Promise<T>): Promise<T> {
    return withTempDir('reqset-rebuild-check-', async (scratch) => {
      const helper = await writeRuntimeZipapp(path.join(scratch, RUNTIME_ZIPAPP_NAME));
      const checker = new RebuildChecker([await executableOf(python), helper, 'rebuild-wheels'], scratch);
      try {
        return await body(checker);
      } finally {
        await Promise.all(checker.started.map((server) => server.close()));
      }
    });
  }
}
