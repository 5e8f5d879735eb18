import { setMaxListeners } from 'node:events';
import { sleep } from '../core/abort.js';
import { MarketDataError, toMarketDataError } from '../core/errors.js';
import type {
  ConnectionStatus,
  MarketData,
  StatusDetail,
  StatusListener,
  StreamResult,
} from '../core/types.js';
import type {
  BackfillPhase,
  ConnectionPlan,
  FrameSink,
  HandshakeContext,
  StreamAdapter,
} from './adapter.js';
import { orderHeldBars, skipsBars } from './backfill.js';
import { Backoff, backoffDelayMs } from './backoff.js';
import { BoundedQueue, QUEUE_END } from './bounded-queue.js';
import { type CloseInfo, Connection } from './connection.js';
import { OpenTimeDedup } from './dedup.js';
import { startHeartbeat } from './heartbeat.js';

/** Engine tunables; the providers pass their validated config (zod defaults applied). */
export interface EngineOptions {
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
  /** Consecutive failed reconnects before `RECONNECT_EXHAUSTED`; undefined = unlimited. */
  maxReconnectAttempts?: number | undefined;
  silenceTimeoutMs: number;
  pingIntervalMs: number;
  /** Rotate a socket once it has carried this much exchange time; undefined = never. */
  maxConnectionAgeMs?: number | undefined;
  bufferSize: number;
  connectTimeoutMs: number;
  /** Read at every status change, so a listener set after `stream()` still hears. */
  onStatus?: () => StatusListener | undefined;
}

/** The engine's options from a validated provider config (its resilience fields). */
export function engineOptions(
  config: Omit<EngineOptions, 'onStatus'>,
  onStatus: () => StatusListener | undefined,
): EngineOptions {
  return {
    reconnectInitialDelayMs: config.reconnectInitialDelayMs,
    reconnectMaxDelayMs: config.reconnectMaxDelayMs,
    maxReconnectAttempts: config.maxReconnectAttempts,
    silenceTimeoutMs: config.silenceTimeoutMs,
    pingIntervalMs: config.pingIntervalMs,
    maxConnectionAgeMs: config.maxConnectionAgeMs,
    bufferSize: config.bufferSize,
    connectTimeoutMs: config.connectTimeoutMs,
    onStatus,
  };
}

interface SymbolState {
  /** A REST backfill is running: live bars wait in `held` so order is kept. */
  backfilling: boolean;
  /** Another reconnect happened during the backfill: run it once more before releasing. */
  again: boolean;
  held: MarketData[];
}

/** One open socket and what the engine tracks about it. */
interface Live {
  connection: Connection;
  plan: ConnectionPlan;
  firstExchangeTimeMs: number | undefined;
  rotationRequested: boolean;
  /** Resolves when the socket should be replaced (too old, or the server announced shutdown). */
  rotation: Promise<'rotate'>;
  requestRotation: (reason: string) => void;
  stopHeartbeat: () => void;
}

const ROTATE = 'rotate' as const;

/**
 * A backfill boundary travelling through the queue, so the adapter hears of it in the consumer's
 * order (see {@link StreamAdapter.onBackfill}). Only queued when the adapter has the hook.
 */
class BackfillMark {
  constructor(
    readonly symbol: string,
    readonly phase: BackfillPhase,
  ) {}
}

