import { Counter, Gauge, type Registry } from 'prom-client';
import type { MarketDataError } from '../core/errors.js';
import { intervalMs } from '../core/intervals.js';
import type { ConnectionStatus, Interval, MarketData, StatusDetail } from '../core/types.js';
import type { EngineView, StreamHooks } from '../stream/engine-options.js';
import { HealthTracker } from './health.js';

/** Our choice: per-symbol series stop here so cardinality stays bounded (issue 21 point 2). */
export const DEFAULT_MAX_SYMBOL_SERIES = 1000;
/** The `symbol` label of every symbol past the cap. */
export const OTHER_SYMBOLS = '_other';

/** Options of {@link StreamMetrics}. */
export interface StreamMetricsOptions {
  /** Where the series are registered; the caller owns it (nothing goes to the global registry). */
  registry: Registry;
  venue: string;
  interval: Interval;
  /** Distinct `symbol` label values before the rest share `_other`; default 1,000. */
  maxSymbolSeries?: number;
}

interface SymbolSeries {
  bars: Counter.Internal;
  lastOpenMs: number;
}

/**
 * Prometheus series of one stream plus its health, fed by the engine's {@link StreamHooks}.
 * The hot path (`bar`) is one map lookup and one counter increment; gauges are computed at scrape.
 */
export class StreamMetrics implements StreamHooks {
  readonly health: HealthTracker;
  private readonly bars: Counter<'venue' | 'interval' | 'symbol'>;
  private readonly reconnects: Counter<'venue' | 'interval' | 'reason'>;
  private readonly errors: Counter<'venue' | 'interval' | 'code'>;
  private readonly gaps: Counter<'venue' | 'interval' | 'symbol'>;
  /** Every symbol seen, to its series (symbols past the cap share one). */
  private readonly bySymbol = new Map<string, SymbolSeries>();
  /** Label value to series: at most `maxSymbolSeries` + 1 entries. */
  private readonly series = new Map<string, SymbolSeries>();
  private readonly intervalMs: number;
  private readonly maxSymbolSeries: number;
  private view: EngineView | undefined;

  constructor(private readonly options: StreamMetricsOptions) {
    const registers = [options.registry];
    const labels = { venue: options.venue, interval: options.interval };
    this.intervalMs = intervalMs(options.interval);
    this.maxSymbolSeries = options.maxSymbolSeries ?? DEFAULT_MAX_SYMBOL_SERIES;
    this.health = new HealthTracker(this.intervalMs, () => this.lastOpenTimes());
    this.bars = new Counter({
      name: 'argo_bars_total',
      help: 'Closed bars yielded by the stream (live and backfilled).',
      labelNames: ['venue', 'interval', 'symbol'],
      registers,
    });
    this.reconnects = new Counter({
      name: 'argo_reconnects_total',
      help: 'Sockets that dropped and were reconnected, by reason.',
      labelNames: ['venue', 'interval', 'reason'],
      registers,
    });
    this.errors = new Counter({
      name: 'argo_stream_errors_total',
      help: 'In-band errors yielded by the stream, by code.',
      labelNames: ['venue', 'interval', 'code'],
      registers,
    });
    this.gaps = new Counter({
      name: 'argo_gaps_total',
      help: 'Gaps found after a reconnect (a REST backfill started), per symbol.',
      labelNames: ['venue', 'interval', 'symbol'],
      registers,
    });
    const self = this;
    new Gauge({
      name: 'argo_last_bar_age_seconds',
      help: 'Seconds since the close of the newest bar yielded per symbol (local clock).',
      labelNames: ['venue', 'interval', 'symbol'],
      registers,
      collect() {
        const nowMs = Date.now();
        for (const [symbol, s] of self.series) {
          if (s.lastOpenMs < 0) continue;
          this.set({ ...labels, symbol }, (nowMs - s.lastOpenMs - self.intervalMs) / 1000);
        }
      },
    });
    new Gauge({
      name: 'argo_queue_depth',
      help: 'Items buffered between the sockets and the consumer.',
      labelNames: ['venue', 'interval'],
      registers,
      collect() {
        if (self.view) this.set(labels, self.view.queueDepth());
      },
    });
    new Gauge({
      name: 'argo_paused_sockets',
      help: 'Sockets paused because the consumer is slower than the venue.',
      labelNames: ['venue', 'interval'],
      registers,
      collect() {
        if (self.view) this.set(labels, self.view.pausedSockets());
      },
    });
    new Gauge({
      name: 'argo_connections_up',
      help: 'Connections currently up (1) or down (0).',
      labelNames: ['venue', 'interval', 'connection'],
      registers,
      collect() {
        for (const c of self.health.connections()) {
          this.set({ ...labels, connection: c.connection }, c.up ? 1 : 0);
        }
      },
    });
  }

  attach(view: EngineView): void {
    this.view = view;
  }

  /** The hot path: one lookup, one increment. */
  bar(bar: MarketData): void {
    let s = this.bySymbol.get(bar.symbol);
    if (s === undefined) s = this.addSymbol(bar.symbol);
    s.bars.inc();
    const openMs = bar.time.getTime();
    if (openMs > s.lastOpenMs) s.lastOpenMs = openMs;
  }

  error(error: MarketDataError): void {
    this.errors.inc({
      venue: this.options.venue,
      interval: this.options.interval,
      code: error.code,
    });
  }

  gap(symbol: string): void {
    this.gaps.inc({ ...this.labels(), symbol: this.symbolLabel(symbol) });
  }

  status(status: ConnectionStatus, detail: StatusDetail): void {
    if (status === 'disconnected' && detail.reason !== 'stream stopped') {
      this.reconnects.inc({ ...this.labels(), reason: reasonLabel(detail.reason) });
    }
    this.health.status(status, detail);
  }

  /** Newest bar open time per symbol (ms; -1 before the first bar), for /healthz. */
  lastOpenTimes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [symbol, s] of this.bySymbol) out.set(symbol, s.lastOpenMs);
    return out;
  }

  /** Bars counted so far over every symbol (tests compare it with what the stream yielded). */
  async barCount(): Promise<number> {
    const metric = await this.bars.get();
    return metric.values.reduce((sum, v) => sum + v.value, 0);
  }

  private labels() {
    return { venue: this.options.venue, interval: this.options.interval };
  }

  private symbolLabel(symbol: string): string {
    return this.series.has(symbol) || this.series.size < this.maxSymbolSeries
      ? symbol
      : OTHER_SYMBOLS;
  }

  private addSymbol(symbol: string): SymbolSeries {
    const label = this.symbolLabel(symbol);
    const shared = this.series.get(label);
    const s: SymbolSeries = shared ?? {
      bars: this.bars.labels({ ...this.labels(), symbol: label }),
      lastOpenMs: -1,
    };
    // Past the cap every new symbol shares the `_other` series (and its age).
    this.series.set(label, s);
    this.bySymbol.set(symbol, s);
    return s;
  }
}

/** A low-cardinality reason: the close reason's first words, never a URL or key. */
export function reasonLabel(reason: string | undefined): string {
  if (reason === undefined) return 'unknown';
  const tail = reason.replace(/^connection \S+ closed: /, '');
  const code = /\b(\d{4})\b/.exec(tail);
  if (code) return `close_${code[1]}`;
  if (/heartbeat|silen/i.test(tail)) return 'silence';
  if (/rotat/i.test(tail)) return 'rotation';
  return 'other';
}
