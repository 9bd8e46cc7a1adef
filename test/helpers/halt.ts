/**
 * Preloaded into a reqset child (`node --import tsx --import <this file>`) to
 * stop it at an exact point, so that a test can SIGKILL it there:
 * REQSET_TEST_HALT="<fs/promises function>:<regex>[:<n>]" makes the n-th call
 * (default the first) of that function whose path matches hang for good,
 * after writing the path to the file REQSET_TEST_HALT_MARK. The path matched
 * is the destination for rename, link and copyFile, else the first argument.
 * A child without REQSET_TEST_HALT runs unchanged.
 */
import { writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const spec = process.env.REQSET_TEST_HALT;
if (spec) install(spec, process.env.REQSET_TEST_HALT_MARK ?? '');

function install(halt: string, mark: string) {
  const match = /^(\w+):(.+?)(?::(\d+))?$/.exec(halt);
  if (!match || !mark) throw new Error(`REQSET_TEST_HALT=${halt}: expected <function>:<regex>[:<n>] and REQSET_TEST_HALT_MARK`);
  const [, name = '', pattern = '', nth = '1'] = match;
  // The CommonJS object behind node:fs/promises; syncBuiltinESMExports makes
  // every `import { rename } from 'node:fs/promises'` see the wrapper.
  const promises = createRequire(import.meta.url)('node:fs').promises as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = promises[name];
  if (typeof original !== 'function') throw new Error(`REQSET_TEST_HALT: node:fs/promises has no function ${name}`);
  const regex = new RegExp(pattern);
  const byDestination = ['rename', 'link', 'copyFile'].includes(name);
  let seen = 0;
  promises[name] = function halting(this: unknown, ...args: unknown[]) {
    const target = String(args[byDestination ? 1 : 0]);
    if (regex.test(target) && ++seen === Number(nth)) {
      writeFileSync(mark, `${target}\n`);
      setInterval(() => {}, 1 << 30); // keeps the process alive until it is killed
      return new Promise(() => {});
    }
    return original.apply(this, args);
  };
  syncBuiltinESMExports();
}
