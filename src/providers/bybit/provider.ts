import { parseWithSchema } from '../../config/parse.js';
import {
  type BybitStreamConfig,
  type BybitStreamOptions,
  bybitStreamSchema,
} from '../../config/schemas.js';
import { withBarSize } from '../../core/intervals.js';
import type {
  DownloadParams,
  FormingBarListener,
  Interval,
  MarketDataWriter,
  Provider,
  StatusListener,
  StreamResult,
} from '../../core/types.js';
import { type MetricsOption, streamMetricsFor, takeMetricsOption } from '../../metrics/option.js';
import type { StreamMetrics } from '../../metrics/stream-metrics.js';
import { runResilientStream } from '../../stream/engine.js';
import { engineOptions } from '../../stream/engine-options.js';
import { downloadBybitKlines } from './download.js';
import {
  BYBIT_REST_URL,
  BYBIT_TESTNET_REST_URL,
  BYBIT_TESTNET_WS_URL,
  BYBIT_WS_URL,
} from './protocol.js';
import { BybitRest } from './rest.js';
import { bybitStreamAdapter } from './stream.js';

/**
 * Bybit v5 Spot market data (no API key, DESIGN.md §12): kline downloads into a writer, and
 * realtime closed bars (`confirm: true`) over the public spot WebSocket that survive drops,
 * silences and slow consumers without losing or repeating a bar. Every REST request goes through
 * the host's shared scheduler under Bybit's 600 requests / 5 s, so the 403 ban is never drawn.
 *
 * Bar ids are deterministic, `SYMBOL-interval-openTimeMs`, the same in downloads and streams.
 *
 * @example
 * const client = new BybitProvider({ symbols: ['BTCUSDT', 'ETHUSDT'], interval: '1m' });
 * const ac = new AbortController();
 * for await (const [data, err] of client.stream(ac.signal)) {
 *   if (err) { console.error(`stream error: ${err.message}`); if (err.fatal) break; continue; }
 *   console.log(`${data.symbol}: O=${data.open} C=${data.close}`);
 * }
 */
export class BybitProvider implements Provider {
  private readonly config: BybitStreamConfig;
  private readonly rest: BybitRest;
  private readonly wsBaseUrl: string;
  private writer: MarketDataWriter | undefined;
  private statusListener: StatusListener | undefined;
  private formingListener: FormingBarListener | undefined;
  /** This provider's `argo_*` series and health, when a `metrics` registry was given. */
  readonly streamMetrics: StreamMetrics | undefined;

  /**
   * Validates `options` (a ConfigError naming the field; `INVALID_INTERVAL` naming Bybit's
   * intervals for `1s`, `8h` or `3d`). Endpoints default to production, or the testnet with
   * `testnet: true`; `restBaseUrl`/`wsBaseUrl` override either (e.g. the simulator).
   */
  constructor(options: BybitStreamOptions & MetricsOption) {
    const { rest, metrics, maxSymbolSeries } = takeMetricsOption(options);
    this.config = parseWithSchema(bybitStreamSchema, rest, 'Bybit config');
    this.streamMetrics = streamMetricsFor('bybit', this.getInterval(), metrics, maxSymbolSeries);
    const testnet = this.config.testnet;
    const restBaseUrl =
      this.config.restBaseUrl ?? (testnet ? BYBIT_TESTNET_REST_URL : BYBIT_REST_URL);
    this.wsBaseUrl = this.config.wsBaseUrl ?? (testnet ? BYBIT_TESTNET_WS_URL : BYBIT_WS_URL);
    this.rest = new BybitRest({
      baseUrl: restBaseUrl,
      timeoutMs: this.config.requestTimeoutMs,
      retry: {
        maxRetries: this.config.maxRetries,
        initialDelayMs: this.config.reconnectInitialDelayMs,
        maxDelayMs: this.config.reconnectMaxDelayMs,
      },
    });
  }

  /** The writer `download` writes into. */
  configWriter(writer: MarketDataWriter): void {
    this.writer = writer;
  }

  /** The configured symbols, upper case, duplicates removed. */
  getSymbols(): string[] {
    return [...this.config.symbols];
  }

  getInterval(): Interval {
    return this.config.interval as Interval;
  }

  /** Called on `connected`, `reconnecting` (attempt, delayMs) and `disconnected`, per socket. */
  setOnStatusChange(cb: StatusListener): void {
    this.statusListener = cb;
  }

  /** Decimal places of each configured symbol's price tick (instruments-info `tickSize`). */
  priceDecimals(signal?: AbortSignal): Promise<Map<string, number>> {
    return this.rest.priceDecimals(this.config.symbols, signal);
  }

  /**
   * Hear each symbol's forming bar from the `confirm: false` pushes while `stream()` runs
   * (DESIGN.md §3); `undefined` stops. Never yielded or written.
   */
  setOnFormingBar(cb: FormingBarListener | undefined): void {
    this.formingListener = cb;
  }

  /**
   * Download closed klines (of `multiplier` × `timespan`, or the configured interval) with open
   * times in `[startDate, endDate]` into the configured writer, ascending although Bybit
   * answers newest first, and resolve to `writer.finalize()`'s path. The still-forming bar is
   * dropped by the venue's clock. Pages of 1000 are fetched as many at a time as the host's
   * scheduler allows (at least `downloadConcurrency`). On failure or abort no file is left and
   * the promise rejects with a MarketDataError (`INVALID_SYMBOL`, `INVALID_INTERVAL`, …).
   *
   * @example
   * provider.configWriter(new DuckDBWriter('btc.parquet'));
   * const path = await provider.download({ ticker: 'BTCUSDT', startDate: new Date('2024-01-01'),
   *   endDate: new Date('2024-01-31'), multiplier: 1, timespan: 'hour' });
   */
  async download(params: DownloadParams): Promise<string> {
    const scheduler = this.rest.scheduler;
    const floor = this.config.downloadConcurrency;
    return downloadBybitKlines(
      this.rest,
      this.writer,
      withBarSize(params, this.getInterval()),
      () => Math.max(floor, scheduler.concurrency),
    );
  }

  /**
   * Closed bars of every configured symbol as `[bar, undefined]`, errors as `[undefined, err]`.
   * Symbols are checked first (fatal `INVALID_SYMBOL` before any socket). A duplicate
   * `confirm: true` push is dropped; after a reconnect the missed bars come from REST, in
   * order, before newer live bars. Per symbol, `time` strictly increases. `break` or
   * `signal.abort()` closes every socket.
   *
   * @example
   * for await (const [bar, err] of provider.stream(ac.signal)) {
   *   if (err) { if (err.fatal) throw err; continue; }
   *   console.log(bar.symbol, bar.time.toISOString(), bar.close);
   * }
   */
  stream(signal?: AbortSignal): AsyncIterable<StreamResult> {
    const config = this.config;
    const adapter = bybitStreamAdapter({
      rest: this.rest,
      wsBaseUrl: this.wsBaseUrl,
      symbols: config.symbols,
      interval: this.getInterval(),
      maxNewConnections: config.maxNewConnections,
      newConnectionWindowMs: config.newConnectionWindowMs,
      formingListener: () => this.formingListener,
    });
    return runResilientStream(
      adapter,
      engineOptions(config, () => this.statusListener, this.streamMetrics),
      signal,
    );
  }
}
