import { runStoreService } from '../bus/store-service.js';
import { isInterval } from '../core/intervals.js';
import type { Interval } from '../core/types.js';
import { StoreMetrics } from '../metrics/bus-metrics.js';
import type { CliIo } from './context.js';
import { abortOnSignals } from './context.js';
import { UsageError } from './exit.js';
import {
  cliRegistry,
  type MetricsCliOptions,
  maxSymbolSeries,
  startCliMetrics,
} from './metrics.js';

/** Options of `argo-market store`. */
export interface StoreOptions extends MetricsCliOptions {
  servers: string;
  venue: string;
  interval: string;
  symbols?: string;
  out: string;
  durable?: string;
  from?: string;
  natsToken?: string;
  natsCreds?: string;
  verbose?: boolean;
}

/**
 * `argo-market store`: the bus's bars into `{out}/stream_data_{venue}_{interval}.parquet`, each
 * acked only once durable; Ctrl-C finalizes the file and exits 0. Prints `stored N` per bar.
 */
export async function storeCommand(options: StoreOptions, io: CliIo): Promise<void> {
  if (!isInterval(options.interval)) {
    throw new UsageError(`unknown interval '${options.interval}'`);
  }
  const fromMs = options.from === undefined ? undefined : Date.parse(options.from);
  if (fromMs !== undefined && Number.isNaN(fromMs)) {
    throw new UsageError(`--from must be YYYY-MM-DD or RFC 3339, got '${options.from}'`);
  }
  const token = options.natsToken ?? io.env.NATS_TOKEN;
  const credsFile = options.natsCreds ?? io.env.NATS_CREDS;
  const controller = new AbortController();
  const removeSignals = abortOnSignals(controller, io);
  // `--metrics-port`: the store's series (and its writer's) plus /healthz from the NATS status.
  const registry = cliRegistry(options);
  const storeMetrics = registry
    ? new StoreMetrics(
        registry,
        options.venue,
        options.interval as Interval,
        maxSymbolSeries(options),
      )
    : undefined;
  let metricsServer: Awaited<ReturnType<typeof startCliMetrics>>;
  try {
    metricsServer = await startCliMetrics(
      options,
      registry,
      storeMetrics ? () => storeMetrics.health.report() : undefined,
      io,
    );
    const summary = await runStoreService({
      ...(registry && storeMetrics ? { metrics: registry, storeMetrics } : {}),
      servers: options.servers,
      venue: options.venue,
      interval: options.interval,
      ...(options.symbols
        ? {
            symbols: options.symbols
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : {}),
      out: options.out,
      ...(options.durable ? { durable: options.durable } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(token ? { token } : {}),
      ...(credsFile ? { credsFile } : {}),
      signal: controller.signal,
      onStored: (bar) => io.stdout.write(`stored ${bar.symbol} ${bar.time.toISOString()}\n`),
      onReading: (durable) => io.stderr.write(`reading ARGO_BARS as durable ${durable}\n`),
      onError: (err) => io.stderr.write(`warning [${err.code}]: ${err.message}\n`),
      onStatus: (status, detail) => io.stderr.write(`status: ${status} ${detail.connection}\n`),
    });
    io.stderr.write(`saved ${summary.parquetPath} (${summary.stored} bars this run)\n`);
  } finally {
    removeSignals();
    await metricsServer?.close();
  }
}
