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

/** Health of a bus process: the NATS connection's status and the newest bar per symbol. */
function busHealth(interval: Interval, lastOpen: Map<string, number>): HealthTracker {
  const tracker = new HealthTracker(intervalMs(interval), () => lastOpen);
  // Up from the start: connectBus resolved, and forwardStatus reports only changes.
  tracker.status('connected', { connection: 'nats', symbols: [] });
  return tracker;
}

/** Folds the NATS connection's status (`nats:<server>`) into one `nats` connection for health. */
function natsStatus(tracker: HealthTracker, status: ConnectionStatus, detail: StatusDetail): void {
  tracker.status(status, { ...detail, connection: 'nats' });
}

/**
 * Collector metrics (`publishStream`): JetStream acknowledgements by outcome and symbol, the
 * time from offering a bar to its ack (retries included) and publish retries by code.
 */
export class PublishMetrics {
  readonly health: HealthTracker;
  readonly #acks: Counter<BusLabel | 'symbol' | 'outcome'>;
  readonly #latency: Histogram.Internal<BusLabel>;
  readonly #retries: Counter<BusLabel | 'code'>;
  readonly #symbols: SymbolLabels;
  readonly #labels: Record<BusLabel, string>;
  readonly #lastOpen = new Map<string, number>();

  constructor(registry: Registry, venue: string, interval: Interval, maxSymbolSeries?: number) {
    this.#labels = { venue, interval };
    this.#symbols = new SymbolLabels(maxSymbolSeries ?? DEFAULT_MAX_SYMBOL_SERIES);
    this.health = busHealth(interval, this.#lastOpen);
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
    ).labels(this.#labels);
    this.#retries = counterIn(
      registry,
      'argo_publish_retries_total',
      'Publishes not acknowledged and retried, and other non-fatal collector trouble, by code.',
      ['venue', 'interval', 'code'],
    );
  }

  acked(bar: MarketData, outcome: string, seconds: number): void {
    this.#acks.inc({ ...this.#labels, symbol: this.#symbols.of(bar.symbol), outcome });
    this.#latency.observe(seconds);
    const openMs = bar.time.getTime();
    if (openMs > (this.#lastOpen.get(bar.symbol) ?? -1)) this.#lastOpen.set(bar.symbol, openMs);
  }

  retried(error: MarketDataError): void {
    this.#retries.inc({ ...this.#labels, code: error.code });
  }

  status(status: ConnectionStatus, detail: StatusDetail): void {
    natsStatus(this.health, status, detail);
  }
}

/**
 * Store service metrics (`runStoreService`): bars durable and acked per symbol, and acks the
 * server did not confirm (the bar comes again; the upsert keeps it once).
 */
export class StoreMetrics {
  readonly health: HealthTracker;
  readonly #stored: Counter<BusLabel | 'symbol'>;
  readonly #ackFailures: Counter.Internal;
  readonly #errors: Counter<BusLabel | 'code'>;
  readonly #symbols: SymbolLabels;
  readonly #labels: Record<BusLabel, string>;
  readonly #lastOpen = new Map<string, number>();

  constructor(registry: Registry, venue: string, interval: Interval, maxSymbolSeries?: number) {
    this.#labels = { venue, interval };
    this.#symbols = new SymbolLabels(maxSymbolSeries ?? DEFAULT_MAX_SYMBOL_SERIES);
    this.health = busHealth(interval, this.#lastOpen);
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
    ).labels(this.#labels);
    this.#errors = counterIn(
      registry,
      'argo_store_errors_total',
      'Non-fatal store service trouble (a consumer reopened, a malformed message), by code.',
      ['venue', 'interval', 'code'],
    );
  }

  stored(bar: MarketData, acked: boolean): void {
    this.#stored.inc({ ...this.#labels, symbol: this.#symbols.of(bar.symbol) });
    if (!acked) this.#ackFailures.inc();
    const openMs = bar.time.getTime();
    if (openMs > (this.#lastOpen.get(bar.symbol) ?? -1)) this.#lastOpen.set(bar.symbol, openMs);
  }

  error(error: MarketDataError): void {
    this.#errors.inc({ ...this.#labels, code: error.code });
  }

  status(status: ConnectionStatus, detail: StatusDetail): void {
    natsStatus(this.health, status, detail);
  }
}
