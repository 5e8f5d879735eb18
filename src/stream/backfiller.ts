import { sleep } from '../core/abort.js';
import { MarketDataError, toMarketDataError } from '../core/errors.js';
import type { MarketData, StreamResult } from '../core/types.js';
import type { BackfillPhase, StreamAdapter } from './adapter.js';
import { orderHeldBars, skipsBars } from './backfill.js';
import { type Backoff, reconnectExhausted } from './backoff.js';
import type { BoundedQueue } from './bounded-queue.js';
import { OpenTimeDedup } from './dedup.js';

/**
 * A backfill boundary travelling through the queue, so the adapter hears of it in the consumer's
 * order (see {@link StreamAdapter.onBackfill}). Only queued when the adapter has the hook.
 */
export class BackfillMark {
  constructor(
    readonly symbol: string,
    readonly phase: BackfillPhase,
  ) {}
}

/** What the queue between the sockets and the consumer holds. */
export type QueueItem = StreamResult | BackfillMark;

/**
 * What a {@link Backfiller} needs from the engine that owns it; the engine keeps the queue, the
 * stop signal, the fatal path and the task list, so `stop()` reaches the backfills too.
 */
export interface BackfillerContext {
  /** The adapter's REST side: `backfill`, plus `nextOpenMs` and `onBackfill` when it has them. */
  readonly adapter: Pick<StreamAdapter, 'backfill' | 'nextOpenMs' | 'onBackfill'>;
  readonly queue: BoundedQueue<QueueItem>;
  /** Aborts when the stream stops. */
  readonly signal: AbortSignal;
  /** Ends the stream with a fatal error. */
  fail(error: MarketDataError): void;
  /** Registers a running backfill, so the stream's cleanup waits for it. */
  track(task: Promise<void>): void;
  /** A fresh backoff with the engine's reconnect settings. */
  newBackoff(): Backoff;
}

interface SymbolState {
  /** A REST backfill is running: live bars wait in `held` so order is kept. */
  backfilling: boolean;
  /** Another reconnect happened during the backfill: run it once more before releasing. */
  again: boolean;
  held: MarketData[];
}

/** Our choice: REST attempts to fill a gap found among held bars before reporting it. */
const MAX_GAP_RETRIES = 5;

/**
 * Per-symbol order across reconnects: drops repeats, holds a symbol's live bars while its REST
 * backfill runs, and queues the backfilled bars before the held ones. Its own file because
 * this ordering is what guarantees no lost or duplicated bar; the engine only feeds it.
 */
export class Backfiller {
  private readonly dedup = new OpenTimeDedup();
  private readonly symbols = new Map<string, SymbolState>();

  constructor(private readonly context: BackfillerContext) {}

  /** Starts tracking `symbol`; bars of a symbol never added are dropped. */
  addSymbol(symbol: string): void {
    this.symbols.set(symbol, { backfilling: false, again: false, held: [] });
  }

  /**
   * The hot path's ordering step for one closed bar from a socket: true when the caller should
   * queue it now (it is accepted as the symbol's latest); false when it is a repeat, of an
   * unknown symbol, or held until a backfill has queued the bars before it.
   */
  admitLive(bar: MarketData): boolean {
    const state = this.symbols.get(bar.symbol);
    if (state === undefined) return false;
    if (state.backfilling) {
      state.held.push(bar);
      return false;
    }
    const openMs = bar.time.getTime();
    const lastOpenMs = this.dedup.last(bar.symbol);
    if (lastOpenMs !== undefined) {
      if (openMs <= lastOpenMs) return false;
      const nextOpenMs = this.context.adapter.nextOpenMs;
      if (nextOpenMs !== undefined && skipsBars(lastOpenMs, openMs, nextOpenMs)) {
        // The socket skipped a final update without disconnecting: fetch what is missing.
        state.held.push(bar);
        this.start(bar.symbol);
        return false;
      }
    }
    this.dedup.accept(bar.symbol, openMs);
    return true;
  }

