import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { linkedAbort, sleep } from '../core/abort.js';
import { ConfigError, MarketDataError, toMarketDataError } from '../core/errors.js';
import { intervalMs, intervalToTimespan } from '../core/intervals.js';
import type { MarketData, MarketDataWriter, Provider, StatusListener } from '../core/types.js';
import { type BusMetricsOption, PublishMetrics } from '../metrics/bus-metrics.js';
import { BinanceProvider } from '../providers/binance/provider.js';
import { PolygonProvider } from '../providers/polygon/provider.js';
import {
  type BusConnectionOptions,
  connectBus,
  forwardStatus,
  natsOptions,
  parseServers,
} from './connection.js';
import { PublishLane, type PublishOutcome } from './publish-lane.js';
import { ensureBarStream, type Replicas } from './stream-setup.js';
import { barMessageId, barSubject, checkVenue, encodeBar } from './subjects.js';

/** Options of {@link publishStream}. */
export interface PublishOptions extends BusConnectionOptions, BusMetricsOption {
  /** Replicas of ARGO_BARS when this collector creates it (default 1); checked when it exists. */
  replicas?: Replicas;
  /** Ends the collector: the provider's sockets and the NATS connection close. */
  signal?: AbortSignal;
  /** Subject venue token; default from the provider (`binance`, `polygon`). */
  venue?: string;
  /** Bars held for all symbols while NATS cannot take them; past it, later bars are refetched. */
  maxHeldBars?: number;
  /** The longest stretch a lane refetches from the venue to close a gap (default 24 h). */
  maxBackfillMs?: number;
  /** Deadline of one publish's acknowledgement (default 2000 ms). */
  publishTimeoutMs?: number;
  /** Bars held and dropped so far, after each change: memory stays within `maxHeldBars`. */
  onBacklog?: (backlog: PublishBacklog) => void;
  /** Called after each bar is on the bus (`stored`), was already (`duplicate`/`skipped`). */
  onPublished?: (bar: MarketData, outcome: PublishOutcome) => void;
  /** The NATS connection's status (`reconnecting` while it retries, `connected` again). */
  onStatus?: StatusListener;
  /** Non-fatal trouble: a provider's in-band error, a publish being retried. */
  onError?: (error: MarketDataError) => void;
  /** Metrics made by the caller (e.g. the CLI, to serve their health); needs `metrics` too. */
  publishMetrics?: PublishMetrics;
}

/** The bars a collector holds for the bus right now (see `maxHeldBars`). */
export interface PublishBacklog {
  /** Bars waiting in the lanes, all symbols. */
  held: number;
  /** The bound: `maxHeldBars`. */
  maxHeld: number;
  /** Bars dropped at the bound since the start; each is refetched from the venue later. */
  dropped: number;
}

/** Counts of a collector run. */
export interface PublishSummary {
  /** Bars this collector stored. */
  stored: number;
  /** Bars another collector (or an earlier attempt) had stored already. */
  duplicates: number;
  /** Bars refetched from the venue to close a gap (counted in stored/duplicates too). */
  backfilled: number;
}

const DEFAULT_MAX_HELD_BARS = 10_000;
const DEFAULT_MAX_BACKFILL_MS = 24 * 60 * 60 * 1000;
const DEFAULT_PUBLISH_TIMEOUT_MS = 2000;

/** The registry name of a built-in provider, for the subject's venue token. */
function venueOf(provider: Provider): string {
  if (provider instanceof BinanceProvider) return 'binance';
  if (provider instanceof PolygonProvider) return 'polygon';
  const named = (provider as { venue?: unknown }).venue;
  if (typeof named === 'string') return named;
  throw new ConfigError('venue', 'cannot tell the venue of this provider: pass { venue }');
}

interface Lane {
  lane: PublishLane;
  /** Bars waiting, each marked when bars before it were dropped (refetch that gap first). */
  queue: { bar: MarketData; gapBefore: boolean }[];
  running: Promise<void> | undefined;
  /** The next bar queued checks for a gap first: set at start and after bars were dropped. */
  checkGap: boolean;
}

