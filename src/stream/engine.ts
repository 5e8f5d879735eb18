import { setMaxListeners } from 'node:events';
import { sleep } from '../core/abort.js';
import { MarketDataError, toMarketDataError } from '../core/errors.js';
import type { ConnectionStatus, MarketData, StatusDetail, StreamResult } from '../core/types.js';
import type { ConnectionPlan, StreamAdapter } from './adapter.js';
import { Backfiller, BackfillMark, type QueueItem } from './backfiller.js';
import { Backoff, reconnectExhausted } from './backoff.js';
import { BoundedQueue, QUEUE_END } from './bounded-queue.js';
import type { CloseInfo, Connection } from './connection.js';
import { Connector, type Live, ROTATE } from './connector.js';
import type { EngineOptions } from './engine-options.js';
import { FrameInbox } from './inbox.js';

// Kept importable from here: the providers, tests and benchmarks import them with the engine.

/**
 * Runs a resilient bar stream for `adapter`: connects every planned socket, answers the
 * heartbeat, reconnects with full-jitter backoff, rotates sockets before the exchange's forced
 * cut (new socket first, then the old one closes), backfills over REST after every reconnect,
 * drops repeats, keeps per-symbol order, and pauses socket reads when the consumer is slow.
 *
 * The returned iterator yields closed bars and in-band errors. Fatal errors end it; `break`,
 * `signal.abort()` and a fatal error close every socket (code 1000) and clear every timer
 * before the iteration finishes. Abort ends it quietly.
 *
 * @example
 * const stream = runResilientStream(adapter, options, ac.signal);
 * for await (const [bar, err] of stream) {
 *   if (err) { if (err.fatal) break; continue; }
 *   console.log(bar.symbol, bar.time.toISOString(), bar.close);
 * }
 */
export function runResilientStream(
  adapter: StreamAdapter,
  options: EngineOptions,
  signal?: AbortSignal,
): AsyncGenerator<StreamResult, void, undefined> {
  return new StreamEngine(adapter, options).run(signal);
}

