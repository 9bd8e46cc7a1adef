/**
 * The installed command line: help for every command, one clear message and
 * exit 2 for bad input, exit codes and output modes for scripts.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/run.ts';
import { makeWheel } from '../helpers/make-wheel.ts';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'reqset.js');
const reqset = (args: string[], cwd?: string) => run(['node', BIN, ...args], { allowFailure: true, cwd });

describe('reqset command line', () => {
  let ws: string;
  before(async () => {
    ws = await mkdtemp(path.join(tmpdir(), 'reqset-cli-'));
    await mkdir(path.join(ws, 'reqsets'));
    await writeFile(path.join(ws, 'reqsets', 'bad.txt'), 'six==1.17.0\nrequests>=2\n--bogus\n');
    const links = path.join(ws, 'links');
    await makeWheel(links, { name: 'app', version: '1.0', files: { 'app/__init__.py': '' }, metadata: { 'Requires-Dist': ['lib>=1', 'helper'] } });
    await makeWheel(links, { name: 'lib', version: '1.2', files: { 'lib/__init__.py': '' } });
    await writeFile(path.join(ws, 'reqsets', 'incomplete.txt'), `--no-index\n--find-links ../links\napp==1.0\nlib==1.2\n`);
    await makeWheel(links, { name: 'helper', version: '0.1', files: { 'helper/__init__.py': '' } });
    await writeFile(path.join(ws, 'reqsets', 'complete.txt'), `--no-index\n--find-links ../links\napp==1.0\nlib==1.2\nhelper==0.1\n`);
  });
  after(() => rm(ws, { recursive: true, force: true }));

  it('has help for the tool and every command', async () => {
    const top = await reqset(['--help']);
    assert.equal(top.exitCode, 0);
    const commands = [...top.stdout.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1] as string).filter((c) => c !== 'help');
    assert.ok(commands.includes('check') && commands.includes('wheels') && commands.includes('targets'), top.stdout);
    for (const command of commands) {
      const help = await reqset([command, '--help']);
      assert.equal(help.exitCode, 0, command);
      assert.match(help.stdout, new RegExp(`Usage: reqset ${command}`));
    }
  });

  it('lists the built-in targets', async () => {
    const result = await reqset(['targets']);
    assert.equal(result.exitCode, 0);
    for (const name of ['el8', 'el9', 'el9-py311', 'fedora', 'debian12', 'ubuntu2404']) assert.match(result.stdout, new RegExp(`^${name} `, 'm'));
    const json = JSON.parse((await reqset(['targets', '--json'])).stdout) as { name: string }[];
    assert.equal(json.length, 6);
  });

  it('reports every pin-list problem once, with file and line, exit 2 and no stack trace', async () => {
    const result = await reqset(['check', 'bad', '--workspace', ws]);
    assert.equal(result.exitCode, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^reqset: error: reqsets\/bad\.txt: 2 problems in the pin list\n/);
    assert.match(result.stderr, /reqsets\/bad\.txt:2: "requests>=2" is not pinned exactly: write "requests==<version>"/);
    assert.match(result.stderr, /reqsets\/bad\.txt:3: unknown option --bogus/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it('rejects an unknown target and a usage error with exit 2', async () => {
    const target = await reqset(['check', 'bad', '--target', 'solaris', '--workspace', ws]);
    assert.equal(target.exitCode, 2);
    assert.match(target.stderr, /unknown target "solaris": known targets are .*debian12/);
    const usage = await reqset(['check']);
    assert.equal(usage.exitCode, 2);
    assert.match(usage.stderr, /missing required argument 'reqset'/);
    const option = await reqset(['wheels', 'x', '--jobs', 'zero']);
    assert.equal(option.exitCode, 2);
  });

  it('check --json gives the report as data and exits 2 when the closure is incomplete', async () => {
    const result = await reqset(['check', 'incomplete', '--workspace', ws, '--json', '--wheel-cache', path.join(ws, 'cache')]);
    assert.equal(result.exitCode, 2);
    const report = JSON.parse(result.stdout) as { ok: boolean; problems: { kind: string; distribution: string; requiredBy: string }[] };
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems.map((p) => [p.kind, p.distribution, p.requiredBy]), [['missing', 'helper', 'app']]);
    const text = await reqset(['check', 'incomplete', '--workspace', ws, '--wheel-cache', path.join(ws, 'cache')]);
    assert.equal(text.exitCode, 2);
    assert.match(text.stderr, /app==1\.0 requires helper, but helper is not pinned: add "helper==<version>" to the pin list/);
  });

  it('prints one plain progress line per wheel when not on a terminal, nothing with --quiet', async () => {
    const out = path.join(ws, 'out');
    const loud = await reqset(['wheels', 'complete', '--workspace', ws, '--out', out, '--wheel-cache', path.join(ws, 'cache')]);
    assert.equal(loud.exitCode, 0, loud.stderr);
    const lines = loud.stderr.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^wheels: collected +\d+\.\ds {2}(app|lib|helper)==/);
    assert.doesNotMatch(loud.stderr, /\x1b\[/);
    assert.match(loud.stdout, /3 wheels \(3 collected\) in .*out\/complete\/debian12\/wheels/);
    const quiet = await reqset(['wheels', 'complete', '--workspace', ws, '--out', out, '--wheel-cache', path.join(ws, 'cache'), '--quiet']);
    assert.equal(quiet.exitCode, 0);
    assert.equal(quiet.stderr, '');
    assert.equal(quiet.stdout, '');
  });

  it('the compiled command builds packages for both formats (the runtime helper\'s Python sources are found from build/)', async () => {
    const out = path.join(ws, 'out-build');
    for (const target of ['el9-py311', 'debian12']) {
      const built = await reqset(['build', 'complete', '--target', target, '--workspace', ws, '--out', out, '--wheel-cache', path.join(ws, 'cache')]);
      assert.equal(built.exitCode, 0, built.stderr);
      assert.match(built.stdout, new RegExp(`complete for ${target}: 5 packages \\(5 packaged, 0 reused\\)`));
    }
  });
});
