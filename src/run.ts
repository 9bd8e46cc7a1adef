/**
 * The one way reqset starts a subprocess: an argv array, never a shell, and on
 * failure an error that names the command, its exit code and the tail of its
 * output, with an install hint when the tool itself is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
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

/** A failed command's one message: what went wrong, the command, then the tail of its output quoted. */
function commandFailure(what: string, command: string, output: string, note?: string): ToolError {
  return new ToolError(`${what}: ${command}${output ? `\n${output.replace(/^/gm, '  | ')}` : ''}${note ? `\n${note}` : ''}`);
}

function endedBy(signal: NodeJS.Signals | null, exitCode: number | null): string {
  return signal ? `killed by ${signal}` : `exit code ${exitCode ?? -1}`;
}

export async function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run() needs a command');
  const command = formatCommand(argv);
  commandTrace?.(options.cwd ? `(cd ${formatCommand([options.cwd])} && ${command})` : command);
  const ended = await finished(start(file, args, options), options);
  if (ended.spawnError?.code === 'ENOENT') throw notFound(file);
  if (ended.spawnError) throw new ToolError(`cannot start ${command}: ${ended.spawnError.message}`);
  const { stdout, stderr } = ended;
  const exitCode = ended.exitCode ?? -1;
  if (exitCode !== 0 && !options.allowFailure) {
    const diskError = options.writesTo ? diskErrorIn(`${stderr}\n${stdout}`, options.writesTo, command) : undefined;
    if (diskError) throw diskError;
    const why = ended.timedOut ? `timed out after ${options.timeoutMs} ms` : endedBy(ended.signal, exitCode);
    const output = tail(stderr.trim() ? stderr : stdout, options.tailLines ?? 20);
    throw commandFailure(`command failed (${why})`, command, output, options.failureNote);
  }
  return { command, exitCode, stdout, stderr };
}

/** Children still running: they are sent SIGTERM when this process exits (e.g. on SIGINT), so none outlives a cancelled build. */
const running = new Set<ChildProcess>();
let killOnExit = false;

function start(file: string, args: string[], options: Pick<RunOptions, 'cwd' | 'env' | 'replaceEnv' | 'input'>, stdin: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  const env = options.replaceEnv ? options.env : options.env && { ...process.env, ...options.env };
  const input = options.input === undefined ? stdin : 'pipe';
  const child = spawn(file, args, { cwd: options.cwd, env, stdio: [input, 'pipe', 'pipe'] });
  if (!killOnExit) {
    killOnExit = true;
    process.on('exit', () => running.forEach((c) => c.kill('SIGTERM')));
  }
  running.add(child);
  child.once('close', () => running.delete(child)).once('error', () => running.delete(child));
  // A child that exits without reading all its input: what it did is in its exit code.
  child.stdin?.on('error', () => {});
  if (options.input !== undefined) child.stdin?.end(options.input);
  return child;
}

interface Ended {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  spawnError?: NodeJS.ErrnoException;
}

/** How `child` ended and what it printed; after timeoutMs it gets SIGTERM, and SIGKILL 5 s later. */
function finished(child: ChildProcess, options: Pick<RunOptions, 'timeoutMs'>): Promise<Ended> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  if (options.timeoutMs !== undefined) {
    timers.push(setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      timers.push(setTimeout(() => child.kill('SIGKILL'), 5000).unref());
    }, options.timeoutMs));
  }
  return new Promise((resolve) => {
    const settle = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException) => {
      timers.forEach(clearTimeout);
      resolve({ exitCode, signal, timedOut, spawnError, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    };
    child.once('error', (error: NodeJS.ErrnoException) => settle(null, null, error));
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => settle(code, signal));
  });
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
  const child = start(file, args, { env: options.env }, 'pipe');
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let stderr = '';
  let failure: Error | undefined;
  child.stderr?.on('data', (data: Buffer) => void (stderr = `${stderr}${data}`.slice(-65536)));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => waiting.shift()?.resolve(line));
  const exited = new Promise<void>((resolve) => {
    const settle = (why: string, spawnError?: NodeJS.ErrnoException) => {
      failure ??= spawnError?.code === 'ENOENT' ? notFound(file) : commandFailure(`command ended (${why}) before answering`, command, tail(stderr, options.tailLines ?? 20));
      for (const owed of waiting.splice(0)) owed.reject(failure);
      resolve();
    };
    child.once('error', (error: NodeJS.ErrnoException) => settle(error.message, error));
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => settle(endedBy(signal, code)));
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
