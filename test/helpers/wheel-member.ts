import { openWheel } from '../../src/wheels/source.ts';

/** One member of a wheel as text, read through reqset's own (validating) wheel reader. */
export async function readWheelMember(wheel: string, member: string): Promise<string> {
  const source = await openWheel(wheel);
  try {
    return (await source.read(member)).toString('utf8');
  } finally {
    await source.close();
  }
}
