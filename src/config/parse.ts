import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';

/**
 * Validate `input` against `schema`; on failure throw a ConfigError naming the first bad field
 * and listing every problem, so one run shows the user everything to fix.
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.join('.') || '(root)';
    return { field, text: `${field}: ${describeIssue(issue)}` };
  });
  // A bad interval has its own code, so callers can tell it from other config mistakes.
  const intervalProblem = problems.find((p) => p.field === 'interval');
  const field = intervalProblem?.field ?? problems[0]?.field ?? '(root)';
  throw new ConfigError(field, `invalid ${what}: ${problems.map((p) => p.text).join('; ')}`, {
    code: intervalProblem ? 'INVALID_INTERVAL' : 'CONFIG_INVALID',
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown option(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  }
  // zod leaves `input` out of issues, so only its message tells a missing field from a value of
  // the wrong type ("expected number, received string" must not read "is required").
  if (
    issue.code === 'invalid_type' &&
    /^Invalid input.*, received undefined$/.test(issue.message)
  ) {
    return 'is required';
  }
  return issue.message;
}