/** What the queue between the sockets and the consumer holds. */
type QueueItem = StreamResult | BackfillMark;

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
  /** Sockets paused for backpressure; resumed together once the queue drains to half. */
  readonly paused = new Set<Connection>();
  /** Number of times a socket was paused (tests read it). */
  pauseCount = 0;
  private readonly dedup = new OpenTimeDedup();
  private readonly symbols = new Map<string, SymbolState>();
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
            yield [undefined, exhausted(`${this.adapter.venue} stream setup`, backoff, failure)];
            return;
          }
          try {
            await sleep(delayMs, this.signal);
          } catch {
            return;
          }
        }
      }
      for (const plan of this.adapter.connections()) {
        for (const symbol of plan.symbols) {
          this.symbols.set(symbol, { backfilling: false, again: false, held: [] });
        }
        this.track(this.runPlan(plan));
      }
      while (true) {
        let item = this.queue.take();
        if (item instanceof Promise) item = await item;
        if (item === QUEUE_END) return;
        if (item instanceof BackfillMark) {
          this.notifyBackfill(item);
          continue;
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
    this.controller.abort();
    this.queue.end();
    this.queue.clear();
  }

  /** A fatal error: queue it behind the bars already buffered, then stop every socket. */
  private fail(error: MarketDataError): void {
    if (this.failed) return;
    this.failed = true;
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
    if (listener === undefined) return;
    try {
      listener(status, { connection: plan.id, symbols: [...plan.symbols], ...extra });
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
            live = await this.connect(plan, everConnected);
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
          live = await this.rotate(plan, live);
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
      this.fail(exhausted(plan.id, backoff, lastError));
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

  /**
   * Replace `old` by a new socket: open the new one first, then close the old one. A final
   * update in flight on the old socket when it closes, sent before the new one subscribed,
   * would be lost; so the new socket starts with a backfill like any reconnect (one REST call
   * per symbol per rotation, i.e. per day on Binance), and bars both deliver are deduped.
   */
  private async rotate(plan: ConnectionPlan, old: Live): Promise<Live> {
    let next: Live;
    try {
      next = await this.connect(plan, true);
    } catch (error) {
      if (this.signal.aborted) throw error;
      // Keep the old socket; if the exchange cuts it first, the normal reconnect (with
      // backfill) takes over. Otherwise try rotating again after a backoff pause.
      const pause = new AbortController();
      const pauseSignal = AbortSignal.any([this.signal, pause.signal]);
      const delayMs = backoffDelayMs(
        2,
        this.options.reconnectInitialDelayMs,
        this.options.reconnectMaxDelayMs,
      );
      await Promise.race([sleep(delayMs, pauseSignal).catch(() => {}), old.connection.closed]);
      pause.abort();
      old.rotation = new Promise((resolve) => {
        old.requestRotation = () => resolve(ROTATE);
      });
      old.rotationRequested = false;
      return old;
    }
    this.retire(old);
    old.connection.close('rotated');
    this.status('connected', plan, { reason: 'rotated to a new connection' });
    return next;
  }

  private retire(live: Live): void {
    live.stopHeartbeat();
    this.paused.delete(live.connection);
  }

  /**
   * Open, handshake and go live. With `backfill`, every symbol of the plan that has yielded a
   * bar is marked as backfilling BEFORE the first live frame is parsed, so no live bar can
   * overtake the bars the REST backfill is about to return.
   */
  private async connect(plan: ConnectionPlan, backfill: boolean): Promise<Live> {
    const pacing = this.adapter.connectDelayMs?.(plan);
    if (pacing !== undefined && pacing.delayMs > 0) {
      this.status('reconnecting', plan, { delayMs: pacing.delayMs, reason: pacing.reason });
      await sleep(pacing.delayMs, this.signal);
    }
    const pending: string[] = [];
    let waiter: ((text: string) => void) | undefined;
    const connection = await Connection.open(
      plan.url,
      {
        timeoutMs: this.options.connectTimeoutMs,
        livenessFromData: this.adapter.livenessFromData,
        signal: this.signal,
      },
      (text) => {
        if (waiter === undefined) {
          pending.push(text);
          return;
        }
        const wake = waiter;
        waiter = undefined;
        wake(text);
      },
    );
    const stopHeartbeat = startHeartbeat(
      connection,
      this.options.silenceTimeoutMs,
      this.options.pingIntervalMs,
    );
    try {
      if (this.adapter.handshake !== undefined) {
        const context: HandshakeContext = {
          plan,
          signal: this.signal,
          send: (text) => connection.send(text),
          unread: (frame) => pending.unshift(frame),
          nextFrame: (timeoutMs) => {
            const next = pending.shift();
            if (next !== undefined) return Promise.resolve(next);
            return nextFrame(connection, timeoutMs, this.signal, plan, (wake) => {
              waiter = wake;
            });
          },
        };
        await this.adapter.handshake(context);
      }
      if (!connection.isOpen) {
        throw new MarketDataError('NETWORK', `${plan.id} closed during the handshake`, {
          fatal: false,
        });
      }
    } catch (error) {
      stopHeartbeat();
      connection.terminate('handshake failed');
      throw error;
    }
    const live = this.makeLive(connection, plan, stopHeartbeat);
    if (backfill) {
      for (const symbol of plan.symbols) {
        if (this.dedup.last(symbol) !== undefined) this.startBackfill(symbol);
      }
    }
    const sink = this.makeSink(live);
    const adapter = this.adapter;
    connection.setFrameListener((text) => adapter.parse(text, sink));
    for (const text of pending.splice(0)) adapter.parse(text, sink);
    return live;
  }

  private makeLive(connection: Connection, plan: ConnectionPlan, stopHeartbeat: () => void): Live {
    let requestRotation: (reason: string) => void = () => {};
    const rotation = new Promise<'rotate'>((resolve) => {
      requestRotation = () => resolve(ROTATE);
    });
    return {
      connection,
      plan,
      firstExchangeTimeMs: undefined,
      rotationRequested: false,
      rotation,
      requestRotation,
      stopHeartbeat,
    };
  }

  /** The per-connection sink: made once when the socket goes live, used for every frame. */
  private makeSink(live: Live): FrameSink {
    const maxAgeMs = this.options.maxConnectionAgeMs;
    return {
      bar: (bar) => this.onLiveBar(bar, live.connection),
      exchangeTime: (timeMs) => {
        if (live.firstExchangeTimeMs === undefined) {
          live.firstExchangeTimeMs = timeMs;
        } else if (
          maxAgeMs !== undefined &&
          !live.rotationRequested &&
          timeMs - live.firstExchangeTimeMs >= maxAgeMs
        ) {
          live.rotationRequested = true;
          live.requestRotation('connection age');
        }
      },
      error: (error) => {
        if (error.fatal) this.fail(error);
        else this.queue.offer([undefined, error]);
      },
      dataLost: () => {
        for (const symbol of live.plan.symbols) {
          if (this.dedup.last(symbol) !== undefined) this.startBackfill(symbol);
        }
      },
      reconnect: (reason) => {
        if (live.rotationRequested) return;
        live.rotationRequested = true;
        live.requestRotation(reason);
      },
    };
  }

  /** The hot path: one closed bar from a socket. */
  private onLiveBar(bar: MarketData, connection: Connection): void {
    const state = this.symbols.get(bar.symbol);
    if (state === undefined || this.failed) return;
    if (state.backfilling) {
      state.held.push(bar);
      return;
    }
    const openMs = bar.time.getTime();
    const lastOpenMs = this.dedup.last(bar.symbol);
    if (lastOpenMs !== undefined) {
      if (openMs <= lastOpenMs) return;
      const nextOpenMs = this.adapter.nextOpenMs;
      if (nextOpenMs !== undefined && skipsBars(lastOpenMs, openMs, nextOpenMs)) {
        // The socket skipped a final update without disconnecting: fetch what is missing.
        state.held.push(bar);
        this.startBackfill(bar.symbol);
        return;
      }
    }
    this.dedup.accept(bar.symbol, openMs);
    if (!this.queue.offer([bar, undefined]) && !connection.isPaused) {
      connection.pause();
      this.paused.add(connection);
      this.pauseCount += 1;
    }
  }

  private resumeAll(): void {
    for (const connection of this.paused) connection.resume();
    this.paused.clear();
  }

  private startBackfill(symbol: string): void {
    const state = this.symbols.get(symbol);
    if (state === undefined) return;
    if (state.backfilling) {
      state.again = true;
      return;
    }
    state.backfilling = true;
    if (this.adapter.onBackfill !== undefined)
      this.queue.offer(new BackfillMark(symbol, 'started'));
    this.track(this.runBackfill(symbol, state));
  }

  /**
   * Fetch the closed bars after the last yielded one, yield them in order, then release the
   * live bars held meanwhile. Retries with backoff (non-fatal errors are yielded) until it
   * succeeds, the stream stops, or the reconnect budget is spent.
   */
  private async runBackfill(symbol: string, state: SymbolState): Promise<void> {
    const backoff = this.newBackoff();
    let gapRetries = 0;
    try {
      for (;;) {
        do {
          state.again = false;
          const afterOpenMs = this.dedup.last(symbol);
          if (afterOpenMs === undefined) break;
          let bars: MarketData[];
          try {
            bars = await this.adapter.backfill(symbol, afterOpenMs, this.signal);
          } catch (error) {
            if (this.signal.aborted) return;
            const failure = toMarketDataError(error, 'NETWORK', `backfill of ${symbol} failed`);
            if (failure.fatal) return this.fail(failure);
            this.queue.offer([undefined, failure]);
            const delayMs = backoff.nextDelayMs();
            if (delayMs === undefined) {
              return this.fail(exhausted(`backfill of ${symbol}`, backoff, failure));
            }
            await sleep(delayMs, this.signal);
            state.again = true;
            continue;
          }
          for (const bar of bars) {
            if (this.dedup.accept(symbol, bar.time.getTime())) {
              await this.queue.put([bar, undefined], this.signal);
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
          this.queue.offer([undefined, unrecoverableGap(symbol, gap)]);
          if (this.dedup.accept(symbol, gap.bar.time.getTime())) {
            await this.queue.put([gap.bar, undefined], this.signal);
          }
          gapRetries = 0;
          continue;
        }
        if (gapRetries > 1) await sleep(backoff.nextDelayMs() ?? 1000, this.signal);
        state.again = true;
      }
      // Synchronously after the last held bar, so no live bar of this symbol can slip between.
      if (this.adapter.onBackfill !== undefined) this.queue.offer(new BackfillMark(symbol, 'done'));
    } catch (error) {
      if (!this.signal.aborted) {
        this.fail(toMarketDataError(error, 'NETWORK', `backfill of ${symbol} failed`, true));
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
    const nextOpenMs = this.adapter.nextOpenMs;
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
        if (this.dedup.accept(symbol, openMs)) await this.queue.put([bar, undefined], this.signal);
      }
    }
    return undefined;
  }
}

/**
 * Every backfill, sleep and request of a stream listens on its one signal (a backfill per symbol
 * after a reconnect); Node's default of 10 listeners would print a false leak warning.
 */
function withoutListenerLimit(signal: AbortSignal): AbortSignal {
  setMaxListeners(0, signal);
  return signal;
}

/** Our choice: REST attempts to fill a gap found among held bars before reporting it. */
const MAX_GAP_RETRIES = 5;

function unrecoverableGap(symbol: string, gap: { bar: MarketData }): MarketDataError {
  return new MarketDataError(
    'PROTOCOL',
    `${symbol}: bars before ${gap.bar.time.toISOString()} are missing from the live feed and ` +
      `from REST after ${MAX_GAP_RETRIES} attempts; continuing from that bar`,
    { fatal: false },
  );
}

function exhausted(
  what: string,
  backoff: Backoff,
  lastError: MarketDataError | undefined,
): MarketDataError {
  return new MarketDataError(
    'RECONNECT_EXHAUSTED',
    `${what}: gave up after ${backoff.attempt - 1} consecutive failed attempts` +
      (lastError ? `; last error: ${lastError.message}` : ''),
    { fatal: true, cause: lastError },
  );
}

/** Waits for the next handshake frame, the socket's close, a timeout or the stream's stop. */
function nextFrame(
  connection: Connection,
  timeoutMs: number,
  signal: AbortSignal,
  plan: ConnectionPlan,
  setWaiter: (wake: (text: string) => void) => void,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let done = false;
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (done) return;
      finish();
      reject(
        new MarketDataError('ABORTED', 'stream stopped during the handshake', { fatal: true }),
      );
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      reject(
        new MarketDataError('NETWORK', `${plan.id}: no handshake reply within ${timeoutMs} ms`, {
          fatal: false,
        }),
      );
    }, timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    setWaiter((text) => {
      if (done) return;
      finish();
      resolve(text);
    });
    void connection.closed.then((info) => {
      if (done) return;
      finish();
      reject(
        new MarketDataError('NETWORK', `${plan.id} closed during the handshake: ${info.reason}`, {
          fatal: false,
        }),
      );
    });
  });
}
