// PolygonProvider: wiring of REST download, the shared stream engine, and local aggregation.

import { parseWithSchema } from '../../config/parse.js';
import {
  type PolygonStreamConfig,
  type PolygonStreamOptions,
  polygonStreamSchema,
} from '../../config/schemas.js';
import { linkedAbort } from '../../core/abort.js';
import { MarketDataError, registerSecret, toMarketDataError } from '../../core/errors.js';
import { bucketStartMs, withBarSize } from '../../core/intervals.js';
import type {
  DownloadParams,
  FormingBarListener,
  Interval,
  MarketData,
  MarketDataWriter,
  Provider,
  StatusListener,
  StreamResult,
} from '../../core/types.js';
import {
  engineHooksOfAggregated,
  type MetricsOption,
  streamMetricsFor,
  takeMetricsOption,
} from '../../metrics/option.js';
import { observeRestScheduler } from '../../metrics/rest-metrics.js';
import type { StreamMetrics } from '../../metrics/stream-metrics.js';
import { runResilientStream } from '../../stream/engine.js';
import { engineOptions } from '../../stream/engine-options.js';
import { BucketCloser, type ClosedByClock } from './bucket-closer.js';
import { downloadAggregates } from './download.js';
import { AggregationFlow } from './minute-aggregator.js';
import {
  DEFAULT_REST_BASE_URL,
  DELAYED_WS_BASE_URL,
  MINUTE_MS,
  REALTIME_WS_BASE_URL,
  STOCKS_CLUSTER_PATH,
} from './protocol.js';
import { PolygonRest } from './rest.js';
import { createPolygonAdapter } from './stream.js';

/**
 * Polygon.io (Massive) US stocks: historical aggregates over REST and closed bars over WebSocket.
 * `1s` streams `A` events, `1m` streams `AM` events, and every larger interval is built locally
 * from minute bars in UTC buckets. The API key is sent only in the `Authorization` header and
 * the WebSocket auth frame; it is registered as a secret so no error message can contain it.
 *
 * @example
 * const polygon = new PolygonProvider({ symbols: ['AAPL', 'MSFT'], interval: '5m', apiKey });
 * const ac = new AbortController();
 * for await (const [bar, err] of polygon.stream(ac.signal)) {
 *   if (err) { if (err.fatal) break; continue; }
 *   console.log(bar.symbol, bar.time.toISOString(), bar.close);
 * }
 */
export class PolygonProvider implements Provider {
  readonly #config: PolygonStreamConfig;
  readonly #restBaseUrl: string;
  readonly #wsUrl: string;
  #writer: MarketDataWriter | undefined;
  #onStatus: StatusListener | undefined;
  #onForming: FormingBarListener | undefined;
  /** This provider's `argo_*` series and health, when a `metrics` registry was given. */
  readonly streamMetrics: StreamMetrics | undefined;

