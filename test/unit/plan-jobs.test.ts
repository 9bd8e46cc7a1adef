/** The (reqset, target) job matrix: pure, JSON-serialisable, exact commands. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { planJobs } from '../../src/plan/index.ts';
import { loadTargets, TOOL_ROOT } from '../../src/targets/target.ts';

const targets = await loadTargets(path.join(TOOL_ROOT, '.no-workspace'));

describe('planJobs', () => {
  it('every reqset on every target by default, with a container builder', () => {
    const jobs = planJobs(['web', 'batch'], targets);
    assert.equal(jobs.length, 2 * targets.length);
    assert.deepEqual(jobs.map((j) => j.id).slice(0, 2), [`web/${targets[0]?.name}`, `web/${targets[1]?.name}`]);
    assert.equal(new Set(jobs.map((j) => j.id)).size, jobs.length, 'ids are unique');
    assert.deepEqual(JSON.parse(JSON.stringify(jobs)), jobs, 'JSON-serialisable');
    for (const job of jobs) {
      assert.equal(job.builder, 'podman');
      assert.equal(job.builderImage, targets.find((t) => t.name === job.target)?.builder.image);
      assert.equal(job.commands.length, 2);
    }
  });

  it('the exact commands, restricted by --target, with a shared wheel cache and publishing', () => {
    const jobs = planJobs(['web', 'web'], targets, {
      targets: ['debian12', 'el9-py311'],
      wheelCache: '/shared/wheel cache',
      repo: '/srv/repos/',
      builderBase: 'localhost/base',
      release: '2',
    });
    assert.deepEqual(jobs.map((j) => [j.id, j.format, j.outDir]), [
      ['web/debian12', 'deb', 'dist/web/debian12'],
      ['web/el9-py311', 'rpm', 'dist/web/el9-py311'],
    ]);
    assert.deepEqual(jobs[1]?.commands.map((c) => c.argv), [
      ['npx', 'reqset', 'builder-image', '--target', 'el9-py311', '--builder', 'podman', '--builder-base', 'localhost/base', '--wheel-cache', '/shared/wheel cache'],
      ['npx', 'reqset', 'build', 'web', '--target', 'el9-py311', '--builder', 'podman', '--builder-base', 'localhost/base', '--out', 'dist', '--wheel-cache', '/shared/wheel cache', '--repo', '/srv/repos/el9-py311', '--release', '2'],
      ['npx', 'reqset', 'publish', 'web', '--target', 'el9-py311', '--repo', '/srv/repos/el9-py311', '--out', 'dist'],
    ]);
    assert.equal(jobs[1]?.commands[1]?.shell, "npx reqset build web --target el9-py311 --builder podman --builder-base localhost/base --out dist --wheel-cache '/shared/wheel cache' --repo /srv/repos/el9-py311 --release 2");
  });

  it('a job that publishes builds on the history of the repository it publishes to (build --repo)', () => {
    const [job] = planJobs(['web'], targets, { targets: ['el9-py311'], builder: 'local', command: ['reqset'], repo: '/srv/repos/' });
    assert.deepEqual(job?.commands.map((c) => c.shell), [
      'reqset build web --target el9-py311 --builder local --out dist --repo /srv/repos/el9-py311',
      'reqset publish web --target el9-py311 --repo /srv/repos/el9-py311 --out dist',
    ]);
  });

  it('the local builder needs no image', () => {
    const [job] = planJobs(['web'], targets, { targets: ['debian12'], builder: 'local', builderBase: 'ignored', command: ['reqset'], workspace: 'ws' });
    assert.equal(job?.builderImage, undefined);
    assert.deepEqual(job?.commands.map((c) => c.shell), ['reqset build web --target debian12 --builder local --workspace ws --out dist']);
  });

  it('bad input: every problem at once', () => {
    assert.throws(
      () => planJobs(['ok', 'Bad_Name'], targets, { targets: ['nope'] }),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.problems.length, 2);
        assert.match(error.message, /"Bad_Name" is not a reqset name/);
        assert.match(error.message, /unknown target "nope": known targets are .*debian12/);
        return true;
      },
    );
    assert.throws(() => planJobs([], targets), /no reqset given/);
  });
});
