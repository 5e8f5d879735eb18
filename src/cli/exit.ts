import { MarketDataError, redactSecrets } from '../core/errors.js';

/** Exit codes of `argo-market` (DESIGN §8). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A usage mistake: printed as one line, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// Config mistakes the user typed on the command line are usage errors, not runtime failures.
const USAGE_CODES = new Set(['CONFIG_INVALID', 'INVALID_INTERVAL', 'INVALID_SYMBOL']);

/** The exit code and the one line to print for anything a command threw. */
export function describeFailure(error: unknown, verbose: boolean): { code: number; line: string } {
  if (error instanceof UsageError) return { code: EXIT_USAGE, line: `error: ${error.message}` };
  if (MarketDataError.is(error)) {
    const code = USAGE_CODES.has(error.code) && error.fatal ? EXIT_USAGE : EXIT_FAILURE;
    const detail = verbose && error.cause ? `\n  cause: ${causeText(error.cause)}` : '';
    return { code, line: redactSecrets(`error [${error.code}]: ${error.message}${detail}`) };
  }
  const text =
    error instanceof Error
      ? verbose
        ? (error.stack ?? error.message)
        : error.message
      : String(error);
  return { code: EXIT_FAILURE, line: redactSecrets(`error: ${text}`) };
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
