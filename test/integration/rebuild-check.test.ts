/**
 * The build's rebuild check (src/packagers/rebuild-check.ts) with the real
 * runtime helper: many wheels through `rebuild-wheels` processes, a failed
 * check an error for that wheel only, and the line server of src/run.ts when
 * its command is missing or dies.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ToolError } from '../../src/errors.ts';
import { RebuildChecker } from '../../src/packagers/rebuild-check.ts';
import { run, startLineServer, traceCommands } from '../../src/run.ts';
import { RUNTIME_ZIPAPP_NAME, writeRuntimeZipapp } from '../../src/runtime/zipapp.ts';
import { extractWheel } from '../../src/wheels/extract.ts';
import { openWheel } from '../../src/wheels/source.ts';
import { makeWheel } from '../helpers/make-wheel.ts';

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
      results = await RebuildChecker.during('python3', async (checker) => {
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
    await RebuildChecker.during('python3', async (checker) => {
      await assert.rejects(checker.check(damaged), (error: Error) => {
        assert.ok(error instanceof ToolError, String(error));
        assert.match(error.message, /could not rebuild the wheel of .*damaged:\n {2}\| reqset-runtime: error: .*pin0\/__init__\.py: size 18, RECORD says 10/);
        return true;
      });
      assert.deepEqual(await checker.check(trees[1] as string), expected[1]);
    });
  });
});

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