/**
 * Collector: publishes every closed bar of `provider.stream()` to
 * `argo.bars.<venue>.<interval>.<SYMBOL>` on JetStream (DESIGN §9), each acknowledged before it
 * counts, and resolves when `signal` aborts (or rejects on a fatal stream error).
 *
 * Each symbol has its own lane, so a symbol whose publishes fail does not hold up the others;
 * bars wait in their lane up to `maxHeldBars` in all. Past that, new bars are dropped and the
 * lane later refetches the gap from the venue (`provider.download`), as it does at start for
 * the stretch since the subject's last stored bar: the bus still gets every bar.
 *
 * @example
 * const provider = new BinanceProvider({ symbols: ['BTCUSDT'], interval: '1m' });
 * const ac = new AbortController();
 * await publishStream(provider, { servers: 'nats://h1:4222,nats://h2:4222', replicas: 3, signal: ac.signal });
 */
export async function publishStream(
  provider: Provider,
  options: PublishOptions,
): Promise<PublishSummary> {
  const venue = checkVenue(options.venue ?? venueOf(provider));
  const interval = provider.getInterval();
  parseServers(options.servers);
  const link = linkedAbort(options.signal);
  const signal = link.signal;
  const summary: PublishSummary = { stored: 0, duplicates: 0, backfilled: 0 };
  const metrics =
    options.metrics === undefined ? undefined : publishMetricsFor(options, venue, interval);
  const onError = (error: MarketDataError) => {
    metrics?.retried(error);
    options.onError?.(error);
  };
  let nc: NatsConnection;
  try {
    nc = await connectWithRetry(await natsOptions(options, `argo-collector-${venue}`), signal);
  } catch (error) {
    link.release();
    if (options.signal?.aborted) return summary;
    throw error;
  }
  const statusDone = forwardStatus(nc, provider.getSymbols(), () =>
    metrics === undefined ? options.onStatus : withMetricsStatus(metrics, options.onStatus),
  ).catch(() => {});
  try {
    // The lanes' reads of a subject's last bar retry on this deadline: after a leader's node is
    // lost, a request sent before the new leader was elected goes unanswered (DESIGN §9).
    const jsm = await jetstreamManager(nc, {
      checkAPI: false,
      timeout: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
    });
    await ensureBarStream(jsm, options.replicas, signal);
    const js: JetStreamClient = jetstream(nc);
    const context = {
      js,
      jsm,
      venue,
      interval,
      signal,
      publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
      onRetry: onError,
    };
    const lanes = new Map<string, Lane>();
    for (const symbol of provider.getSymbols()) {
      lanes.set(symbol, {
        lane: new PublishLane(barSubject(venue, interval, symbol), symbol, context),
        queue: [],
        running: undefined,
        checkGap: true,
      });
    }
    const maxHeld = options.maxHeldBars ?? DEFAULT_MAX_HELD_BARS;
    let held = 0;
    let dropped = 0;
    const backlog = () => options.onBacklog?.({ held, maxHeld, dropped });
    const publish = async (entry: Lane, bar: MarketData, fromVenue: boolean) => {
      const offeredMs = metrics === undefined ? 0 : performance.now();
      const outcome = await entry.lane.offer(
        bar,
        encodeBar(venue, interval, bar),
        barMessageId(venue, interval, bar),
      );
      metrics?.acked(bar, outcome, (performance.now() - offeredMs) / 1000);
      if (outcome === 'stored') summary.stored++;
      else summary.duplicates++;
      if (fromVenue) summary.backfilled++;
      options.onPublished?.(bar, outcome);
    };
    // Backfills write through the provider's download; this writer routes each bar to its lane.
    provider.configWriter(laneWriter(lanes, (entry, bar) => publish(entry, bar, true)));
    const backfill = async (entry: Lane, beforeMs: number) => {
      const lastMs = entry.lane.lastStoredMs;
      const stepMs = intervalMs(interval);
      if (lastMs === undefined || beforeMs - lastMs <= stepMs) return;
      const fromMs = Math.max(
        lastMs + 1,
        beforeMs - (options.maxBackfillMs ?? DEFAULT_MAX_BACKFILL_MS),
      );
      try {
        await provider.download({
          ticker: entry.lane.symbol,
          startDate: new Date(fromMs),
          endDate: new Date(beforeMs - 1),
          ...intervalToTimespan(interval),
          signal,
        });
      } catch (error) {
        if (signal.aborted) throw error;
        // The gap stays open; the next bar tries again.
        const next = entry.queue[1];
        if (next) next.gapBefore = true;
        else entry.checkGap = true;
        onError(toMarketDataError(error, 'NETWORK', `backfill of ${entry.lane.symbol} failed`));
      }
    };
    const drain = async (entry: Lane) => {
      while (entry.queue.length > 0) {
        const { bar, gapBefore } = entry.queue[0] as Lane['queue'][number];
        // Per bar, not per lane: a drop while older held bars drain must not be checked (and
        // found closed) before the bar that follows the dropped ones.
        if (gapBefore) {
          await entry.lane.refresh();
          await backfill(entry, bar.time.getTime());
        }
        await publish(entry, bar, false);
        entry.queue.shift();
        held--;
        backlog();
      }
    };
    const failures: unknown[] = [];
    const kick = (entry: Lane) => {
      if (entry.running) return;
      entry.running = drain(entry)
        .catch((error: unknown) => {
          if (!signal.aborted) failures.push(error);
        })
        .finally(() => {
          entry.running = undefined;
          if (entry.queue.length > 0 && !signal.aborted) kick(entry);
        });
    };
    try {
      for await (const [bar, err] of provider.stream(signal)) {
        if (err) {
          if (err.fatal) throw err;
          onError(err);
          continue;
        }
        if (failures.length > 0) throw failures[0];
        const entry = lanes.get(bar.symbol);
        if (!entry) continue;
        if (held >= maxHeld) {
          // Bounded memory: drop, and refetch from the venue once the lane moves again.
          entry.checkGap = true;
          dropped++;
          backlog();
          continue;
        }
        entry.queue.push({ bar, gapBefore: entry.checkGap });
        entry.checkGap = false;
        held++;
        backlog();
        kick(entry);
      }
    } finally {
      link.abort();
      await Promise.all([...lanes.values()].map((entry) => entry.running));
    }
    if (failures.length > 0) throw failures[0];
    return summary;
  } catch (error) {
    if (options.signal?.aborted) return summary;
    throw toMarketDataError(error, 'NETWORK', 'collector failed');
  } finally {
    link.release();
    await nc.close().catch(() => {});
    await statusDone;
  }
}

