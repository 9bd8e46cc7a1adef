/**
 * Engines as reqset runs them: podman with reqset's own containers.conf and
 * runc when installed; a missing engine is one clear error naming how to get
 * it (and the local builder as the alternative).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeBuilder } from '../../src/builders/builder.ts';
import { CONTAINERS_CONF, findExecutable, openEngine } from '../../src/builders/engine.ts';
import { ToolError } from '../../src/errors.ts';
import { loadTarget, TOOL_ROOT } from '../../src/targets/target.ts';

describe('container engines', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reqset-engine-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a missing engine is one ToolError that says how to install it', async () => {
    const saved = process.env.PATH;
    process.env.PATH = path.join(dir, 'empty-bin');
    try {
      await assert.rejects(openEngine('podman', path.join(dir, 'a')), (error: unknown) => {
        assert.ok(error instanceof ToolError);
        assert.equal(error.message, 'podman is not installed (not on PATH): apt-get install podman runc (Debian/Ubuntu) or dnf install podman (RHEL/Fedora); or build on this machine with --builder local');
        return true;
      });
      const target = await loadTarget(path.join(TOOL_ROOT, '.no-workspace'), 'debian12');
      await assert.rejects(makeBuilder({ kind: 'docker', target, stateDir: path.join(dir, 'b') }).prepare(), /^ToolError: docker is not installed \(not on PATH\)/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('docker without a reachable daemon is one clear error', async () => {
    // A docker client whose daemon is down, as `docker version` answers then: the same on every machine.
    const bin = path.join(dir, 'daemonless-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'docker'), '#!/bin/sh\necho "Client: Docker Engine"\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\nexit 1\n', { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = bin;
    try {
      await assert.rejects(openEngine('docker', path.join(dir, 'docker')), (error: unknown) => {
        assert.ok(error instanceof ToolError);
        assert.equal(error.message, 'docker is installed but cannot reach its daemon (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start it, or use --builder podman');
        return true;
      });
    } finally {
      process.env.PATH = saved;
    }
  });

  it('podman gets reqset\'s containers.conf and runc', async () => {
    assert.ok(findExecutable('podman'), 'podman is not installed: scripts/setup-debian.sh installs it');
    const saved = process.env.CONTAINERS_CONF;
    delete process.env.CONTAINERS_CONF;
    try {
      const engine = await openEngine('podman', path.join(dir, 'state'));
      assert.equal(engine.env.CONTAINERS_CONF, path.join(dir, 'state', 'containers.conf'));
      assert.equal(await readFile(path.join(dir, 'state', 'containers.conf'), 'utf8'), CONTAINERS_CONF);
      assert.match(CONTAINERS_CONF, /^\[containers\]\ndefault_ulimits = \[\]$/m);
      const runc = findExecutable('runc', ['/usr/sbin', '/usr/bin', '/sbin', '/usr/local/sbin']);
      assert.deepEqual(engine.argv.slice(1), runc ? ['--runtime', runc] : []);
      // A caller's own CONTAINERS_CONF is kept.
      process.env.CONTAINERS_CONF = '/etc/mine.conf';
      assert.deepEqual((await openEngine('podman', path.join(dir, 'other'))).env, {});
    } finally {
      if (saved === undefined) delete process.env.CONTAINERS_CONF;
      else process.env.CONTAINERS_CONF = saved;
    }
  });
});
