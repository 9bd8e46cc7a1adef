/**
 * Regenerates docker/<target>/Containerfile from packaging/targets/<target>.yml
 * (the YAML is the source of truth).
 *
 *   node --import tsx docker/generate.ts           write them
 *   node --import tsx docker/generate.ts --check   exit 1 if any is out of date
 */
import { writeBuilderContainerfiles } from '../src/builders/containerfile.ts';

const check = process.argv.includes('--check');
const differ = await writeBuilderContainerfiles({ check });
for (const file of differ) process.stdout.write(`${check ? 'out of date' : 'wrote'}: ${file}\n`);
if (check && differ.length) process.exitCode = 1;