/** The collector's metrics: those already on `options.publishMetrics`, or new ones. */
function publishMetricsFor(
  options: PublishOptions,
  venue: string,
  interval: ReturnType<Provider['getInterval']>,
): PublishMetrics {
  return (
    options.publishMetrics ??
    new PublishMetrics(
      options.metrics as NonNullable<PublishOptions['metrics']>,
      venue,
      interval,
      options.maxSymbolSeries,
    )
  );
}

/** The status listener that also tells the metrics' health. */
function withMetricsStatus(
  metrics: PublishMetrics,
  listener: StatusListener | undefined,
): StatusListener {
  return (status, detail) => {
    metrics.status(status, detail);
    listener?.(status, detail);
  };
}

async function connectWithRetry(
  options: Awaited<ReturnType<typeof natsOptions>>,
  signal: AbortSignal,
): Promise<NatsConnection> {
  let delayMs = 250;
  for (;;) {
    try {
      return await connectBus(options);
    } catch (error) {
      if (MarketDataError.is(error) && error.fatal) throw error;
      if (signal.aborted) throw error;
      await sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
}

function laneWriter(
  lanes: Map<string, Lane>,
  publish: (entry: Lane, bar: MarketData) => Promise<void>,
): MarketDataWriter {
  return {
    initialize: async () => {},
    write: async (bar) => {
      const entry = lanes.get(bar.symbol);
      if (entry) await publish(entry, bar);
    },
    finalize: async () => '',
    close: async () => {},
    getOutputPath: () => '',
  };
}
