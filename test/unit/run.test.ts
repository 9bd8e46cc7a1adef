import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { osError, ToolError } from '../../src/errors.ts';
import { formatCommand, run } from '../../src/run.ts';

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
});
