/**
 * The build's rebuild check (src/packagers/rebuild-check.ts) with the real
 * runtime helper: many wheels through `rebuild-wheels` processes, a failed
 * check an error for that wheel only, and the line server of src/run.ts when
 * its command is missing or dies.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ToolError } from '../../src/errors.ts';
import { VerdictFiles } from '../../src/fsutil.ts';
import { RebuildChecker } from '../../src/packagers/rebuild-check.ts';
import { run, startLineServer, traceCommands } from '../../src/run.ts';
import { RUNTIME_ZIPAPP_NAME, writeRuntimeZipapp } from '../../src/runtime/zipapp.ts';
import { extractWheel } from '../../src/wheels/extract.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { ZIPINFO_FILE } from '../../src/wheels/zipinfo.ts';
import { makeWheel } from '../helpers/make-wheel.ts';
import { makeWorkspace, reqsset3Pins } from '../helpers/workspace.ts';
import * as api from '../../src/api.ts';

let work: string;
const trees: string[] = [];
/** What the one-wheel command, `rebuild-wheel`, says of each tree. */
const expected: { sha256: string; identical: boolean }[] = [];

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'reqset-rebuild-check-test-'));
  const helper = await writeRuntimeZipapp(path.join(work, RUNTIME_ZIPAPP_NAME));
  for (let i = 0; i < 6; i++) {
    const wheel = await makeWheel(path.join(work, 'wheels'), { name: `pin${i}`, version: '1.0', files: { [`pin${i}/__init__.py`]: `VALUE = ${i}\n` } });
    const tree = path.join(work, 'trees', path.basename(wheel, '.whl'));
    const source = await openWheel(wheel);
    await extractWheel(source, tree);
    await source.close();
    trees.push(tree);
    const answer = JSON.parse((await run(['python3', helper, 'rebuild-wheel', tree, path.join(work, 'out')])).stdout) as { sha256: string; identical: boolean };
    expected.push({ sha256: answer.sha256, identical: answer.identical });
  }
});

after(() => rm(work, { recursive: true, force: true }));

/** The commands started while `body` runs. */
async function commandsDuring(body: () => Promise<void>): Promise<string[]> {
  const commands: string[] = [];
  traceCommands((command) => commands.push(command));
  try {
    await body();
  } finally {
    traceCommands(undefined);
  }
  return commands;
}

describe('RebuildChecker', () => {
  it('checks every wheel in one helper process per concurrent check, as rebuild-wheel does', async () => {
    let results: { sha256: string; identical: boolean }[] = [];
    const commands = await commandsDuring(async () => {
      results = await RebuildChecker.during('python3', undefined, async (checker) => {
        const first = await Promise.all(trees.slice(0, 2).map((tree) => checker.check(tree)));
        const rest: { sha256: string; identical: boolean }[] = [];
        for (const tree of trees.slice(2)) rest.push(await checker.check(tree));
        return [...first, ...rest];
      });
    });
    assert.deepEqual(results, expected);
    const helpers = commands.filter((c) => c.includes('rebuild-wheels'));
    assert.equal(helpers.length, 2, `two checks at once, then one at a time: ${commands.join('\n')}`);
  });

  it('fails the check of a damaged tree with the helper\'s message, and goes on checking the others', async () => {
    const damaged = path.join(work, 'damaged');
    await rm(damaged, { recursive: true, force: true });
    const source = await openWheel(path.join(work, 'wheels', `${path.basename(trees[0] as string)}.whl`));
    await extractWheel(source, damaged);
    await source.close();
    await writeFile(path.join(damaged, 'pin0', '__init__.py'), 'VALUE = "changed"\n');
    await RebuildChecker.during('python3', undefined, async (checker) => {
      await assert.rejects(checker.check(damaged), (error: Error) => {
        assert.ok(error instanceof ToolError, String(error));
        assert.match(error.message, /could not rebuild the wheel of .*damaged:\n {2}\| reqset-runtime: error: .*pin0\/__init__\.py: size 18, RECORD says 10/);
        return true;
      });
      assert.deepEqual(await checker.check(trees[1] as string), expected[1]);
    });
  });
});

