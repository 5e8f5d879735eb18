import { parseWithSchema } from '../../config/parse.js';
import {
  type BinanceStreamConfig,
  type BinanceStreamOptions,
  binanceStreamSchema,
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
import { observeRestScheduler } from '../../metrics/rest-metrics.js';
import type { StreamMetrics } from '../../metrics/stream-metrics.js';
import { runResilientStream } from '../../stream/engine.js';
import { engineOptions } from '../../stream/engine-options.js';
import { downloadKlines } from './download.js';
import {
  BINANCE_REST_URL,
  BINANCE_TESTNET_REST_URL,
  BINANCE_TESTNET_WS_URL,
  BINANCE_WS_URL,
  CONNECTION_LIFETIME_MS,
  ROTATE_BEFORE_CUT_MS,
} from './protocol.js';
import { BinanceRest } from './rest.js';
import { binanceStreamAdapter } from './stream.js';

/**
 * Binance Spot market data (no API key): klines downloads into a writer, and realtime closed
 * bars over WebSocket that survive drops, silences, the 24 h cut and slow consumers without
 * losing or repeating a bar (DESIGN.md §2–4).
 *
 * Bar ids are deterministic, `SYMBOL-interval-openTimeMs` (e.g. `BTCUSDT-1m-1672515780000`), the
 * same in downloads and streams.
 *
 * @example
 * const client = new BinanceProvider({ symbols: ['BTCUSDT', 'ETHUSDT'], interval: '1m' });
 * const ac = new AbortController();
 * for await (const [data, err] of client.stream(ac.signal)) {
 *   if (err) { console.error(`stream error: ${err.message}`); break; }
 *   console.log(`${data.symbol}: O=${data.open.toFixed(2)} C=${data.close.toFixed(2)}`);
 * }
 */
export class BinanceProvider implements Provider {
  private readonly config: BinanceStreamConfig;
  private readonly rest: BinanceRest;
  private readonly restBaseUrl: string;
  private readonly wsBaseUrl: string;
  private writer: MarketDataWriter | undefined;
  private statusListener: StatusListener | undefined;
  private formingListener: FormingBarListener | undefined;
  /** This provider's `argo_*` series and health, when a `metrics` registry was given. */
  readonly streamMetrics: StreamMetrics | undefined;

  /**
   * Validates `options` (a ConfigError naming the field, code `INVALID_INTERVAL` for a bad
   * interval). Endpoints default to production, or the Spot testnet with `testnet: true`;
   * `restBaseUrl`/`wsBaseUrl` override either (e.g. the simulator).
   */
  constructor(options: BinanceStreamOptions & MetricsOption) {
    const { rest, metrics, maxSymbolSeries } = takeMetricsOption(options);
    this.config = parseWithSchema(binanceStreamSchema, rest, 'Binance config');
    this.streamMetrics = streamMetricsFor(
      'binance',
      this.config.interval as Interval,
      metrics,
      maxSymbolSeries,
    );
    const testnet = this.config.testnet;
    this.restBaseUrl =
      this.config.restBaseUrl ?? (testnet ? BINANCE_TESTNET_REST_URL : BINANCE_REST_URL);
    this.wsBaseUrl = this.config.wsBaseUrl ?? (testnet ? BINANCE_TESTNET_WS_URL : BINANCE_WS_URL);
    this.rest = new BinanceRest({
      baseUrl: this.restBaseUrl,
      timeoutMs: this.config.requestTimeoutMs,
      retry: {
        maxRetries: this.config.maxRetries,
        initialDelayMs: this.config.reconnectInitialDelayMs,
        maxDelayMs: this.config.reconnectMaxDelayMs,
      },
    });
    if (metrics !== undefined) observeRestScheduler(metrics, this.rest.scheduler, 'binance');
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

  /**
   * Decimal places of each configured symbol's price tick (exchangeInfo `PRICE_FILTER`), so
   * prices can be printed as the venue quotes them: `0.010123` for BNBBTC, not `0.01`.
   */
  priceDecimals(signal?: AbortSignal): Promise<Map<string, number>> {
    return this.rest.priceDecimals(this.config.symbols, signal);
  }

  /**
   * Hear each symbol's forming (still open) bar from the kline frames Binance pushes every
   * 1–2 s while `stream()` runs (DESIGN.md §3); `undefined` stops. Never yielded or written.
   */
  setOnFormingBar(cb: FormingBarListener | undefined): void {
    this.formingListener = cb;
  }

  /**
   * Download closed klines (of `multiplier` × `timespan`, or the configured interval when both
   * are left out) with open times in `[startDate, endDate]` into the configured writer and
   * resolve to `writer.finalize()`'s path. Pages of 1000 are fetched as many at a time as the
   * host's REST scheduler allows (at least `downloadConcurrency`; more when latency is high,
   * within Binance's weight limit shared with every stream) and written in order; weight
   * headers, 429 `Retry-After` and 418 bans are
   * honoured; network errors and 5xx retry. On failure or abort the writer is closed without
   * finalizing (no file) and the promise rejects with a MarketDataError.
   *
   * @example
   * provider.configWriter(new DuckDBWriter('btc.parquet'));
   * const path = await provider.download({ ticker: 'BTCUSDT', startDate: new Date('2024-01-01'),
   *   endDate: new Date('2024-01-31'), multiplier: 1, timespan: 'hour',
   *   onProgress: (current, total) => console.error(`${current}/${total}`) });
   */
  async download(params: DownloadParams): Promise<string> {
    // The window of pages in flight follows the host scheduler's bound (latency × the weight
    // budget's rate); `downloadConcurrency` is its floor.
    const scheduler = this.rest.scheduler;
    const floor = this.config.downloadConcurrency;
    return downloadKlines(this.rest, this.writer, withBarSize(params, this.getInterval()), () =>
      Math.max(floor, scheduler.concurrency),
    );
  }

  /**
   * Closed bars of every configured symbol as `[bar, undefined]`, errors as
   * `[undefined, err]`. Symbols are checked with the exchange first (fatal `INVALID_SYMBOL`).
   * Non-fatal errors (a dropped socket, a malformed frame) are followed by recovery; after a
   * reconnect the missed bars come from REST, in order, before newer live bars. Per symbol,
   * `time` strictly increases. `break` or `signal.abort()` closes every socket.
   *
   * @example
   * for await (const [bar, err] of provider.stream(ac.signal)) {
   *   if (err) { if (err.fatal) throw err; continue; }
   *   console.log(bar.symbol, bar.time.toISOString(), bar.close);
   * }
   */
  stream(signal?: AbortSignal): AsyncIterable<StreamResult> {
    const config = this.config;
    const adapter = binanceStreamAdapter({
      rest: this.rest,
      wsBaseUrl: this.wsBaseUrl,
      symbols: config.symbols,
      interval: this.getInterval(),
      connection: config.connection,
      maxNewConnections: config.maxNewConnections,
      newConnectionWindowMs: config.newConnectionWindowMs,
      formingListener: () => this.formingListener,
    });
    return runResilientStream(
      adapter,
      engineOptions(
        {
          ...config,
          maxConnectionAgeMs:
            config.maxConnectionAgeMs ?? CONNECTION_LIFETIME_MS - ROTATE_BEFORE_CUT_MS,
        },
        () => this.statusListener,
        this.streamMetrics,
      ),
      signal,
    );
  }
}
