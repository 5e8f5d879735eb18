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
  readonly adapter: Pick<StreamAdapter, 'backfill' | 'backfillPages' | 'nextOpenMs' | 'onBackfill'>;
  readonly queue: BoundedQueue<QueueItem>;
  /** Aborts when the stream stops. */
  readonly signal: AbortSignal;
  /** Ends the stream with a fatal error. */
  fail(error: MarketDataError): void;
  /** Registers a running backfill, so the stream's cleanup waits for it. */
  track(task: Promise<void>): void;
  /** A fresh backoff with the engine's reconnect settings. */
  newBackoff(): Backoff;
  /**
   * Live bars held during backfills fell back under half of {@link BackfillerContext.maxHeld}:
   * the engine resumes the sockets it paused for them.
   */
  heldDrained?(): void;
  /** Most live bars held across all backfills before sockets are paused (default 10,000). */
  readonly maxHeld?: number;
  /** Queue backfill marks even when the adapter has no `onBackfill` (the metrics count gaps). */
  readonly marks?: boolean;
  /** A bar fetched over REST was queued (metrics); undefined costs nothing. */
  readonly onBackfilled?: ((symbol: string) => void) | undefined;
}

interface SymbolState {
  /** A REST backfill is running: live bars wait in `held` so order is kept. */
  backfilling: boolean;
  /** Local `performance.now()` of the loss the running backfill covers (see BackfillContext). */
  liveSinceMs: number;
  /** Another reconnect happened during the backfill: run it once more before releasing. */
  again: boolean;
  held: MarketData[];
}

/** Our choice: REST attempts to fill a gap found among held bars before reporting it. */
const MAX_GAP_RETRIES = 5;
/** Our choice: live bars held across all backfills before the sockets are paused. */
const DEFAULT_MAX_HELD = 10_000;

/**
 * Per-symbol order across reconnects: drops repeats, holds a symbol's live bars while its REST
 * backfill runs, and queues the backfilled bars before the held ones. Its own file because
 * this ordering is what guarantees no lost or duplicated bar; the engine only feeds it.
 */
export class Backfiller {
  private readonly dedup = new OpenTimeDedup();
  private readonly symbols = new Map<string, SymbolState>();
  /** Live bars held across every symbol's backfill. */
  private heldTotal = 0;
  /** A 418 ban was reported and no backfill has succeeded since: report the next one once. */
  private banReported = false;
  readonly maxHeld: number;

  constructor(private readonly context: BackfillerContext) {
    this.maxHeld = Math.max(1, context.maxHeld ?? DEFAULT_MAX_HELD);
  }

  /** Starts tracking `symbol`; bars of a symbol never added are dropped. */
  addSymbol(symbol: string): void {
    this.symbols.set(symbol, { backfilling: false, liveSinceMs: 0, again: false, held: [] });
  }

  /** Live bars held now while backfills run. */
  get held(): number {
    return this.heldTotal;
  }

  /** True when the held live bars passed the bound: the engine pauses the socket. */
  get overHeldBound(): boolean {
    return this.heldTotal >= this.maxHeld;
  }

  private hold(state: SymbolState, bar: MarketData): void {
    state.held.push(bar);
    this.heldTotal += 1;
  }

