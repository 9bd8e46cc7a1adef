import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { osError, ToolError } from '../../src/errors.ts';
import { formatCommand, run, startLineServer } from '../../src/run.ts';

const RUN_MODULE = path.resolve(import.meta.dirname, '../../src/run.ts');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe('the subprocess wrapper', () => {
  it('returns output of a successful command', async () => {
    const result = await run(['sh', '-c', 'echo out; echo err >&2']);
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.stderr, 'err\n');
  });
  it('passes arguments without a shell', async () => {
    const result = await run(['printf', '%s|', 'a b', '$HOME', ';rm -rf /']);
    assert.equal(result.stdout, 'a b|$HOME|;rm -rf /|');
  });
  it('names the command, the exit code and the tail of stderr on failure', async () => {
    await assert.rejects(run(['sh', '-c', 'for i in $(seq 1 30); do echo line$i >&2; done; exit 3'], { tailLines: 5 }), (error: unknown) => {
      assert.ok(error instanceof ToolError);
      assert.equal(error.exitCode, 1);
      assert.match(error.message, /^command failed \(exit code 3\): sh -c 'for i in/);
      assert.match(error.message, /\| line26\n {2}\| line27\n {2}\| line28\n {2}\| line29\n {2}\| line30$/);
      assert.doesNotMatch(error.message, /line25/);
      return true;
    });
  });
  it('gives an install hint for a missing tool', async () => {
    await assert.rejects(run(['createrepo_c_missing_for_test']), /createrepo_c_missing_for_test: command not found/);
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(run(['rpmbuild', '--version']), /rpmbuild: command not found \(install it with: apt-get install rpm; scripts\/setup-debian\.sh installs every tool reqset needs\)/);
    } finally {
      process.env.PATH = saved;
    }
  });
  it('returns instead of throwing when failure is allowed', async () => {
    assert.equal((await run(['sh', '-c', 'exit 4'], { allowFailure: true })).exitCode, 4);
  });
  it('quotes commands for messages', () => {
    assert.equal(formatCommand(['pip', 'wheel', 'a b', "it's"]), `pip wheel 'a b' 'it'\\''s'`);
  });
  it('a tool that fails on a full or read-only disk where it writes: that place\'s OS error, reported as one line', async () => {
    const full = ['sh', '-c', 'echo "error: Unable to write package: No space left on device" >&2; exit 1'];
    await assert.rejects(run(full, { writesTo: '/srv/out/packages' }), (error: unknown) => {
      const e = error as NodeJS.ErrnoException;
      assert.equal(e.code, 'ENOSPC');
      assert.equal(e.path, '/srv/out/packages');
      const reported = osError(error, [{ dir: '/srv/out', option: '--out' }]);
      assert.equal(reported?.message, 'cannot write /srv/out/packages (no space left on device): free some space on its file system or choose another --out');
      return true;
    });
    const readOnly = ['sh', '-c', 'echo "dpkg-deb: error: unable to create x: Read-only file system" >&2; exit 2'];
    await assert.rejects(run(readOnly, { writesTo: '/srv/out/x.deb' }), (error: unknown) => (error as NodeJS.ErrnoException).code === 'EROFS');
    await assert.rejects(run(full), ToolError, 'without writesTo the tool\'s own failure');
    await assert.rejects(run(['sh', '-c', 'echo "syntax error" >&2; exit 1'], { writesTo: '/srv/out' }), ToolError, 'other failures stay the tool\'s');
  });

  it('gives the input on stdin, and none (end of file at once) otherwise', async () => {
    assert.equal((await run(['cat'], { input: 'abc\n' })).stdout, 'abc\n');
    assert.equal((await run(['cat'])).stdout, '');
  });
  it('extends the environment, or replaces it; an undefined value removes a variable', async () => {
    const shown = async (options: Parameters<typeof run>[1]) => (await run(['/bin/sh', '-c', 'echo "${A-unset} ${HOME-unset}"'], options)).stdout;
    assert.equal(await shown({ env: { A: 'x' } }), `x ${process.env.HOME}\n`);
    assert.equal(await shown({ env: { A: 'x', HOME: undefined } }), 'x unset\n');
    assert.equal(await shown({ env: { A: 'y' }, replaceEnv: true }), 'y unset\n');
  });
  it('stops a command that runs past its timeout and says so', async () => {
    const started = Date.now();
    await assert.rejects(run(['sleep', '30'], { timeoutMs: 200 }), /^ToolError: command failed \(timed out after 200 ms\): sleep 30$/);
    assert.ok(Date.now() - started < 5000);
  });
  it('names the signal that killed a command', async () => {
    await assert.rejects(run(['sh', '-c', 'kill -KILL $$']), /command failed \(killed by SIGKILL\)/);
  });
  it('a command still running when reqset exits (e.g. on SIGINT) is stopped, not left behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'reqset-run-exit-'));
    try {
      const pidFile = path.join(dir, 'pid');
      const script = `import { run } from ${JSON.stringify(RUN_MODULE)};
        void run(['sh', '-c', 'echo $$ > ${pidFile}; exec sleep 30']);
        const wait = setInterval(async () => { try { (await import('node:fs')).readFileSync(${JSON.stringify(pidFile)}, 'utf8').trim() && process.exit(0); } catch {} }, 20);
        void wait;`;
      const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' });
      assert.deepEqual(await once(parent, 'exit'), [0, null]);
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      const deadline = Date.now() + 5000;
      while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(alive(pid), false, `sleep (pid ${pid}) outlived reqset`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('a line server answers each line in order; one that dies fails what it owed, naming its exit and stderr', async () => {
    const server = startLineServer(['sh', '-c', 'while read l; do [ "$l" = bye ] && { echo gone >&2; exit 3; }; echo "re $l"; done']);
    assert.deepEqual(await Promise.all([server.ask('a'), server.ask('b')]), ['re a', 're b']);
    await assert.rejects(server.ask('bye'), /command ended \(exit code 3\) before answering: sh -c .*\n {2}\| gone$/);
    await assert.rejects(server.ask('again'), /exit code 3/);
    await server.close();
    const missing = startLineServer(['reqset_missing_helper_for_test']);
    await assert.rejects(missing.ask('x'), /reqset_missing_helper_for_test: command not found/);
    await missing.close();
  });
});