/** Exposed for tests and benchmarks that need to look inside (queue peak, paused sockets). */
export class StreamEngine {
  readonly queue: BoundedQueue<QueueItem>;
  private readonly inbox: FrameInbox;
  /** Sockets paused for backpressure; resumed together once the queue drains to half. */
  readonly paused = new Set<Connection>();
  /** Number of times a socket was paused (tests read it). */
  pauseCount = 0;
  private readonly backfiller: Backfiller;
  private readonly connector: Connector;
  private readonly tasks = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  private readonly signal = withoutListenerLimit(this.controller.signal);
  /** Resolves when the stream stops, to wake loops waiting on a socket. */
  private readonly stopped = new Promise<undefined>((resolve) => {
    this.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  private failed = false;

  constructor(
    private readonly adapter: StreamAdapter,
    private readonly options: EngineOptions,
  ) {
    this.queue = new BoundedQueue<QueueItem>(options.bufferSize, () => this.resumeAll());
    this.inbox = new FrameInbox(() => this.queue.awaited);
    this.backfiller = new Backfiller({
      adapter,
      queue: this.queue,
      signal: this.signal,
      fail: (error) => this.fail(error),
      track: (task) => this.track(task),
      newBackoff: () => this.newBackoff(),
      heldDrained: () => {
        // A full queue resumes them itself once drained (its onDrained).
        if (this.queue.length < this.queue.capacity) this.resumeAll();
      },
      maxHeld: Math.max(options.bufferSize, MIN_HELD_BOUND),
      marks: options.hooks !== undefined,
      onBackfilled: options.hooks?.backfilled?.bind(options.hooks),
    });
    this.connector = new Connector({
      adapter,
      options,
      signal: this.signal,
      backfiller: this.backfiller,
      inbox: this.inbox,
      status: (status, plan, extra) => this.status(status, plan, extra),
      onBar: (bar, connection) => this.onLiveBar(bar, connection),
      onError: (error) => {
        if (error.fatal) this.fail(error);
        else this.queue.offer([undefined, error]);
      },
      retire: (live) => this.retire(live),
    });
  }

  async *run(userSignal?: AbortSignal): AsyncGenerator<StreamResult, void, undefined> {
    if (userSignal?.aborted) return;
    const onUserAbort = (): void => this.stop();
    userSignal?.addEventListener('abort', onUserAbort, { once: true });
    try {
      // A transient failure here (network, 5xx) is yielded and retried like a reconnect;
      // a permanent one (unknown symbol) ends the stream.
      const backoff = this.newBackoff();
      while (this.adapter.prepare !== undefined) {
        try {
          await this.adapter.prepare(this.signal);
          break;
        } catch (error) {
          if (this.signal.aborted) return;
          const failure = toMarketDataError(error, 'NETWORK', `${this.adapter.venue} stream`);
          yield [undefined, failure];
          if (failure.fatal) return;
          const delayMs = backoff.nextDelayMs();
          if (delayMs === undefined) {
            yield [
              undefined,
              reconnectExhausted(`${this.adapter.venue} stream setup`, backoff, failure),
            ];
            return;
          }
          // Say that (and when) the setup is tried again: a bare warning reads as a dead stream.
          this.status(
            'reconnecting',
            { id: `${this.adapter.venue}:setup`, url: '', symbols: [] },
            { attempt: backoff.attempt, delayMs, reason: failure.message },
          );
          try {
            await sleep(delayMs, this.signal);
          } catch {
            return;
          }
        }
      }
      const hooks = this.options.hooks;
      hooks?.attach?.({
        queueDepth: () => this.queue.length,
        pausedSockets: () => this.paused.size,
      });
      for (const plan of this.adapter.connections()) {
        for (const symbol of plan.symbols) this.backfiller.addSymbol(symbol);
        this.track(this.runPlan(plan));
      }
      const hasItem = (): boolean => this.queue.length > 0;
      while (true) {
        // Frames that came in one socket read wait raw in the inbox: parse only until the
        // next bar, so the first bar of a burst reaches the consumer before the rest is parsed.
        if (this.queue.length === 0) this.inbox.parseUntil(hasItem);
        let item = this.queue.take();
        if (item instanceof Promise) item = await item;
        if (item === QUEUE_END) return;
        if (item instanceof BackfillMark) {
          if (item.phase === 'started') hooks?.gap(item.symbol);
          this.notifyBackfill(item);
          continue;
        }
        if (hooks !== undefined) {
          if (item[1] === undefined) hooks.bar(item[0]);
          else hooks.error(item[1]);
        }
        yield item;
        if (item[1]?.fatal) return;
      }
    } finally {
      userSignal?.removeEventListener('abort', onUserAbort);
      this.stop();
      while (this.tasks.size > 0) await Promise.all(this.tasks);
    }
  }

  private notifyBackfill(mark: BackfillMark): void {
    try {
      this.adapter.onBackfill?.(mark.symbol, mark.phase);
    } catch (error) {
      this.fail(toMarketDataError(error, 'NETWORK', `${this.adapter.venue} backfill hook`, true));
    }
  }

  private newBackoff(): Backoff {
    return new Backoff(
      this.options.reconnectInitialDelayMs,
      this.options.reconnectMaxDelayMs,
      this.options.maxReconnectAttempts,
    );
  }

  /** Stop everything; buffered bars are dropped (the consumer asked to stop). */
  private stop(): void {
    this.inbox.stop();
    this.controller.abort();
    this.queue.end();
    this.queue.clear();
  }

  /** A fatal error: queue it behind the bars already buffered, then stop every socket. */
  private fail(error: MarketDataError): void {
    if (this.failed) return;
    this.failed = true;
    this.inbox.stop();
    this.queue.offer([undefined, error]);
    this.queue.end();
    this.controller.abort();
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private status(status: ConnectionStatus, plan: ConnectionPlan, extra?: Partial<StatusDetail>) {
    const listener = this.options.onStatus?.();
    const hooks = this.options.hooks;
    if (listener === undefined && hooks === undefined) return;
    const detail = { connection: plan.id, symbols: [...plan.symbols], ...extra };
    try {
      hooks?.status(status, detail);
      listener?.(status, detail);
    } catch {
      // A throwing status listener is the user's bug; it must not take the stream down.
    }
  }

  /** Keeps one planned socket alive until the stream stops. Never rejects. */
  private async runPlan(plan: ConnectionPlan): Promise<void> {
    const backoff = this.newBackoff();
    let live: Live | undefined;
    let everConnected = false;
    let lastError: MarketDataError | undefined;
    try {
      while (!this.signal.aborted) {
        if (live === undefined) {
          try {
            live = await this.connector.connect(plan, everConnected);
          } catch (error) {
            if (this.signal.aborted) return;
            lastError = toMarketDataError(error, 'NETWORK', `${plan.id}: connect failed`);
            if (lastError.fatal) return this.fail(lastError);
            if (!(await this.waitBeforeRetry(plan, backoff, lastError))) return;
            continue;
          }
          backoff.reset();
          everConnected = true;
          this.status('connected', plan);
        }
        const outcome: CloseInfo | 'rotate' | undefined = await Promise.race([
          live.connection.closed,
          live.rotation,
          this.stopped,
        ]);
        if (this.signal.aborted || outcome === undefined) return;
        if (outcome === ROTATE) {
          live = await this.connector.rotate(plan, live);
          continue;
        }
        this.retire(live);
        live = undefined;
        const reason = `connection ${plan.id} closed: ${outcome.reason}`;
        this.status('disconnected', plan, { reason });
        this.queue.offer([
          undefined,
          new MarketDataError('DISCONNECTED', `${reason}; reconnecting`, { fatal: false }),
        ]);
        lastError = undefined;
        if (!(await this.waitBeforeRetry(plan, backoff, undefined))) return;
      }
    } catch (error) {
      if (!this.signal.aborted) {
        this.fail(toMarketDataError(error, 'NETWORK', `${plan.id}: stream failed`, true));
      }
    } finally {
      if (live !== undefined) {
        this.retire(live);
        live.connection.close('stream stopped');
        this.status('disconnected', plan, { reason: 'stream stopped' });
      }
    }
  }

  /** Backoff before the next connect; false when the stream should end. */
  private async waitBeforeRetry(
    plan: ConnectionPlan,
    backoff: Backoff,
    lastError: MarketDataError | undefined,
  ): Promise<boolean> {
    const delayMs = backoff.nextDelayMs();
    if (delayMs === undefined) {
      this.fail(reconnectExhausted(plan.id, backoff, lastError));
      return false;
    }
    this.status('reconnecting', plan, {
      attempt: backoff.attempt,
      delayMs,
      ...(lastError ? { reason: lastError.message } : {}),
    });
    try {
      await sleep(delayMs, this.signal);
      return true;
    } catch {
      return false;
    }
  }

  private retire(live: Live): void {
    live.stopHeartbeat();
    this.paused.delete(live.connection);
  }

  /** The hot path: one closed bar from a socket. */
  private onLiveBar(bar: MarketData, connection: Connection): void {
    if (this.failed) return;
    if (!this.backfiller.admitLive(bar)) {
      // Held for a running backfill: past the bound, stop reading until they are released.
      if (this.backfiller.overHeldBound) this.pause(connection);
      return;
    }
    if (!this.queue.offer([bar, undefined])) this.pause(connection);
  }

  private pause(connection: Connection): void {
    if (connection.isPaused) return;
    connection.pause();
    this.paused.add(connection);
    this.pauseCount += 1;
  }

  /** Resumes paused sockets once both the queue and the held live bars have room again. */
  private resumeAll(): void {
    // The backfiller calls heldDrained once they fall under half.
    if (this.backfiller.held >= this.backfiller.maxHeld / 2) return;
    for (const connection of this.paused) connection.resume();
    this.paused.clear();
  }
}

/** Our choice: the held-bar bound is at least this (a few seconds of 1s bars of 2,000 symbols). */
const MIN_HELD_BOUND = 4096;

/**
 * Every backfill, sleep and request of a stream listens on its one signal (a backfill per symbol
 * after a reconnect); Node's default of 10 listeners would print a false leak warning.
 */
function withoutListenerLimit(signal: AbortSignal): AbortSignal {
  setMaxListeners(0, signal);
  return signal;
}
