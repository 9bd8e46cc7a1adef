/** PEP 440's verdicts from the `packaging` that pip itself uses: the oracle of the relation tests. */
import { run } from '../../src/run.ts';

/** Whether each candidate satisfies each specifier (pre-releases allowed: a pin may be one), keyed `"<spec> <candidate>"`. */
export async function pep440Verdicts(specs: readonly string[], candidates: readonly string[]): Promise<Map<string, boolean>> {
  const program = [
    'import json, sys',
    'from pip._vendor.packaging.specifiers import SpecifierSet',
    'specs, candidates = json.load(sys.stdin)',
    'print(json.dumps({f"{s} {c}": SpecifierSet(s).contains(c, prereleases=True) for s in specs for c in candidates}))',
  ].join('\n');
  const out = await run(['python3', '-c', program], { input: JSON.stringify([specs, candidates]) });
  return new Map(Object.entries(JSON.parse(out.stdout) as Record<string, boolean>));
}
