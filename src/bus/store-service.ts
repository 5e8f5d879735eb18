import { linkedAbort } from '../core/abort.js';
import { type MarketDataError, toMarketDataError } from '../core/errors.js';
import type { Interval, MarketData, StatusListener } from '../core/types.js';
import { type BusMetricsOption, StoreMetrics } from '../metrics/bus-metrics.js';
import { StreamingDuckDBWriter, streamFilePaths } from '../writers/streaming-duckdb-writer.js';
import {
  type BusConnectionOptions,
  connectBus,
  forwardStatus,
  natsOptions,
  parseServers,
} from './connection.js';
import { readBus } from './consume.js';
import { checkBusSymbol, checkVenue } from './subjects.js';

/** Options of {@link runStoreService}. */
export interface StoreServiceOptions extends BusConnectionOptions, BusMetricsOption {
  venue: string;
  interval: Interval;
  /** Symbols to store; default every symbol of the venue and interval. */
  symbols?: string[];
  /** Directory of `stream_data_<venue>_<interval>.parquet` (and its DuckDB store). */
  out: string;
  /** Durable consumer name; default `argo-store-<venue>-<interval>`. */
  durable?: string;
  /** Bars whose open time is at or after this, when the durable is new; default: new bars. */
  fromMs?: number;
  /** Messages pulled ahead of the writer. */
  bufferSize?: number;
  /** Ends the service: the Parquet file is finalized and the connection closed. */
  signal?: AbortSignal;
  /** Called after a bar is durable and its message acked. */
  onStored?: (bar: MarketData) => void;
  /**
   * Called each time the durable consumer is open and reading (first start, and after a
   * reopen): the service is up, so a supervisor or test can tell "started" from "starting".
   */
  onReading?: (durable: string) => void;
  /** Non-fatal trouble (a consumer reopened, a malformed message skipped). */
  onError?: (error: MarketDataError) => void;
  onStatus?: StatusListener;
  /** Metrics made by the caller (e.g. the CLI, to serve their health); needs `metrics` too. */
  storeMetrics?: StoreMetrics;
}

/** Result of a store service run. */
export interface StoreServiceSummary {
  stored: number;
  parquetPath: string;
}

/** The default durable name of the store service of `venue` and `interval`. */
export function storeDurableName(venue: string, interval: Interval): string {
  // Consumer names are case-sensitive, but `1m`/`1M` must stay apart on any file system too.
  return `argo-store-${venue}-${interval === '1M' ? '1mo' : interval}`;
}

/**
 * Store service (DESIGN §9): reads ARGO_BARS with a durable consumer into a
 * `StreamingDuckDBWriter` and acks each message only after the writer said the bar is durable
 * (and the server confirmed the ack). Killed at any point (`kill -9`), a restart gets every
 * unacked message again; the writer's upsert by (symbol, time) keeps each bar once.
 *
 * @example
 * const ac = new AbortController();
 * await runStoreService({ servers: 'nats://h1:4222', venue: 'binance', interval: '1m', out: 'data', signal: ac.signal });
 */
export async function runStoreService(options: StoreServiceOptions): Promise<StoreServiceSummary> {
  const venue = checkVenue(options.venue);
  const symbols = (options.symbols ?? []).map((s) => checkBusSymbol(s, 'symbols'));
  parseServers(options.servers);
  const registry = options.metrics;
  const metrics =
    registry === undefined
      ? undefined
      : (options.storeMetrics ??
        new StoreMetrics(registry, venue, options.interval, options.maxSymbolSeries));
  const writer = new StreamingDuckDBWriter(
    options.out,
    venue,
    options.interval,
    registry === undefined ? {} : { metrics: registry },
  );
  const parquetPath = streamFilePaths(options.out, venue, options.interval).parquetPath;
  const link = linkedAbort(options.signal);
  const signal = link.signal;
  const nc = await connectBus(await natsOptions(options, `argo-store-${venue}`));
  const onStatus: StatusListener | undefined =
    metrics === undefined
      ? options.onStatus
      : (status, detail) => {
          metrics.status(status, detail);
          options.onStatus?.(status, detail);
        };
  const statusDone = forwardStatus(nc, symbols, () => onStatus).catch(() => {});
  let stored = 0;
  try {
    await writer.initialize();
    const durable = options.durable ?? storeDurableName(venue, options.interval);
    const bus = readBus(
      nc,
      {
        venue,
        interval: options.interval,
        symbols,
        durable,
        ...(options.fromMs !== undefined ? { fromMs: options.fromMs } : {}),
        bufferSize: options.bufferSize ?? 256,
        increasing: false,
        // A killed store's unacked bars come back this soon; a slower write only rewrites a bar.
        ackWaitMs: 5000,
      },
      signal,
      {
        onOpen: () => options.onReading?.(durable),
        onRetry: (error) => {
          metrics?.error(error);
          options.onError?.(error);
        },
      },
    );
    for await (const { bar, msg } of bus) {
      await writer.write(bar);
      // Only now: a crash before this line redelivers the bar, and the upsert keeps it once.
      const acked = await msg.ackAck().catch(() => false);
      metrics?.stored(bar, acked);
      stored++;
      options.onStored?.(bar);
    }
    await writer.finalize();
    return { stored, parquetPath };
  } catch (error) {
    throw toMarketDataError(error, 'WRITER', 'store service failed', true);
  } finally {
    link.abort();
    link.release();
    await writer.close().catch(() => {});
    await nc.close().catch(() => {});
    await statusDone;
  }
}
