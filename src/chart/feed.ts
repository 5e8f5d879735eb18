import { redactSecrets, toMarketDataError } from '../core/errors.js';
import type { MarketData, Provider, StatusDetail } from '../core/types.js';
import { BarSeries, type ChartBar, priceDecimals, toChartBar } from './series.js';

/** Connection state as the page shows it; `backfilling` is ours (see {@link ChartFeed}). */
export type ChartConnectionState =
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'backfilling'
  | 'disconnected';

/** One connection's status line on the page. */
export interface ChartConnection {
  connection: string;
  symbols: string[];
  state: ChartConnectionState;
  attempt?: number;
  /** Local epoch ms of the next try, with `reconnecting`. */
  nextTryAtMs?: number;
  /** Why, when known (never carries a key: it went through `redactSecrets`). */
  reason?: string;
  /** Local epoch ms since this state holds. */
  sinceMs: number;
}

/** What the page is told about the view, once per page. */
export interface ChartInit {
  mode: 'live' | 'file';
  title: string;
  provider?: string;
  interval?: string;
  symbols: string[];
  /** With `mode: 'file'`: the file, its range and bar count. */
  file?: { path: string; firstMs: number | undefined; lastMs: number | undefined; count: number };
}

/** Messages from the server to a page, as JSON over the `/feed` WebSocket. */
export type ChartMessage =
  | { type: 'init'; init: ChartInit }
  | { type: 'history'; symbol: string; decimals: number; bars: ChartBar[] }
  | { type: 'bar'; symbol: string; bar: ChartBar }
  | { type: 'forming'; symbol: string; bar: ChartBar }
  | { type: 'status'; connection: ChartConnection }
  | { type: 'error'; code: string; message: string; fatal: boolean };

/** Fetches closed history of one symbol with open times in `[fromMs, toMs]`, in time order. */
export type HistoryFetcher = (
  symbol: string,
  fromMs: number,
  toMs: number,
  signal: AbortSignal,
) => Promise<MarketData[]>;

/** Where a live chart's bars come from. */
export interface LiveChartSource {
  provider: Provider;
  providerName: string;
  /** Closed bars before the live part (venue REST, or a dataset). */
  history: HistoryFetcher;
  /** How many bars of history to draw first. */
  historyBars: number;
  /** Length of one bar, ms (approximate for `1M`: only sizes the history request). */
  intervalMs: number;
  /** The venue's clock (the simulator's when simulating); default the local clock. */
  venueNowMs?: () => number;
}

/** Bars kept per symbol beyond the history, so a page open for days stays bounded. */
const LIVE_CAPACITY = 20_000;

/**
 * The server side of a live chart: runs the provider's stream while at least one page watches
 * (refcounted by {@link attach}), merges history, live and backfilled bars into one series per
 * symbol ({@link BarSeries}: each open time once, in order) and sends every change to the pages.
 *
 * History is fetched for a connection's symbols once that connection is up, so every bar that
 * closes after the history request arrives live: history and live meet without a hole.
 *
 * `backfilling` is shown from a reconnect until a symbol's bars have caught up with the bar the
 * venue is forming (a closed bar arrives whose open time is that forming bar's), which is when
 * the engine's REST backfill and the bars it held have all been yielded.
 */
