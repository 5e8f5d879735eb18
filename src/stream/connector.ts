import { linkedAbort, sleep } from '../core/abort.js';
import { MarketDataError } from '../core/errors.js';
import type { ConnectionStatus, MarketData, StatusDetail } from '../core/types.js';
import type { ConnectionPlan, FrameSink, HandshakeContext, StreamAdapter } from './adapter.js';
import type { Backfiller } from './backfiller.js';
import { backoffDelayMs } from './backoff.js';
import { Connection } from './connection.js';
import type { EngineOptions } from './engine-options.js';
import { startHeartbeat } from './heartbeat.js';
import type { FrameInbox, FrameParser } from './inbox.js';

/** One open socket and what the engine tracks about it. */
export interface Live {
  connection: Connection;
  plan: ConnectionPlan;
  firstExchangeTimeMs: number | undefined;
  rotationRequested: boolean;
  /** Resolves when the socket should be replaced (too old, or the server announced shutdown). */
  rotation: Promise<'rotate'>;
  requestRotation: (reason: string) => void;
  stopHeartbeat: () => void;
}

/** What {@link Live.rotation} resolves to, so a wait racing it can tell it from a close. */
export const ROTATE = 'rotate' as const;

/**
 * What a {@link Connector} needs from the engine that owns it: the engine keeps the stop
 * signal, the status listener, the queue and the backpressure state; the connector only opens,
 * wires and replaces sockets.
 */
export interface ConnectorContext {
  readonly adapter: StreamAdapter;
  readonly options: EngineOptions;
  /** Aborts when the stream stops. */
  readonly signal: AbortSignal;
  /** Told before a reconnected socket's first live frame is parsed. */
  readonly backfiller: Pick<Backfiller, 'startAfterLoss'>;
  /** Every socket's frames, in arrival order, on their way to the parsers. */
  readonly inbox: FrameInbox;
  status(status: ConnectionStatus, plan: ConnectionPlan, extra?: Partial<StatusDetail>): void;
  /** One closed bar from `connection` (the hot path). */
  onBar(bar: MarketData, connection: Connection): void;
  /** A problem a frame reported: a fatal one ends the stream, any other is yielded. */
  onError(error: MarketDataError): void;
  /** The engine stops tracking a socket that is going away (heartbeat, backpressure pause). */
  retire(live: Live): void;
}

/**
 * Opens a planned socket (pacing, handshake, heartbeat), wires its frames to the adapter's
 * parser, and replaces it on rotation. Apart from the engine so the run loop reads as policy
 * (when to reconnect) and this as mechanism (how a socket goes live).
 */
export class Connector {
  constructor(private readonly context: ConnectorContext) {}

  /**
   * Replace `old` by a new socket: open the new one first, then close the old one. A final
   * update in flight on the old socket when it closes, sent before the new one subscribed,
   * would be lost; so the new socket starts with a backfill like any reconnect (one REST call
   * per symbol per rotation, i.e. per day on Binance), and bars both deliver are deduped.
   */
  async rotate(plan: ConnectionPlan, old: Live): Promise<Live> {
    const { options, signal } = this.context;
    let next: Live;
    try {
      next = await this.connect(plan, true);
    } catch (error) {
      if (signal.aborted) throw error;
      // Keep the old socket; if the exchange cuts it first, the normal reconnect (with
      // backfill) takes over. Otherwise try rotating again after a backoff pause.
      const pause = linkedAbort(signal);
      const delayMs = backoffDelayMs(
        2,
        options.reconnectInitialDelayMs,
        options.reconnectMaxDelayMs,
      );
      await Promise.race([sleep(delayMs, pause.signal).catch(() => {}), old.connection.closed]);
      pause.abort();
      pause.release();
      old.rotation = new Promise((resolve) => {
        old.requestRotation = () => resolve(ROTATE);
      });
      old.rotationRequested = false;
      return old;
    }
    this.context.retire(old);
    old.connection.close('rotated');
    this.context.status('connected', plan, { reason: 'rotated to a new connection' });
    return next;
  }

  /**
   * Open, handshake and go live. With `backfill`, every symbol of the plan that has yielded a
   * bar is marked as backfilling BEFORE the first live frame is parsed, so no live bar can
   * overtake the bars the REST backfill is about to return.
   */
  async connect(plan: ConnectionPlan, backfill: boolean): Promise<Live> {
    const { adapter, options, signal } = this.context;
    const pacing = adapter.connectDelayMs?.(plan);
    if (pacing !== undefined && pacing.delayMs > 0) {
      this.context.status('reconnecting', plan, { delayMs: pacing.delayMs, reason: pacing.reason });
      await sleep(pacing.delayMs, signal);
    }
    const pending: string[] = [];
    let waiter: ((text: string) => void) | undefined;
    const connection = await Connection.open(
      plan.url,
      {
        timeoutMs: options.connectTimeoutMs,
        livenessFromData: adapter.livenessFromData,
        ...(adapter.pingText === undefined ? {} : { pingText: adapter.pingText }),
        signal,
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
      options.silenceTimeoutMs,
      options.pingIntervalMs,
    );
    try {
      if (adapter.handshake !== undefined) {
        const context: HandshakeContext = {
          plan,
          signal,
          send: (text) => connection.send(text),
          unread: (frame) => pending.unshift(frame),
          nextFrame: (timeoutMs) => {
            const next = pending.shift();
            if (next !== undefined) return Promise.resolve(next);
            return nextFrame(connection, timeoutMs, signal, plan, (wake) => {
              waiter = wake;
            });
          },
        };
        await adapter.handshake(context);
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
    const live = makeLive(connection, plan, stopHeartbeat);
    const inbox = this.context.inbox;
    // Frames that arrived before this point are parsed before it, as they came: a bar of the
    // socket this one replaces must not be admitted after the backfill below was marked.
    inbox.drain();
    if (backfill) this.context.backfiller.startAfterLoss(plan.symbols);
    const sink = this.makeSink(live);
    const parse: FrameParser = (text) => adapter.parse(text, sink);
    connection.setFrameListener((text) => inbox.push(parse, text));
    for (const text of pending.splice(0)) inbox.push(parse, text);
    return live;
  }

  /** The per-connection sink: made once when the socket goes live, used for every frame. */
  private makeSink(live: Live): FrameSink {
    const context = this.context;
    const maxAgeMs = context.options.maxConnectionAgeMs;
    return {
      bar: (bar) => context.onBar(bar, live.connection),
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
      error: (error) => context.onError(error),
      dataLost: () => context.backfiller.startAfterLoss(live.plan.symbols),
      reconnect: (reason) => {
        if (live.rotationRequested) return;
        live.rotationRequested = true;
        live.requestRotation(reason);
      },
    };
  }
}

function makeLive(connection: Connection, plan: ConnectionPlan, stopHeartbeat: () => void): Live {
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