describe('RebuildChecker verdicts', () => {
  it('keeps each verdict: another checker asks no helper for the same payload, and checks again a payload described otherwise', async () => {
    const verdicts = new VerdictFiles(path.join(work, 'verdicts'));
    const checkAll = (list: string[]) => RebuildChecker.during('python3', verdicts, (checker) => Promise.all(list.map((tree) => checker.check(tree))));
    let first: unknown[] = [];
    const firstCommands = await commandsDuring(async () => {
      first = await checkAll(trees.slice(0, 2));
    });
    assert.deepEqual(first, expected.slice(0, 2));
    assert.ok(firstCommands.some((c) => c.includes('rebuild-wheels')), firstCommands.join('\n'));

    let again: unknown[] = [];
    const againCommands = await commandsDuring(async () => {
      again = await checkAll(trees.slice(0, 2));
    });
    assert.deepEqual(again, expected.slice(0, 2));
    assert.deepEqual(againCommands.filter((c) => c.includes('rebuild-wheels')), [], 'verdicts kept: no helper started');

    // The same files with another description: a comment on the archive makes another .whl.
    const described = path.join(work, 'described-otherwise');
    await rm(described, { recursive: true, force: true });
    await cp(trees[0] as string, described, { recursive: true });
    const info = JSON.parse(await readFile(path.join(described, ZIPINFO_FILE), 'utf8')) as { comment: string };
    info.comment = Buffer.from('another archive').toString('hex');
    await writeFile(path.join(described, ZIPINFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
    let other: { sha256: string; identical: boolean }[] = [];
    const otherCommands = await commandsDuring(async () => {
      other = await checkAll([described]);
    });
    assert.equal(otherCommands.filter((c) => c.includes('rebuild-wheels')).length, 1);
    assert.equal(other[0]?.identical, false);
    assert.notEqual(other[0]?.sha256, expected[0]?.sha256);
  });

  it('checks again when a kept verdict is unreadable', async () => {
    const dir = path.join(work, 'bad-verdicts');
    const verdicts = new VerdictFiles(dir);
    await RebuildChecker.during('python3', verdicts, (checker) => checker.check(trees[3] as string));
    const files = (await readdirRecursive(dir)).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 1);
    await writeFile(files[0] as string, '{"sha256": 42');
    const commands = await commandsDuring(async () => {
      assert.deepEqual(await RebuildChecker.during('python3', verdicts, (checker) => checker.check(trees[3] as string)), expected[3]);
    });
    assert.equal(commands.filter((c) => c.includes('rebuild-wheels')).length, 1);
  });

  it('is a tool failure, not a crash, when the interpreter or the helper answers something other than JSON', async () => {
    const chatty = path.join(work, 'chatty-python');
    // Answers the question about itself, then greets every request: as a sitecustomize that prints would.
    await writeFile(chatty, '#!/bin/sh\nif [ "$1" = -c ]; then echo \'["", "3.11", "1.2.13"]\'; exit 0; fi\nwhile read line; do echo "hello from sitecustomize"; done\n');
    await chmod(chatty, 0o755);
    await assert.rejects(RebuildChecker.during(chatty, undefined, (checker) => checker.check(trees[0] as string)), (error: Error) => {
      assert.ok(error instanceof ToolError, String(error));
      assert.match(error.message, /rebuild-wheels answered something other than one JSON line: "hello from sitecustomize"/);
      return true;
    });
    const mute = path.join(work, 'odd-python');
    await writeFile(mute, '#!/bin/sh\necho "Python 2.7"\n');
    await chmod(mute, 0o755);
    await assert.rejects(RebuildChecker.during(mute, undefined, async () => undefined), (error: Error) => error instanceof ToolError && /odd-python -c \.\.\. answered something other than one JSON line: "Python 2\.7"/.test(error.message));
  });
});

describe('rebuild check verdicts in builds', () => {
  it('checks a wheel once for targets of the same layout, and again after the package cache is emptied', async () => {
    const ws = await makeWorkspace();
    try {
      await ws.writeReqset('ex', `--no-index\n--find-links ../dist-src\n${reqsset3Pins()}\n`);
      const build = async (target: string) => {
        let result: api.BuildResult | undefined;
        const commands = await commandsDuring(async () => {
          result = await api.buildTarget('ex', target, { workspace: ws.dir, out: ws.out, wheelCache: ws.cache, jobs: 2 });
        });
        const rebuilt = (result as api.BuildResult).manifest.pins.map((p) => [p.name, p.rebuiltWheel]);
        return { helpers: commands.filter((c) => c.includes('rebuild-wheels')).length, rebuilt };
      };
      const el9 = await build('el9-py311');
      assert.ok(el9.helpers >= 1, 'the first build checks');
      const debian = await build('debian12');
      assert.equal(debian.helpers, 0, 'the same trees on another target: the verdicts are kept');
      assert.deepEqual(debian.rebuilt, el9.rebuilt);
      await rm(path.join(ws.cache, 'packages'), { recursive: true, force: true });
      await rm(ws.out, { recursive: true, force: true });
      const cold = await build('debian12');
      assert.ok(cold.helpers >= 1, 'a cold package build checks again');
      assert.deepEqual(cold.rebuilt, el9.rebuilt);
    } finally {
      await ws.cleanup();
    }
  });
});

async function readdirRecursive(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })) as string[];
  return names.map((name) => path.join(dir, name));
}

describe('startLineServer', () => {
  it('answers each line in order, and ends when its stdin does', async () => {
    const server = startLineServer(['sed', '-u', 's/^/echo: /']);
    assert.deepEqual(await Promise.all([server.ask('one'), server.ask('two')]), ['echo: one', 'echo: two']);
    await server.close();
  });

  it('rejects what it owes when its command dies, with the command and its stderr', async () => {
    const server = startLineServer(['sh', '-c', 'read line; echo "no answer for $line" >&2; exit 3']);
    await assert.rejects(server.ask('request'), (error: Error) => {
      assert.ok(error instanceof ToolError);
      assert.match(error.message, /^command ended \(exit code 3\) before answering: sh -c .*\n {2}\| no answer for request$/);
      return true;
    });
    await assert.rejects(server.ask('again'), /command ended \(exit code 3\)/);
    await server.close();
  });

  it('names the package of a missing command', async () => {
    const server = startLineServer(['dpkg-shlibdeps-missing-for-test']);
    await assert.rejects(server.ask('x'), (error: Error) => error instanceof ToolError && /dpkg-shlibdeps-missing-for-test: command not found/.test(error.message));
    await server.close();
  });
});
