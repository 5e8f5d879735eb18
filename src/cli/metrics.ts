import { type Command, Option } from 'commander';
import { Registry } from 'prom-client';
import type { HealthReport } from '../metrics/health.js';
import { jsonStderr, logFormatOf, venueOf } from '../metrics/logger.js';
import { type MetricsServer, startMetricsServer } from '../metrics/server.js';
import type { CliIo } from './context.js';
import { UsageError } from './exit.js';

/** `--metrics-port` / `--metrics-host` of stream, store and simulate. */
export interface MetricsCliOptions {
  metricsPort?: string;
  metricsHost?: string;
  /** `--metrics-max-symbols N`: per-symbol series before the rest share `symbol="_other"`. */
  metricsMaxSymbols?: string;
}

/** `--metrics-max-symbols` as a number (default undefined: 1,000). */
export function maxSymbolSeries(options: MetricsCliOptions): number | undefined {
  if (options.metricsMaxSymbols === undefined) return undefined;
  const max = Number(options.metricsMaxSymbols);
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new UsageError(
      `--metrics-max-symbols must be a whole number >= 0, got '${options.metricsMaxSymbols}'`,
    );
  }
  return max;
}

/** `--metrics-max-symbols` (stream, store). */
export function maxSymbolsOption(): Option {
  return new Option(
    '--metrics-max-symbols <n>',
    'per-symbol metric series before the rest share symbol="_other" (default 1000)',
  );
}

/** A registry when `--metrics-port` was given; undefined otherwise (nothing measured). */
export function cliRegistry(options: MetricsCliOptions): Registry | undefined {
  return options.metricsPort === undefined ? undefined : new Registry();
}

/** Starts /metrics + /healthz and prints `metrics: URL` on stderr once listening. */
export async function startCliMetrics(
  options: MetricsCliOptions,
  registry: Registry | undefined,
  health: (() => HealthReport) | undefined,
  io: CliIo,
): Promise<MetricsServer | undefined> {
  if (registry === undefined || options.metricsPort === undefined) return undefined;
  const server = await startMetricsServer({
    registry,
    port: metricsPort(options.metricsPort),
    host: options.metricsHost ?? '127.0.0.1',
    ...(health ? { health } : {}),
  });
  io.stderr.write(`metrics: ${server.url}\n`);
  return server;
}

/** 0–65535; 0 picks a free port. */
function metricsPort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--metrics-port must be a port number 0-65535, got '${value}'`);
  }
  return port;
}

/** `--log-format json|text` (stream, store, simulate); runCli reads it before parsing. */
export function logFormatOption(): Option {
  return new Option(
    '--log-format <format>',
    'stderr: text (for people) or json (one JSON object per line: level, time, venue, connection, event, code)',
  )
    .choices(['text', 'json'])
    .default('text');
}

/** Adds `--metrics-port` and `--metrics-host` to `command` (store, simulate). */
export function withMetricsOptions(command: Command): Command {
  return command
    .option('--metrics-port <port>', 'serve /metrics and /healthz on this port (0: a free one)')
    .option('--metrics-host <host>', 'address for --metrics-port', '127.0.0.1');
}

/**
 * The CLI's IO for `argv`: with `--log-format json`, stderr writes one JSON object per line
 * (every line: status, warnings, the final error); otherwise `io` unchanged.
 */
export function ioForLogFormat(argv: readonly string[], io: CliIo): CliIo {
  if (logFormatOf(argv) !== 'json') return io;
  return { ...io, stderr: jsonStderr(io.stderr, { venue: venueOf(argv) }) };
}
