import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ToolError } from '../../src/errors.ts';
import { acquireLock, isDeadLockTemp, LOCK_NAME } from '../../src/publish/lock.ts';

/** A pid that no process has. */
function deadPid(): number {
  const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  for (let pid = max - 1; pid > 1; pid--) {
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
  }
  throw new Error('no free pid');
}

describe('the publish lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reqset-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('serialises: a second holder waits until the first releases', async () => {
    const events: string[] = [];
    const release1 = await acquireLock(dir);
    const lockFile = JSON.parse(readFileSync(path.join(dir, LOCK_NAME), 'utf8')) as { pid: number; host: string };
    assert.equal(lockFile.pid, process.pid);
    assert.equal(lockFile.host, hostname());
    const waiting: string[] = [];
    const second = acquireLock(dir, { progress: (l) => waiting.push(l) }).then((release) => {
      events.push('second acquired');
      return release;
    });
    await new Promise((r) => setTimeout(r, 400));
    events.push('first releasing');
    await release1();
    const release2 = await second;
    assert.deepEqual(events, ['first releasing', 'second acquired']);
    assert.match(waiting.join('\n'), /waiting for pid \d+ on .* to finish publishing/);
    await release2();
    assert.equal(existsSync(path.join(dir, LOCK_NAME)), false);
    assert.deepEqual(await readdir(dir), [], 'no temporary files left');
  });

  it('takes over a lock whose process is gone', async () => {
    const pid = deadPid();
    await writeFile(path.join(dir, LOCK_NAME), JSON.stringify({ pid, host: hostname(), startTicks: '1', since: '2020-01-01T00:00:00Z' }));
    const lines: string[] = [];
    const release = await acquireLock(dir, { progress: (l) => lines.push(l), timeoutMs: 5000 });
    assert.match(lines.join('\n'), new RegExp(`stale lock .*pid ${pid} is gone`));
    await release();
  });

  it('takes over a lock whose pid now belongs to another process', async () => {
    await writeFile(path.join(dir, LOCK_NAME), JSON.stringify({ pid: process.pid, host: hostname(), startTicks: '1', since: '2020-01-01T00:00:00Z' }));
    const release = await acquireLock(dir, { timeoutMs: 5000 });
    await release();
  });

  it('never breaks a lock of another host: gives up after the timeout with the way out', async () => {
    await writeFile(path.join(dir, LOCK_NAME), JSON.stringify({ pid: 1, host: 'elsewhere.invalid', startTicks: '', since: '2020-01-01T00:00:00Z' }));
    await assert.rejects(acquireLock(dir, { timeoutMs: 300 }), (error: unknown) => {
      assert.ok(error instanceof ToolError);
      assert.match(error.message, /being published by pid 1 on elsewhere\.invalid .* remove .*\.reqset-publish\.lock/);
      return true;
    });
    await rm(path.join(dir, LOCK_NAME));
  });

  it('recognises temporary lock files of dead processes', () => {
    assert.equal(isDeadLockTemp(`${LOCK_NAME}.tmp-${deadPid()}-abc`), true);
    assert.equal(isDeadLockTemp(`${LOCK_NAME}.break-tmp-${deadPid()}-abc`), true);
    assert.equal(isDeadLockTemp(`${LOCK_NAME}.tmp-${process.pid}-abc`), false);
    assert.equal(isDeadLockTemp('Packages'), false);
  });
});
