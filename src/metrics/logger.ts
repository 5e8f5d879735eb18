import { Writable } from 'node:stream';
import { pino } from 'pino';
import { redactSecrets } from '../core/errors.js';

/** `--log-format`: `text` (the default, for people) or `json` (one object per line, for machines). */
export type LogFormat = 'text' | 'json';

/** What every JSON line of a process carries besides what its text says. */
export interface LogContext {
  /** The venue the command serves (`binance`, `polygon`; the bus's `--venue`). */
  venue?: string | undefined;
}

/** Fields read from one human-readable stderr line. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  event: string;
  connection?: string;
  status?: string;
  code?: string;
  msg: string;
}

const STATUS_LINE = /^status: (connected|disconnected|reconnecting) (\S+)/;
const CODED_LINE = /^(warning|error) \[([A-Z0-9_]+)\]: /;
const EVENT_WORD = /^([a-z][a-z_-]{0,31})\b/;

/**
 * Reads one stderr line of the CLI (`status: …`, `warning [CODE]: …`, `error [CODE]: …`,
 * `retry …`, `metrics: URL`, `saved …`) into structured fields, so the text and JSON formats
 * say the same things. Secrets are redacted first.
 */
export function parseLogLine(line: string): LogLine {
  const msg = redactSecrets(line);
  const status = STATUS_LINE.exec(msg);
  if (status) {
    const [, state, connection] = status as unknown as [string, string, string];
    return {
      level: state === 'connected' ? 'info' : 'warn',
      event: 'status',
      status: state,
      connection,
      msg,
    };
  }
  const coded = CODED_LINE.exec(msg);
  if (coded) {
    const [, kind, code] = coded as unknown as [string, 'warning' | 'error', string];
    return { level: kind === 'error' ? 'error' : 'warn', event: kind, code, msg };
  }
  if (msg.startsWith('error: ')) return { level: 'error', event: 'error', msg };
  const word = EVENT_WORD.exec(msg)?.[1] ?? 'message';
  // `received SIGTERM, stopping…`, `stdout closed (EPIPE), stopping…`
  const event = /, stopping/.test(msg) ? 'stopping' : word.replace('-', '_');
  return { level: word === 'retry' ? 'warn' : 'info', event, msg };
}

/**
 * A stderr for `--log-format json`: every line written to it becomes one pino JSON object on
 * `target` (`level`, `time`, `venue`, `event`, and `connection`, `status`, `code` where the line
 * has them, `msg`). Partial writes are joined up to the newline. Drop-in for `process.stderr`.
 */
export function jsonStderr(target: NodeJS.WritableStream, context: LogContext): NodeJS.WriteStream {
  const log = pino(
    {
      base: context.venue === undefined ? null : { venue: context.venue },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    target as unknown as pino.DestinationStream,
  );
  let pending = '';
  const emit = (line: string) => {
    if (line.trim() === '') return;
    const { level, msg, ...fields } = parseLogLine(line);
    log[level](fields, msg);
  };
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        emit(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
      callback();
    },
    final(callback) {
      emit(pending);
      pending = '';
      callback();
    },
  });
  return Object.assign(stream, { isTTY: false }) as unknown as NodeJS.WriteStream;
}

/** `--log-format`'s value from raw argv (`--log-format json` or `--log-format=json`). */
export function logFormatOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--log-format') return argv[i + 1];
    if (arg.startsWith('--log-format=')) return arg.slice('--log-format='.length);
  }
  return undefined;
}

/** The value of `--venue` or else `--provider` in raw argv, for the JSON lines' `venue`. */
export function venueOf(argv: readonly string[]): string | undefined {
  // `--provider jetstream --venue binance`: the venue is the bars' venue.
  return optionOf(argv, 'venue') ?? optionOf(argv, 'provider');
}

function optionOf(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}
