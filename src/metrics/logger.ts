import type { Writable } from 'node:stream';
import { pino } from 'pino';

/** `--log-format`: `text` (the default, for people) or `json` (one object per line, for machines). */
export type LogFormat = 'text' | 'json';

/** Fields of one log line; never put a key, a credential or an unredacted URL here. */
export interface LogFields {
  venue?: string;
  connection?: string;
  /** The error code, where there is one. */
  code?: string;
  [field: string]: unknown;
}

/** What the CLI logs through: `event` names what happened, `message` says it for a person. */
export interface Logger {
  info(event: string, message: string, fields?: LogFields): void;
  warn(event: string, message: string, fields?: LogFields): void;
  error(event: string, message: string, fields?: LogFields): void;
}

/**
 * A logger on `stderr`: `json` writes one pino JSON object per line (level, time, venue,
 * connection, event, code, msg); `text` writes `message` as the CLI always has.
 */
export function createLogger(format: LogFormat, stderr: Writable): Logger {
  if (format === 'text') {
    const line = (_event: string, message: string) => {
      stderr.write(`${message}\n`);
    };
    return { info: line, warn: line, error: line };
  }
  const log = pino(
    {
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stderr,
  );
  return {
    info: (event, message, fields) => log.info({ event, ...fields }, message),
    warn: (event, message, fields) => log.warn({ event, ...fields }, message),
    error: (event, message, fields) => log.error({ event, ...fields }, message),
  };
}
