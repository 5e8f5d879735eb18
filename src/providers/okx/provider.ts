import { parseWithSchema } from '../../config/parse.js';
import {
  type OkxStreamConfig,
  type OkxStreamOptions,
  okxStreamSchema,
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
import { downloadCandles } from './download.js';
import { instrumentPriceDecimals } from './instruments.js';
import { OKX_DEMO_WS_URL, OKX_REST_URL, OKX_WS_URL } from './protocol.js';
import { OkxRest } from './rest.js';
import { okxStreamAdapter } from './stream.js';

/**
 * OKX v5 Spot market data (no API key; DESIGN.md §12): candle downloads into a writer, and
 * closed candles over the `/ws/v5/business` socket that survive drops, silences and slow
 * consumers without losing or repeating a bar. Instrument ids look like `BTC-USDT`; 6h and
 * longer bars use OKX's `…utc` names, so every interval is UTC-aligned; OKX has no `8h`.
 *
 * Bar ids are deterministic, `INSTID-interval-openTimeMs` (e.g. `BTC-USDT-1m-1672515780000`),
 * the same in downloads and streams.
 *
 * @example
 * const okx = new OkxProvider({ symbols: ['BTC-USDT'], interval: '1m' });
 * for await (const [bar, err] of okx.stream(ac.signal)) {
 *   if (err) { if (err.fatal) throw err; continue; }
 *   console.log(bar.symbol, bar.time.toISOString(), bar.close);
 * }
 */
export class OkxProvider implements Provider {
  private readonly config: OkxStreamConfig;
  private readonly rest: OkxRest;
  private readonly wsBaseUrl: string;
  private writer: MarketDataWriter | undefined;
  private statusListener: StatusListener | undefined;
  private formingListener: FormingBarListener | undefined;
  /** This provider's `argo_*` series and health, when a `metrics` registry was given. */
  readonly streamMetrics: StreamMetrics | undefined;

  /**
   * Validates `options` (a ConfigError naming the field; `INVALID_INTERVAL` naming OKX's
   * intervals for one it lacks). Endpoints default to production, or demo trading with
   * `demo: true`; `restBaseUrl`/`wsBaseUrl` override either (e.g. the simulator).
   */
  constructor(options: OkxStreamOptions & MetricsOption) {
    const { rest, metrics, maxSymbolSeries } = takeMetricsOption(options);
    this.config = parseWithSchema(okxStreamSchema, rest, 'OKX config');
    this.streamMetrics = streamMetricsFor('okx', this.config.interval, metrics, maxSymbolSeries);
    this.wsBaseUrl = this.config.wsBaseUrl ?? (this.config.demo ? OKX_DEMO_WS_URL : OKX_WS_URL);
    this.rest = new OkxRest({
      baseUrl: this.config.restBaseUrl ?? OKX_REST_URL,
      timeoutMs: this.config.requestTimeoutMs,
      demo: this.config.demo,
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

  /** The configured instrument ids, upper case, duplicates removed. */
  getSymbols(): string[] {
    return [...this.config.symbols];
  }

  getInterval(): Interval {
    return this.config.interval;
  }

  /** Called on `connected`, `reconnecting` (attempt, delayMs) and `disconnected`, per socket. */
  setOnStatusChange(cb: StatusListener): void {
    this.statusListener = cb;
  }

  /** Decimal places of each instrument's price tick (`tickSz`), to print prices as OKX quotes. */
  priceDecimals(signal?: AbortSignal): Promise<Map<string, number>> {
    return instrumentPriceDecimals(this.rest, this.config.symbols, signal);
  }

  /**
   * Hear each instrument's forming (still open, `confirm` "0") candle from the pushes OKX sends
   * while `stream()` runs; `undefined` stops. Never yielded or written.
   */
  setOnFormingBar(cb: FormingBarListener | undefined): void {
    this.formingListener = cb;
  }

  /**
   * Download closed candles (of `multiplier` × `timespan`, or the configured interval) with
   * open times in `[startDate, endDate]` into the configured writer, ascending, and resolve to
   * `writer.finalize()`'s path. Old ranges come from `history-candles` (pages of 100), the
   * latest 1,440 bars from `candles`, each endpoint within its own OKX limit (40 and 20
   * requests / 2 s, shared by every stream and download of the process); 50011, network
   * errors and 5xx retry. On failure or abort no file is written and the promise rejects with
   * a MarketDataError.
   *
   * @example
   * okx.configWriter(new DuckDBWriter('btc.parquet'));
   * const path = await okx.download({ ticker: 'BTC-USDT', startDate: new Date('2024-01-01'),
   *   endDate: new Date('2024-01-31T23:59:59.999Z'), multiplier: 1, timespan: 'hour' });
   */
  async download(params: DownloadParams): Promise<string> {
    const floor = this.config.downloadConcurrency;
    const schedulers = this.rest.schedulers;
    return downloadCandles(this.rest, this.writer, withBarSize(params, this.getInterval()), () =>
      Math.max(
        floor,
        Math.min(schedulers.historyCandles.concurrency, schedulers.candles.concurrency),
      ),
    );
  }

  /**
   * Closed candles (`confirm` "1") of every configured instrument as `[bar, undefined]`, errors
   * as `[undefined, err]`. Instruments are checked first (unknown, 51001, or suspended: fatal
   * `INVALID_SYMBOL`). The socket is pinged with the text `ping` every `pingIntervalMs` (OKX
   * closes it after 30 s without traffic); after a reconnect the missed bars come from REST, in
   * order, before newer live bars. Per instrument, `time` strictly increases. `break` or
   * `signal.abort()` closes every socket.
   */
  stream(signal?: AbortSignal): AsyncIterable<StreamResult> {
    const adapter = okxStreamAdapter({
      rest: this.rest,
      wsBaseUrl: this.wsBaseUrl,
      symbols: this.config.symbols,
      interval: this.getInterval(),
      formingListener: () => this.formingListener,
    });
    return runResilientStream(
      adapter,
      engineOptions(this.config, () => this.statusListener, this.streamMetrics),
      signal,
    );
  }
}