  /** Validates `options` (ConfigError naming the field; a missing key is `CONFIG_INVALID`). */
  constructor(options: PolygonStreamOptions & MetricsOption) {
    const split = takeMetricsOption(options);
    options = split.rest;
    // Register before validating, so even a message about a malformed key cannot show it.
    const maybeKey = (options as { apiKey?: unknown } | undefined)?.apiKey;
    if (typeof maybeKey === 'string') registerSecret(maybeKey);
    this.#config = parseWithSchema(polygonStreamSchema, options, 'Polygon config');
    this.streamMetrics = streamMetricsFor(
      'polygon',
      this.#config.interval as Interval,
      split.metrics,
      split.maxSymbolSeries,
    );
    this.#restBaseUrl = (this.#config.restBaseUrl ?? DEFAULT_REST_BASE_URL).replace(/\/+$/, '');
    // REST attempts and 429s of the host's shared scheduler (Polygon has no weight limit).
    if (split.metrics !== undefined)
      observeRestScheduler(split.metrics, this.#rest().scheduler, 'polygon');
    const wsBase =
      this.#config.wsBaseUrl ??
      (this.#config.feed === 'delayed' ? DELAYED_WS_BASE_URL : REALTIME_WS_BASE_URL);
    this.#wsUrl = wsBase.replace(/\/+$/, '') + STOCKS_CLUSTER_PATH;
  }

  configWriter(writer: MarketDataWriter): void {
    this.#writer = writer;
  }

  getSymbols(): string[] {
    return [...this.#config.symbols];
  }

  getInterval(): Interval {
    return this.#config.interval as Interval;
  }

  setOnStatusChange(cb: StatusListener): void {
    this.#onStatus = cb;
  }

  /**
   * For intervals above 1m: after each minute, `cb` gets the symbol's bucket so far (the local
   * aggregation's open bucket), e.g. to draw the current candle. Polygon sends no forming minute
   * or second, so `1m` and `1s` streams never call it. Never yielded, never written. `undefined`
   * stops it.
   */
  setOnFormingBar(cb: FormingBarListener | undefined): void {
    this.#onForming = cb;
  }

  #rest(): PolygonRest {
    return new PolygonRest({
      restBaseUrl: this.#restBaseUrl,
      apiKey: this.#config.apiKey,
      feed: this.#config.feed,
      requestTimeoutMs: this.#config.requestTimeoutMs,
      maxRetries: this.#config.maxRetries,
    });
  }

  /**
   * Downloads `multiplier` × `timespan` aggregates (the configured interval when both are left
   * out) of `ticker` (split-adjusted) into the
   * configured writer and resolves to its output path. Long ranges are split into windows
   * fetched `downloadConcurrency` at a time and written in order. Day and longer bars keep
   * Polygon's New York-midnight start times. On failure or abort the writer is closed without
   * finalizing (no file) and the promise rejects with a MarketDataError.
   *
   * @example
   * polygon.configWriter(new DuckDBWriter('AAPL.parquet'));
   * const path = await polygon.download({ ticker: 'AAPL', startDate: new Date('2024-01-02'),
   *   endDate: new Date('2024-01-31'), multiplier: 1, timespan: 'minute' });
   */
  async download(params: DownloadParams): Promise<string> {
    return downloadAggregates(
      this.#rest(),
      this.#writer,
      withBarSize(params, this.getInterval()),
      this.#config.downloadConcurrency,
    );
  }

  /**
   * Closed bars of the configured symbols and interval, errors in-band (DESIGN §3). Each
   * (symbol, time) is yielded at most once per call, per symbol in increasing time; bars missed
   * while disconnected come from REST, in order, before newer live bars. Intervals above 1m are
   * aggregated from minute bars in Polygon's buckets (under a day UTC; `1d`, `1w`, `1M` New
   * York midnight, Sunday and the 1st) and yielded once the bucket is over: at its last minute,
   * or a few seconds after its end by the venue's clock (read from REST), even when no later
   * minute comes (a quiet ticker after hours).
   */
  stream(signal?: AbortSignal): AsyncIterable<StreamResult> {
    return this.#stream(signal);
  }

  async *#stream(signal?: AbortSignal): AsyncGenerator<StreamResult, void, undefined> {
    const interval = this.getInterval();
    const config = this.#config;
    if (signal?.aborted) return;
    const aggregated = interval !== '1s' && interval !== '1m';
    const flow = aggregated ? new AggregationFlow(interval) : undefined;
    const rest = this.#rest();
    const adapter = createPolygonAdapter({
      apiKey: config.apiKey,
      feed: config.feed,
      wsUrl: this.#wsUrl,
      tickers: config.symbols,
      ev: interval === '1s' ? 'A' : 'AM',
      rest,
      handshakeTimeoutMs: config.connectTimeoutMs,
      maxCoolDownMs: config.reconnectMaxDelayMs,
      ...(flow ? { onBackfill: flow.onBackfill.bind(flow) } : {}),
    });
    // The engine stops with our own signal, so a `break` here ends it even while its next item
    // is still pending (racing it with the bucket closer leaves one outstanding).
    const localAbort = linkedAbort(signal);
    const engine = runResilientStream(
      adapter,
      engineOptions(
        config,
        () => this.#onStatus,
        // Above 1m the engine yields minutes: the bars are counted below, once aggregated.
        aggregated ? engineHooksOfAggregated(this.streamMetrics) : this.streamMetrics,
      ),
      flow === undefined ? signal : localAbort.signal,
    );
    if (flow === undefined) {
      localAbort.release();
      yield* engine;
      return;
    }
    const closer = new BucketCloser(flow, rest, localAbort.signal);
    const metrics = this.streamMetrics;
    const iterator = engine[Symbol.asyncIterator]();
    let pending: Promise<{ item: IteratorResult<StreamResult> }> | undefined;
    let closes: Promise<{ closed: ClosedByClock }> | undefined;
    try {
      for (;;) {
        pending ??= iterator.next().then((item) => ({ item }));
        closes ??= closer.next().then((closed) => ({ closed }));
        const won = await Promise.race([pending, closes]);
        if ('closed' in won) {
          closes = undefined;
          for (const error of won.closed.errors) {
            const failure = new MarketDataError(error.code, error.message, { fatal: false });
            metrics?.error(failure);
            yield [undefined, failure];
          }
          for (const close of won.closed.closes) {
            const bar = flow.closeFromRest(close.symbol, close.startMs, close.minutes);
            if (bar) {
              metrics?.bar(bar);
              yield [bar, undefined];
            }
          }
          closer.arm();
          continue;
        }
        pending = undefined;
        if (won.item.done) return;
        const item = won.item.value;
        const [minute, error] = item;
        if (error) {
          yield item;
          if (error.fatal) return;
          continue;
        }
        if (!flow.started) {
          const failures = await this.#seedFirstBuckets(
            flow,
            rest,
            interval,
            minute,
            localAbort.signal,
          );
          if (localAbort.signal.aborted) return;
          for (const failure of failures) {
            metrics?.error(failure);
            yield [undefined, failure];
          }
        }
        closer.observe(minute.time.getTime() + MINUTE_MS);
        const done = flow.onMinute(minute);
        const forming = flow.forming(minute.symbol);
        if (forming !== undefined) this.#onForming?.(forming);
        for (const bar of done) {
          metrics?.bar(bar);
          yield [bar, undefined];
        }
        closer.arm();
      }
    } finally {
      closer.stop();
      localAbort.abort();
      localAbort.release();
      await iterator.return?.();
    }
  }