  /**
   * Bars of `symbols` may have been lost (a reconnect, a rotation, a frame the feed reported
   * lost): backfill every one that has yielded a bar. Call it before the new socket's first
   * live frame is parsed, so no live bar can overtake the bars the backfill returns.
   */
  startAfterLoss(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      if (this.dedup.last(symbol) !== undefined) this.start(symbol);
    }
  }

  private start(symbol: string): void {
    const state = this.symbols.get(symbol);
    if (state === undefined) return;
    if (state.backfilling) {
      state.again = true;
      return;
    }
    state.backfilling = true;
    if (this.context.adapter.onBackfill !== undefined)
      this.context.queue.offer(new BackfillMark(symbol, 'started'));
    this.context.track(this.run(symbol, state));
  }

  /**
   * Fetch the closed bars after the last yielded one, yield them in order, then release the
   * live bars held meanwhile. Retries with backoff (non-fatal errors are yielded) until it
   * succeeds, the stream stops, or the reconnect budget is spent.
   */
  private async run(symbol: string, state: SymbolState): Promise<void> {
    const { adapter, queue, signal } = this.context;
    const backoff = this.context.newBackoff();
    let gapRetries = 0;
    try {
      for (;;) {
        do {
          state.again = false;
          const afterOpenMs = this.dedup.last(symbol);
          if (afterOpenMs === undefined) break;
          let bars: MarketData[];
          try {
            bars = await adapter.backfill(symbol, afterOpenMs, signal);
          } catch (error) {
            if (signal.aborted) return;
            const failure = toMarketDataError(error, 'NETWORK', `backfill of ${symbol} failed`);
            if (failure.fatal) return this.context.fail(failure);
            queue.offer([undefined, failure]);
            const delayMs = backoff.nextDelayMs();
            if (delayMs === undefined) {
              return this.context.fail(
                reconnectExhausted(`backfill of ${symbol}`, backoff, failure),
              );
            }
            await sleep(delayMs, signal);
            state.again = true;
            continue;
          }
          for (const bar of bars) {
            if (this.dedup.accept(symbol, bar.time.getTime())) {
              await queue.put([bar, undefined], signal);
            }
          }
        } while (state.again);
        const gap = await this.releaseHeld(symbol, state);
        if (gap === undefined) {
          // A reconnect while the held bars were being released (a slow consumer makes that
          // long) may have missed bars: fetch them before releasing the new socket's bars.
          if (state.again) continue;
          break;
        }
        // A bar closed after the REST answer and its final update was lost too (a malformed
        // frame, a socket cut mid-flight): fetch again before releasing what follows the gap.
        gapRetries += 1;
        if (gapRetries > MAX_GAP_RETRIES) {
          queue.offer([undefined, unrecoverableGap(symbol, gap)]);
          if (this.dedup.accept(symbol, gap.bar.time.getTime())) {
            await queue.put([gap.bar, undefined], signal);
          }
          gapRetries = 0;
          continue;
        }
        if (gapRetries > 1) await sleep(backoff.nextDelayMs() ?? 1000, signal);
        state.again = true;
      }
      // Synchronously after the last held bar, so no live bar of this symbol can slip between.
      if (adapter.onBackfill !== undefined) queue.offer(new BackfillMark(symbol, 'done'));
    } catch (error) {
      if (!signal.aborted) {
        this.context.fail(
          toMarketDataError(error, 'NETWORK', `backfill of ${symbol} failed`, true),
        );
      }
    } finally {
      state.backfilling = false;
    }
  }

  /**
   * Yields the live bars held during a backfill, in order, while they continue the yielded
   * sequence. Stops at the first one that skips bars (when the exchange emits every bar),
   * keeps it and the rest held, and returns it. Also stops, keeping the rest held, once a
   * reconnect asked for another REST pass: bars from the new socket may follow a gap that
   * only REST can fill (an exchange that skips no-trade bars shows no gap to detect).
   */
  private async releaseHeld(
    symbol: string,
    state: SymbolState,
  ): Promise<{ bar: MarketData } | undefined> {
    const { queue, signal } = this.context;
    const nextOpenMs = this.context.adapter.nextOpenMs;
    while (state.held.length > 0 && !state.again) {
      const held = orderHeldBars(state.held);
      state.held = [];
      for (let i = 0; i < held.length; i++) {
        const bar = held[i] as MarketData;
        const openMs = bar.time.getTime();
        const lastOpenMs = this.dedup.last(symbol);
        if (
          nextOpenMs !== undefined &&
          lastOpenMs !== undefined &&
          skipsBars(lastOpenMs, openMs, nextOpenMs)
        ) {
          state.held = held.slice(i).concat(state.held);
          return { bar };
        }
        if (this.dedup.accept(symbol, openMs)) await queue.put([bar, undefined], signal);
      }
    }
    return undefined;
  }
}

function unrecoverableGap(symbol: string, gap: { bar: MarketData }): MarketDataError {
  return new MarketDataError(
    'PROTOCOL',
    `${symbol}: bars before ${gap.bar.time.toISOString()} are missing from the live feed and ` +
      `from REST after ${MAX_GAP_RETRIES} attempts; continuing from that bar`,
    { fatal: false },
  );
}
