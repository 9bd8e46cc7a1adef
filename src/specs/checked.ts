import { z } from 'zod';

/** A string that `problem` accepts; its message is the issue's. */
export function checked(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  });
}