export class ChartFeed {
  readonly #source: LiveChartSource;
  readonly #symbols: string[];
  readonly #series = new Map<string, BarSeries>();
  readonly #forming = new Map<string, ChartBar>();
  readonly #connections = new Map<string, ChartConnection>();
  /** Per symbol, after a reconnect: the forming open time seen since, or -1 before one. */
  readonly #catchingUp = new Map<string, number>();
  readonly #historyRequested = new Set<string>();
  readonly #pages = new Set<(message: string) => void>();
  #controller: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(source: LiveChartSource) {
    this.#source = source;
    this.#symbols = source.provider.getSymbols();
  }

  /** What a new page is told first. */
  init(): ChartInit {
    return {
      mode: 'live',
      title: `${this.#source.providerName} ${this.#source.provider.getInterval()}`,
      provider: this.#source.providerName,
      interval: this.#source.provider.getInterval(),
      symbols: this.#symbols,
    };
  }

  /** The closed bars drawn for `symbol` (what `window.argoChart.bars` mirrors). */
  bars(symbol: string): ChartBar[] {
    return this.#series.get(symbol)?.snapshot() ?? [];
  }

  /**
   * A page joins: it gets the current state at once, then every change. The stream starts with
   * the first page; returns the detach function, and the stream stops with the last page.
   */
  attach(send: (message: string) => void): () => void {
    send(message({ type: 'init', init: this.init() }));
    for (const symbol of this.#symbols) {
      const bars = this.bars(symbol);
      if (bars.length > 0) send(historyMessage(symbol, bars));
      const forming = this.#forming.get(symbol);
      if (forming) send(message({ type: 'forming', symbol, bar: forming }));
    }
    for (const connection of this.#connections.values()) {
      send(message({ type: 'status', connection }));
    }
    this.#pages.add(send);
    if (this.#running === undefined) this.#start();
    return () => {
      this.#pages.delete(send);
      if (this.#pages.size === 0) void this.stop();
    };
  }

  /** Stops the stream (its sockets close) and waits for it; safe to call twice. */
  async stop(): Promise<void> {
    this.#controller?.abort();
    await this.#running;
  }

  #start(): void {
    const controller = new AbortController();
    this.#controller = controller;
    this.#historyRequested.clear();
    const { provider } = this.#source;
    provider.setOnStatusChange((status, detail) => this.#onStatus(status, detail, controller));
    provider.setOnFormingBar?.((bar) => this.#onForming(bar));
    this.#running = this.#run(controller).finally(() => {
      provider.setOnFormingBar?.(undefined);
      if (this.#controller === controller) {
        this.#controller = undefined;
        this.#running = undefined;
      }
    });
  }

  async #run(controller: AbortController): Promise<void> {
    try {
      for await (const [bar, err] of this.#source.provider.stream(controller.signal)) {
        if (err) {
          this.#broadcast({
            type: 'error',
            code: err.code,
            message: redactSecrets(err.message),
            fatal: err.fatal,
          });
          if (err.fatal) break;
          continue;
        }
        this.#onClosed(bar);
      }
    } catch (error) {
      const err = toMarketDataError(error, 'NETWORK', 'the chart stream stopped', true);
      this.#broadcast({
        type: 'error',
        code: err.code,
        message: redactSecrets(err.message),
        fatal: true,
      });
    }
  }

  #onStatus(
    status: 'connected' | 'disconnected' | 'reconnecting',
    detail: StatusDetail,
    controller: AbortController,
  ): void {
    const previous = this.#connections.get(detail.connection);
    let state: ChartConnectionState = status;
    if (status === 'connected' && previous?.state === 'reconnecting') {
      state = 'backfilling';
      for (const symbol of detail.symbols) this.#catchingUp.set(symbol, -1);
    }
    const connection: ChartConnection = {
      connection: detail.connection,
      symbols: detail.symbols,
      state,
      sinceMs: Date.now(),
      ...(detail.attempt === undefined ? {} : { attempt: detail.attempt }),
      ...(detail.delayMs === undefined ? {} : { nextTryAtMs: Date.now() + detail.delayMs }),
      ...(detail.reason === undefined ? {} : { reason: redactSecrets(detail.reason) }),
    };
    this.#connections.set(detail.connection, connection);
    this.#broadcast({ type: 'status', connection });
    if (status === 'connected') {
      const due = detail.symbols.filter((symbol) => !this.#historyRequested.has(symbol));
      for (const symbol of due) this.#historyRequested.add(symbol);
      if (due.length > 0) void this.#loadHistory(due, controller.signal);
    }
  }

  async #loadHistory(symbols: string[], signal: AbortSignal): Promise<void> {
    const { history, historyBars, intervalMs } = this.#source;
    const nowMs = (this.#source.venueNowMs ?? Date.now)();
    const fromMs = nowMs - historyBars * intervalMs;
    await Promise.all(
      symbols.map(async (symbol) => {
        try {
          const bars = await history(symbol, fromMs, nowMs, signal);
          const series = this.#seriesOf(symbol);
          for (const bar of bars.slice(-historyBars)) series.upsert(toChartBar(bar));
          this.#broadcastText(historyMessage(symbol, series.snapshot()));
        } catch (error) {
          if (signal.aborted) return;
          const err = toMarketDataError(error, 'NETWORK', `history of ${symbol}`);
          this.#broadcast({
            type: 'error',
            code: err.code,
            message: redactSecrets(err.message),
            fatal: false,
          });
        }
      }),
    );
  }

  #onClosed(bar: MarketData): void {
    const chartBar = toChartBar(bar);
    if (!this.#seriesOf(bar.symbol).upsert(chartBar)) return;
    const forming = this.#forming.get(bar.symbol);
    if (forming !== undefined && forming.time <= chartBar.time) this.#forming.delete(bar.symbol);
    this.#broadcast({ type: 'bar', symbol: bar.symbol, bar: chartBar });
    const formingSeenMs = this.#catchingUp.get(bar.symbol);
    if (formingSeenMs !== undefined && formingSeenMs >= 0 && chartBar.time >= formingSeenMs) {
      this.#catchingUp.delete(bar.symbol);
      this.#settleBackfill();
    }
  }

  #onForming(bar: MarketData): void {
    const chartBar = toChartBar(bar);
    const lastMs = this.#series.get(bar.symbol)?.lastTimeMs();
    if (lastMs !== undefined && chartBar.time <= lastMs) return;
    this.#forming.set(bar.symbol, chartBar);
    if (this.#catchingUp.get(bar.symbol) === -1) this.#catchingUp.set(bar.symbol, chartBar.time);
    this.#broadcast({ type: 'forming', symbol: bar.symbol, bar: chartBar });
  }

  /** Connections whose symbols have all caught up leave `backfilling`. */
  #settleBackfill(): void {
    for (const connection of this.#connections.values()) {
      if (connection.state !== 'backfilling') continue;
      if (connection.symbols.some((symbol) => this.#catchingUp.has(symbol))) continue;
      const settled: ChartConnection = { ...connection, state: 'connected', sinceMs: Date.now() };
      this.#connections.set(connection.connection, settled);
      this.#broadcast({ type: 'status', connection: settled });
    }
  }

  #seriesOf(symbol: string): BarSeries {
    let series = this.#series.get(symbol);
    if (series === undefined) {
      series = new BarSeries(this.#source.historyBars + LIVE_CAPACITY);
      this.#series.set(symbol, series);
    }
    return series;
  }

  #broadcast(payload: ChartMessage): void {
    if (this.#pages.size > 0) this.#broadcastText(message(payload));
  }

  #broadcastText(text: string): void {
    for (const send of this.#pages) send(text);
  }
}

function message(payload: ChartMessage): string {
  return JSON.stringify(payload);
}

/** A symbol's whole series, with the price decimals its level needs. */
export function historyMessage(symbol: string, bars: ChartBar[]): string {
  const decimals = priceDecimals(bars.at(-1)?.close ?? 0);
  return message({ type: 'history', symbol, decimals, bars });
}