  /**
   * The stream starts inside a bucket: its earlier minutes closed before we subscribed. Fetch
   * them over REST for every symbol so the first bar of each is complete; if that fails for a
   * symbol, its first bucket is skipped rather than emitted with minutes missing.
   */
  async #seedFirstBuckets(
    flow: AggregationFlow,
    rest: PolygonRest,
    interval: Interval,
    firstMinute: MarketData,
    signal: AbortSignal,
  ): Promise<MarketDataError[]> {
    const firstMs = firstMinute.time.getTime();
    const fromMs = bucketStartMs(interval, firstMs);
    if (fromMs >= firstMs) return [];
    const failures: MarketDataError[] = [];
    const symbols = [...this.#config.symbols];
    const seedOne = async (symbol: string): Promise<void> => {
      try {
        const minutes = await rest.bars(symbol, 1, 'minute', fromMs, firstMs - 1, signal);
        flow.seed(minutes.filter((m) => m.time.getTime() >= fromMs && m.time.getTime() < firstMs));
      } catch (error) {
        if (signal.aborted) return;
        flow.giveUpBucket(symbol, fromMs);
        failures.push(
          toMarketDataError(
            error,
            'NETWORK',
            `could not fetch the earlier minutes of ${symbol}'s first ${interval} bar (${new Date(fromMs).toISOString()}); that bar is skipped`,
          ),
        );
      }
    };
    const workers = Array.from(
      { length: Math.min(this.#config.downloadConcurrency, symbols.length) },
      async () => {
        for (let symbol = symbols.shift(); symbol !== undefined; symbol = symbols.shift()) {
          await seedOne(symbol);
        }
      },
    );
    await Promise.all(workers);
    return failures.map(
      (failure) =>
        new MarketDataError(failure.code, failure.message, { fatal: false, cause: failure }),
    );
  }
}
