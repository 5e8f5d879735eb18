import type { Counter, Registry } from 'prom-client';
import type { MarketDataError } from '../core/errors.js';
import { intervalMs } from '../core/intervals.js';
import type { ConnectionStatus, Interval, MarketData, StatusDetail } from '../core/types.js';
import type { EngineView, StreamHooks } from '../stream/engine-options.js';
import {
  counterIn,
  DEFAULT_MAX_SYMBOL_SERIES,
  gaugeIn,
  LocalCount,
  SymbolLabels,
} from './families.js';
import { HealthTracker } from './health.js';

export { DEFAULT_MAX_SYMBOL_SERIES, OTHER_SYMBOLS } from './families.js';

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
  /** Shared by every symbol of the same label (past the cap: `_other`). */
  bars: LocalCount<StreamLabel | 'symbol'>;
  label: string;
  lastOpenMs: number;
}

type StreamLabel = 'venue' | 'interval';

/**
 * Prometheus series of one stream plus its health, fed by the engine's {@link StreamHooks}.
 * The hot path (`bar`) is one map lookup and one counter increment; gauges are computed at scrape.
 * Several streams may share one registry: they share the families and differ by labels.
 */
export class StreamMetrics implements StreamHooks {
  readonly health: HealthTracker;
  private readonly bars: Counter<StreamLabel | 'symbol'>;
  private readonly backfilledBars: Counter<StreamLabel | 'symbol'>;
  private readonly reconnects: Counter<StreamLabel | 'reason'>;
  private readonly errors: Counter<StreamLabel | 'code'>;
  private readonly gaps: Counter<StreamLabel | 'symbol'>;
  private readonly symbolLabels: SymbolLabels;
  /** Every symbol seen (symbols past the cap share their counter child). */
  private readonly bySymbol = new Map<string, SymbolSeries>();
  /** Label value to its count: at most `maxSymbolSeries` + 1 entries. */
  private readonly children = new Map<string, LocalCount<StreamLabel | 'symbol'>>();
  private readonly intervalMs: number;
  private view: EngineView | undefined;

  constructor(private readonly options: StreamMetricsOptions) {
    const registry = options.registry;
    const labels = { venue: options.venue, interval: options.interval };
    this.intervalMs = intervalMs(options.interval);
    this.symbolLabels = new SymbolLabels(options.maxSymbolSeries ?? DEFAULT_MAX_SYMBOL_SERIES);
    this.health = new HealthTracker(this.intervalMs, () => this.lastOpenTimes());
    const withSymbol = ['venue', 'interval', 'symbol'] as const;
    this.bars = counterIn(
      registry,
      'argo_bars_total',
      'Closed bars yielded by the stream (live and backfilled), of the stream interval.',
      withSymbol,
      (counter) => {
        for (const count of this.children.values()) count.flush(counter);
      },
    );
    this.backfilledBars = counterIn(
      registry,
      'argo_backfilled_bars_total',
      'Bars fetched over REST to fill a gap after a reconnect.',
      withSymbol,
    );
    this.reconnects = counterIn(
      registry,
      'argo_reconnects_total',
      'Sockets that dropped and were reconnected, by reason.',
      ['venue', 'interval', 'reason'],
    );
    this.errors = counterIn(
      registry,
      'argo_stream_errors_total',
      'In-band errors yielded by the stream, by code.',
      ['venue', 'interval', 'code'],
    );
    this.gaps = counterIn(
      registry,
      'argo_gaps_total',
      'Gaps found after a reconnect (a REST backfill started), per symbol.',
      withSymbol,
    );
    gaugeIn(
      registry,
      'argo_last_bar_age_seconds',
      "Venue clock: seconds between this symbol's newest bar and the stream's newest bar.",
      withSymbol,
      (gauge) => {
        const newestMs = this.newestOpenMs();
        for (const [symbol, openMs] of this.lastOpenByLabel()) {
          gauge.set({ ...labels, symbol }, (newestMs - openMs) / 1000);
        }
      },
    );
    gaugeIn(
      registry,
      'argo_last_bar_open_timestamp_seconds',
      'Open time (venue clock, Unix seconds) of the newest bar yielded per symbol.',
      withSymbol,
      (gauge) => {
        for (const [symbol, openMs] of this.lastOpenByLabel()) {
          gauge.set({ ...labels, symbol }, openMs / 1000);
        }
      },
    );
    gaugeIn(
      registry,
      'argo_queue_depth',
      'Items buffered between the sockets and the consumer.',
      ['venue', 'interval'],
      (gauge) => {
        if (this.view) gauge.set(labels, this.view.queueDepth());
      },
    );
    gaugeIn(
      registry,
      'argo_paused_sockets',
      'Sockets paused because the consumer is slower than the venue.',
      ['venue', 'interval'],
      (gauge) => {
        if (this.view) gauge.set(labels, this.view.pausedSockets());
      },
    );
    gaugeIn(
      registry,
      'argo_connections_up',
      'Connections currently up (1) or down (0).',
      ['venue', 'interval', 'connection'],
      (gauge) => {
        for (const c of this.health.connections()) {
          gauge.set({ ...labels, connection: c.connection }, c.up ? 1 : 0);
        }
      },
    );
  }

  attach(view: EngineView): void {
    this.view = view;
  }

  /** The hot path: one lookup, one number incremented (the counter adds it up at scrape). */
  bar(bar: MarketData): void {
    let s = this.bySymbol.get(bar.symbol);
    if (s === undefined) s = this.addSymbol(bar.symbol);
    s.bars.count += 1;
    const openMs = bar.time.getTime();
    if (openMs > s.lastOpenMs) s.lastOpenMs = openMs;
  }

  error(error: MarketDataError): void {
    this.errors.inc({ ...this.labels(), code: error.code });
  }

  gap(symbol: string): void {
    this.gaps.inc({ ...this.labels(), symbol: this.symbolLabels.of(symbol) });
  }

  backfilled(symbol: string): void {
    this.backfilledBars.inc({ ...this.labels(), symbol: this.symbolLabels.of(symbol) });
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

  /** Bars counted so far over every symbol of this stream (tests compare it with the yield). */
  async barCount(): Promise<number> {
    const metric = await this.bars.get();
    const { venue, interval } = this.options;
    return metric.values
      .filter((v) => v.labels.venue === venue && v.labels.interval === interval)
      .reduce((sum, v) => sum + v.value, 0);
  }

  private newestOpenMs(): number {
    let newestMs = -1;
    for (const s of this.bySymbol.values()) if (s.lastOpenMs > newestMs) newestMs = s.lastOpenMs;
    return newestMs;
  }

  /** Newest open per label value (`_other`: the newest of the symbols past the cap). */
  private lastOpenByLabel(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.bySymbol.values()) {
      if (s.lastOpenMs >= 0 && s.lastOpenMs > (out.get(s.label) ?? -1))
        out.set(s.label, s.lastOpenMs);
    }
    return out;
  }

  private labels() {
    return { venue: this.options.venue, interval: this.options.interval };
  }

  private addSymbol(symbol: string): SymbolSeries {
    const label = this.symbolLabels.of(symbol);
    let bars = this.children.get(label);
    if (bars === undefined) {
      bars = new LocalCount({ ...this.labels(), symbol: label });
      this.children.set(label, bars);
    }
    // Past the cap every new symbol shares the `_other` counter; its own time stays for /healthz.
    const s: SymbolSeries = { bars, label, lastOpenMs: -1 };
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
