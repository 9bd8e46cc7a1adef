/**
 * The one way reqset starts a subprocess: an argv array, never a shell, and on
 * failure an error that names the command, its exit code and the tail of its
 * output, with an install hint when the tool itself is missing.
 */
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { ToolError } from './errors.ts';

/** Debian packages that provide the tools reqset calls (see scripts/setup-debian.sh). */
const INSTALL_HINTS: Record<string, string> = {
  rpmbuild: 'apt-get install rpm',
  fpm: 'gem install fpm, or set REQSET_FPM to its path',
  rpm: 'apt-get install rpm',
  rpmsign: 'apt-get install rpm',
  createrepo_c: 'apt-get install createrepo-c',
  makedeltarpm: 'apt-get install deltarpm',
  applydeltarpm: 'apt-get install deltarpm',
  dnf: 'apt-get install dnf',
  'dpkg-deb': 'apt-get install dpkg (dpkg-dev for dpkg-scanpackages)',
  'dpkg-scanpackages': 'apt-get install dpkg-dev',
  'dpkg-shlibdeps': 'apt-get install dpkg-dev',
  readelf: 'apt-get install binutils',
  fakeroot: 'apt-get install fakeroot',
  debootstrap: 'apt-get install debootstrap',
  podman: 'apt-get install podman runc',
  gpg: 'apt-get install gnupg',
  zstd: 'apt-get install zstd',
};

/** Where every command is reported before it runs (the CLI's --verbose); none by default. */
let commandTrace: ((command: string) => void) | undefined;

export function traceCommands(trace: ((command: string) => void) | undefined): void {
  commandTrace = trace;
}

/** Adds a line that is not a command to the trace, as a shell comment: e.g. the options a command reads from a file. */
export function traceNote(note: string): void {
  commandTrace?.(`# ${note}`);
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending it. */
  replaceEnv?: boolean;
  input?: string | Buffer;
  /** Lines of stderr (or stdout) kept in the error message. */
  tailLines?: number;
  /** Print output live (for long builds with --verbose). */
  inherit?: boolean;
  /** Extra text appended to a failure message, e.g. where the full log is. */
  failureNote?: string;
  /** Return instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /**
   * Where the command writes its result. When it fails saying that disk is
   * full or read-only, the failure is that place's OS error (one line naming
   * it, with advice), not the tool's output.
   */
  writesTo?: string;
  timeoutMs?: number;
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What tools print for the OS errors of a full or read-only disk. */
const DISK_ERRORS: [RegExp, string][] = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/Read-only file system/i, 'EROFS'],
];

/** The OS error a failed command's output reports for `place`, shaped as Node's own (code, path, syscall). */
function diskErrorIn(output: string, place: string, command: string): Error | undefined {
  const found = DISK_ERRORS.find(([pattern]) => pattern.test(output));
  if (!found) return undefined;
  return Object.assign(new Error(`${command}: ${found[1]}`), { code: found[1], path: place, syscall: 'write' });
}

/** A missing command, with the package that installs it. */
function notFound(file: string): ToolError {
  const hint = INSTALL_HINTS[file.split('/').pop() ?? file];
  return new ToolError(`${file}: command not found${hint ? ` (install it with: ${hint}; scripts/setup-debian.sh installs every tool reqset needs)` : ''}`);
}

export function formatCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export async function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run() needs a command');
  const command = formatCommand(argv);
  commandTrace?.(options.cwd ? `(cd ${formatCommand([options.cwd])} && ${command})` : command);
  const result = await execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: !options.replaceEnv,
    input: options.input,
    reject: false,
    stdio: options.inherit ? 'inherit' : 'pipe',
    stripFinalNewline: false,
    timeout: options.timeoutMs,
    encoding: 'utf8',
  });
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT') throw notFound(file);
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !options.allowFailure) {
    const diskError = options.writesTo ? diskErrorIn(`${stderr}\n${stdout}`, options.writesTo, command) : undefined;
    if (diskError) throw diskError;
    const why = result.timedOut ? `timed out after ${options.timeoutMs} ms` : result.signal ? `killed by ${result.signal}` : `exit code ${exitCode}`;
    const output = tail(stderr.trim() ? stderr : stdout, options.tailLines ?? 20);
    throw new ToolError(
      `command failed (${why}): ${command}` +
        (output ? `\n${output.replace(/^/gm, '  | ')}` : '') +
        (options.failureNote ? `\n${options.failureNote}` : ''),
    );
  }
  return { command, exitCode, stdout, stderr };
}

/**
 * A command started once that answers one line on stdout for each line on
 * its stdin, in order: a helper's batch mode, for work that would otherwise
 * start one process per item.
 */
export interface LineServer {
  /** Sends `line` (without a line break) and resolves with the answer line. */
  ask(line: string): Promise<string>;
  /** Ends its stdin and waits for it to exit (a failure shows in the answers it owed). */
  close(): Promise<void>;
}

export function startLineServer(argv: readonly string[], options: Pick<RunOptions, 'env' | 'tailLines'> = {}): LineServer {
  const [file, ...args] = argv;
  if (!file) throw new Error('startLineServer() needs a command');
  const command = formatCommand(argv);
  commandTrace?.(command);
  const child = execa(file, args, { env: options.env, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false, encoding: 'utf8' });
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let stderr = '';
  let failure: Error | undefined;
  child.stderr?.on('data', (data: Buffer | string) => void (stderr = `${stderr}${data}`.slice(-65536)));
  // A write after it died fails here; what is owed gets the failure below.
  child.stdin?.on('error', () => {});
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => waiting.shift()?.resolve(line));
  const exited = child.then((result) => {
    const code = (result as { code?: string }).code;
    const why = result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode ?? -1}`;
    const output = tail(stderr, options.tailLines ?? 20);
    failure = code === 'ENOENT' ? notFound(file) : new ToolError(`command ended (${why}) before answering: ${command}${output ? `\n${output.replace(/^/gm, '  | ')}` : ''}`);
    for (const owed of waiting.splice(0)) owed.reject(failure);
  });
  return {
    ask(line) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin?.write(`${line}\n`);
      });
    },
    async close() {
      child.stdin?.end();
      await exited;
    },
  };
}
