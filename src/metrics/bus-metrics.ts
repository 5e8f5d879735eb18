import type { Counter, Histogram, Registry } from 'prom-client';
import type { MarketDataError } from '../core/errors.js';
import { intervalMs } from '../core/intervals.js';
import type { ConnectionStatus, Interval, MarketData, StatusDetail } from '../core/types.js';
import { counterIn, DEFAULT_MAX_SYMBOL_SERIES, histogramIn, SymbolLabels } from './families.js';
import { HealthTracker } from './health.js';

/** The bus's `metrics` option (collector and store service): a Registry the caller owns. */
export interface BusMetricsOption {
  /** Register the `argo_publish_*` / `argo_store_*` series here; default: nothing measured. */
  metrics?: Registry | undefined;
  /** Per-symbol series cap (default 1,000); symbols past it share `symbol="_other"`. */
  maxSymbolSeries?: number | undefined;
}

/** A collector's or store's view of one bar's trip: who, and its outcome. */
type BusLabel = 'venue' | 'interval';

/**
 * What the collector's and the store's metrics share: the labels of the process, the capped
 * symbol label, and health from the NATS connection's status and the newest bar per symbol.
 */
abstract class BusProcessMetrics {
  readonly health: HealthTracker;
  protected readonly labels: Record<BusLabel, string>;
  readonly #symbols: SymbolLabels;
  readonly #lastOpen = new Map<string, number>();

  constructor(venue: string, interval: Interval, maxSymbolSeries: number | undefined) {
    this.labels = { venue, interval };
    this.#symbols = new SymbolLabels(maxSymbolSeries ?? DEFAULT_MAX_SYMBOL_SERIES);
    this.health = new HealthTracker(intervalMs(interval), () => this.#lastOpen);
    // Up from the start: connectBus resolved, and forwardStatus reports only changes.
    this.health.status('connected', { connection: 'nats', symbols: [] });
  }

  /** Folds the NATS connection's status (`nats:<server>`) into one `nats` connection. */
  status(status: ConnectionStatus, detail: StatusDetail): void {
    this.health.status(status, { ...detail, connection: 'nats' });
  }

  /** Notes `bar` as the newest of its symbol when it is; returns its `symbol` label. */
  protected seen(bar: MarketData): string {
    const openMs = bar.time.getTime();
    if (openMs > (this.#lastOpen.get(bar.symbol) ?? -1)) this.#lastOpen.set(bar.symbol, openMs);
    return this.#symbols.of(bar.symbol);
  }
}

/**
 * Collector metrics (`publishStream`): JetStream acknowledgements by outcome and symbol, the
 * time from offering a bar to its ack (retries included) and publish retries by code.
 */
export class PublishMetrics extends BusProcessMetrics {
  readonly #acks: Counter<BusLabel | 'symbol' | 'outcome'>;
  readonly #latency: Histogram.Internal<BusLabel>;
  readonly #retries: Counter<BusLabel | 'code'>;

  constructor(registry: Registry, venue: string, interval: Interval, maxSymbolSeries?: number) {
    super(venue, interval, maxSymbolSeries);
    this.#acks = counterIn(
      registry,
      'argo_publish_acks_total',
      'Bars acknowledged by JetStream: stored, duplicate (already stored) or skipped (older).',
      ['venue', 'interval', 'symbol', 'outcome'],
    );
    this.#latency = histogramIn(
      registry,
      'argo_publish_ack_seconds',
      'Seconds from offering a bar to its JetStream acknowledgement (retries included).',
      ['venue', 'interval'],
    ).labels(this.labels);
    this.#retries = counterIn(
      registry,
      'argo_publish_retries_total',
      'Publishes not acknowledged and retried, and other non-fatal collector trouble, by code.',
      ['venue', 'interval', 'code'],
    );
  }

  acked(bar: MarketData, outcome: string, seconds: number): void {
    this.#acks.inc({ ...this.labels, symbol: this.seen(bar), outcome });
    this.#latency.observe(seconds);
  }

  retried(error: MarketDataError): void {
    this.#retries.inc({ ...this.labels, code: error.code });
  }
}

/**
 * Store service metrics (`runStoreService`): bars durable and acked per symbol, and acks the
 * server did not confirm (the bar comes again; the upsert keeps it once).
 */
export class StoreMetrics extends BusProcessMetrics {
  readonly #stored: Counter<BusLabel | 'symbol'>;
  readonly #ackFailures: Counter.Internal;
  readonly #errors: Counter<BusLabel | 'code'>;

  constructor(registry: Registry, venue: string, interval: Interval, maxSymbolSeries?: number) {
    super(venue, interval, maxSymbolSeries);
    this.#stored = counterIn(
      registry,
      'argo_store_bars_total',
      'Bars the store service made durable and then acknowledged on the bus.',
      ['venue', 'interval', 'symbol'],
    );
    this.#ackFailures = counterIn(
      registry,
      'argo_store_ack_failures_total',
      'Acks of durable bars that the server did not confirm (the bar is redelivered).',
      ['venue', 'interval'],
    ).labels(this.labels);
    this.#errors = counterIn(
      registry,
      'argo_store_errors_total',
      'Non-fatal store service trouble (a consumer reopened, a malformed message), by code.',
      ['venue', 'interval', 'code'],
    );
  }

  stored(bar: MarketData, acked: boolean): void {
    this.#stored.inc({ ...this.labels, symbol: this.seen(bar) });
    if (!acked) this.#ackFailures.inc();
  }

  error(error: MarketDataError): void {
    this.#errors.inc({ ...this.labels, code: error.code });
  }
}
