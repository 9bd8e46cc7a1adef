/**
 * The three kinds of failure reqset reports. The CLI's one top-level handler
 * maps them to exit codes; everything else is a bug and keeps its stack.
 */

/** The user's input is wrong (pin list, spec, target, flags): exit 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly exitCode = 2;
  /** Every problem found, so a file's errors are reported at once. */
  readonly problems: string[];

  constructor(summary: string, problems: string[] = []) {
    super(problems.length ? `${summary}\n${problems.map((p) => `  - ${p}`).join('\n')}` : summary);
    this.problems = problems;
  }
}

/** An external tool or a build step failed (pip, rpmbuild, dpkg-deb, ...): exit 1. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly exitCode = 1;
}

export function isReportable(error: unknown): error is InputError | ToolError {
  return error instanceof InputError || error instanceof ToolError;
}