  private released(count: number): void {
    const wasOver = this.heldTotal >= this.maxHeld / 2;
    this.heldTotal -= count;
    if (wasOver && this.heldTotal < this.maxHeld / 2) this.context.heldDrained?.();
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
      this.hold(state, bar);
      return false;
    }
    const openMs = bar.time.getTime();
    const lastOpenMs = this.dedup.last(bar.symbol);
    if (lastOpenMs !== undefined) {
      if (openMs <= lastOpenMs) return false;
      const nextOpenMs = this.context.adapter.nextOpenMs;
      if (nextOpenMs !== undefined && skipsBars(lastOpenMs, openMs, nextOpenMs)) {
        // The socket skipped a final update without disconnecting: fetch what is missing.
        this.hold(state, bar);
        this.start(bar.symbol, performance.now());
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
    const liveSinceMs = performance.now();
    for (const symbol of symbols) {
      if (this.dedup.last(symbol) !== undefined) this.start(symbol, liveSinceMs);
    }
  }

  private start(symbol: string, liveSinceMs: number): void {
    const state = this.symbols.get(symbol);
    if (state === undefined) return;
    state.liveSinceMs = liveSinceMs;
    if (state.backfilling) {
      state.again = true;
      return;
    }
    state.backfilling = true;
    if (this.context.adapter.onBackfill !== undefined || this.context.marks)
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
          try {
            await this.fetch(symbol, state, afterOpenMs);
            this.banReported = false;
          } catch (error) {
            if (signal.aborted) return;
            const failure = toMarketDataError(error, 'NETWORK', `backfill of ${symbol} failed`);
            if (failure.code === 'IP_BANNED') {
              // The live sockets go on; REST waits out the ban in the host's scheduler (its
              // next acquire blocks until the ban ends), then the gap is fetched.
              if (!this.banReported) {
                this.banReported = true;
                queue.offer([undefined, banNotice(failure)]);
              }
              await sleep(BAN_RETRY_MS, signal);
              state.again = true;
              continue;
            }
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
            // (The gap bar stays in `held` too; the dedup drops it on release.)
            await queue.put([gap.bar, undefined], signal);
          }
          gapRetries = 0;
          continue;
        }
        if (gapRetries > 1) await sleep(backoff.nextDelayMs() ?? 1000, signal);
        state.again = true;
      }
      // Synchronously after the last held bar, so no live bar of this symbol can slip between.
      if (adapter.onBackfill !== undefined || this.context.marks)
        queue.offer(new BackfillMark(symbol, 'done'));
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

  /** One REST pass from `afterOpenMs`: each page is queued (deduped) as it arrives. */
  private async fetch(symbol: string, state: SymbolState, afterOpenMs: number): Promise<void> {
    const { adapter, queue, signal, onBackfilled } = this.context;
    const onPage = async (bars: MarketData[]): Promise<void> => {
      for (const bar of bars) {
        if (this.dedup.accept(symbol, bar.time.getTime())) {
          await queue.put([bar, undefined], signal);
          onBackfilled?.(symbol);
        }
      }
    };
    if (adapter.backfillPages !== undefined) {
      await adapter.backfillPages(symbol, afterOpenMs, {
        signal,
        liveSinceMs: state.liveSinceMs,
        onPage,
      });
      return;
    }
    await onPage(await adapter.backfill(symbol, afterOpenMs, signal));
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
        this.released(1);
        const openMs = bar.time.getTime();
        const lastOpenMs = this.dedup.last(symbol);
        if (
          nextOpenMs !== undefined &&
          lastOpenMs !== undefined &&
          skipsBars(lastOpenMs, openMs, nextOpenMs)
        ) {
          state.held = held.slice(i).concat(state.held);
          this.heldTotal += held.length - i;
          return { bar };
        }
        if (this.dedup.accept(symbol, openMs)) await queue.put([bar, undefined], signal);
      }
    }
    return undefined;
  }
}

/** Our choice: after a ban, retry this often; the scheduler holds the request until it ends. */
const BAN_RETRY_MS = 250;

/** The non-fatal, in-band report of a 418 ban: REST is paused until it ends, bars go on. */
function banNotice(failure: MarketDataError): MarketDataError {
  return new MarketDataError(
    'IP_BANNED',
    `${failure.message}. The stream goes on: live bars keep arriving, REST is paused until the ban ends, then the gaps are backfilled`,
    { fatal: false, cause: failure },
  );
}

function unrecoverableGap(symbol: string, gap: { bar: MarketData }): MarketDataError {
  return new MarketDataError(
    'PROTOCOL',
    `${symbol}: bars before ${gap.bar.time.toISOString()} are missing from the live feed and ` +
      `from REST after ${MAX_GAP_RETRIES} attempts; continuing from that bar`,
    { fatal: false },
  );
}
