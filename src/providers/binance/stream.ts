import { sleep } from '../../core/abort.js';
import { MarketDataError } from '../../core/errors.js';
import { nextBucketStartMs } from '../../core/intervals.js';
import { isPlausibleOhlcv } from '../../core/ohlcv.js';
import type { Interval, MarketData } from '../../core/types.js';
import type {
  ConnectionPlan,
  FrameSink,
  HandshakeContext,
  StreamAdapter,
} from '../../stream/adapter.js';
import { sharedConnectPacer } from '../../stream/connect-pacer.js';
import {
  CONTROL_MESSAGE_GAP_MS,
  klineStreamName,
  MAX_STREAM_URL_LENGTH,
  MAX_STREAMS_PER_CONNECTION,
  SUBSCRIBE_BATCH,
  SUBSCRIBE_REPLY_TIMEOUT_MS,
} from './protocol.js';
import { type BinanceRest, binanceBarId, decimal } from './rest.js';

/** How symbols are spread over sockets. */
export type BinanceConnectionMode = 'per-symbol' | 'combined';

/**
 * Parse one Binance market-stream frame (PROTOCOLS.md §1.6): raw (`/ws/…`, the bare event) or
 * combined (`/stream?…`, `{"stream","data"}`). Reports the event time, the bar when `k.x` is
 * true, `serverShutdown` as a reconnect request, and anything malformed as a non-fatal
 * `PROTOCOL` error. Subscription replies are ignored. One JSON.parse, one bar literal.
 */
export function parseKlineFrame(frame: string, sink: FrameSink): void {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch {
    sink.error(malformed('not JSON', frame));
    return;
  }
  if (typeof message !== 'object' || message === null) {
    sink.error(malformed('not an object', frame));
    return;
  }
  let event = message as Record<string, unknown>;
  const data = event.data;
  if (typeof data === 'object' && data !== null && typeof event.stream === 'string') {
    event = data as Record<string, unknown>;
  }
  const type = event.e;
  if (type === 'kline') {
    const eventTimeMs = event.E;
    if (typeof eventTimeMs === 'number') sink.exchangeTime(eventTimeMs);
    const k = event.k as Record<string, unknown> | undefined;
    if (typeof k !== 'object' || k === null) {
      sink.error(malformed('kline event without k', frame));
      return;
    }
    // Binance re-sends the open bar every 1–2 s; only x=true is its final update. Yielding
    // earlier would give the consumer the same open time twice, with changing values.
    if (k.x !== true) return;
    const openMs = k.t;
    const symbol = k.s;
    if (typeof openMs !== 'number' || !Number.isInteger(openMs) || typeof symbol !== 'string') {
      sink.error(malformed('kline without integer t or string s', frame));
      return;
    }
    const bar: MarketData = {
      id: binanceBarId(symbol, String(k.i), openMs),
      symbol,
      time: new Date(openMs),
      open: decimal(k.o),
      high: decimal(k.h),
      low: decimal(k.l),
      close: decimal(k.c),
      volume: decimal(k.v),
    };
    if (!isPlausibleOhlcv(bar.open, bar.high, bar.low, bar.close, bar.volume)) {
      sink.error(
        malformed('kline with a price or volume that is not a non-negative number', frame),
      );
      return;
    }
    sink.bar(bar);
    return;
  }
  if (type === 'serverShutdown') {
    sink.reconnect('Binance announced a server shutdown');
    return;
  }
  if ('result' in event && 'id' in event) return;
  if ('error' in event) {
    const error = event.error as { code?: unknown; msg?: unknown } | undefined;
    sink.error(
      new MarketDataError(
        'PROTOCOL',
        `Binance stream error ${String(error?.code)}: ${String(error?.msg ?? 'unknown')}`,
        { fatal: false },
      ),
    );
    return;
  }
  // Other event types (none expected on kline streams) are ignored, as a client must ignore
  // fields and events it does not know.
}

function malformed(what: string, frame: string): MarketDataError {
  return new MarketDataError(
    'PROTOCOL',
    `malformed Binance frame (${what}): ${frame.slice(0, 120)}; skipped, the stream goes on`,
    { fatal: false },
  );
}

/** Strip a trailing `/ws` or `/stream` a user may have copied from the docs. */
export function normalizeWsBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/(ws|stream)$/, '');
}

/** A socket plan plus the streams to SUBSCRIBE after connecting (those past the URL budget). */
export interface BinanceConnectionPlan extends ConnectionPlan {
  subscribeAfterOpen: string[];
}

/**
 * Sockets for `symbols`: one raw stream each, or combined sockets of up to 1024 streams. A
 * combined socket names as many streams in its URL as fit {@link MAX_STREAM_URL_LENGTH}; the
 * rest are subscribed live once it is open.
 */
export function binanceConnectionPlans(
  wsBaseUrl: string,
  symbols: readonly string[],
  interval: Interval,
  mode: BinanceConnectionMode,
): BinanceConnectionPlan[] {
  const base = normalizeWsBase(wsBaseUrl);
  if (mode === 'per-symbol') {
    return symbols.map((symbol) => {
      const name = klineStreamName(symbol, interval);
      const url = `${base}/ws/${name}`;
      return { id: `binance:${name}`, url, symbols: [symbol], subscribeAfterOpen: [] };
    });
  }
  const plans: BinanceConnectionPlan[] = [];
  for (let i = 0; i < symbols.length; i += MAX_STREAMS_PER_CONNECTION) {
    const group = symbols.slice(i, i + MAX_STREAMS_PER_CONNECTION);
    const names = group.map((symbol) => klineStreamName(symbol, interval));
    let url = `${base}/stream?streams=${names[0] ?? ''}`;
    let inUrl = 1;
    while (
      inUrl < names.length &&
      url.length + 1 + (names[inUrl]?.length ?? 0) <= MAX_STREAM_URL_LENGTH
    ) {
      url += `/${names[inUrl]}`;
      inUrl++;
    }
    plans.push({
      id: `binance:combined#${plans.length}`,
      url,
      symbols: group,
      subscribeAfterOpen: names.slice(inUrl),
    });
  }
  return plans;
}

/**
 * SUBSCRIBEs `streams` in batches, pacing control messages under the 5/s limit and waiting for
 * each reply (PROTOCOLS.md §1.6). Data frames that arrive meanwhile are given back to the engine.
 */
export async function subscribeStreams(
  context: HandshakeContext,
  streams: string[],
): Promise<void> {
  const held: string[] = [];
  try {
    for (let i = 0, id = 1; i < streams.length; i += SUBSCRIBE_BATCH, id++) {
      if (i > 0) await sleep(CONTROL_MESSAGE_GAP_MS, context.signal);
      const params = streams.slice(i, i + SUBSCRIBE_BATCH);
      context.send(JSON.stringify({ method: 'SUBSCRIBE', params, id }));
      for (;;) {
        const frame = await context.nextFrame(SUBSCRIBE_REPLY_TIMEOUT_MS);
        const reply = subscribeReply(frame, id);
        if (reply === undefined) {
          held.push(frame);
          continue;
        }
        if (reply.error !== undefined) {
          throw new MarketDataError(
            'PROTOCOL',
            `${context.plan.id}: Binance refused SUBSCRIBE of ${params.length} streams: ${reply.error}`,
            { fatal: false },
          );
        }
        break;
      }
    }
  } finally {
    for (let i = held.length - 1; i >= 0; i--) context.unread(held[i] as string);
  }
}

function subscribeReply(frame: string, id: number): { error?: string } | undefined {
  // Replies are small; data frames are not parsed here, only recognised as "not our reply".
  if (frame.length > 512 || !frame.includes('"id"')) return undefined;
  try {
    const message = JSON.parse(frame) as {
      id?: unknown;
      error?: { code?: unknown; msg?: unknown };
    };
    if (message.id !== id) return undefined;
    if (message.error)
      return { error: `${String(message.error.code)} ${String(message.error.msg)}` };
    return {};
  } catch {
    return undefined;
  }
}

/** The Binance side of the shared stream engine. */
export function binanceStreamAdapter(options: {
  rest: BinanceRest;
  wsBaseUrl: string;
  symbols: readonly string[];
  interval: Interval;
  connection: BinanceConnectionMode;
  /** New connections allowed per `newConnectionWindowMs`, shared by the process per host. */
  maxNewConnections: number;
  newConnectionWindowMs: number;
}): StreamAdapter {
  const { rest, symbols, interval } = options;
  const subscribeLater = new Map<string, string[]>();
  const pacer = sharedConnectPacer(
    new URL(options.wsBaseUrl).host,
    options.maxNewConnections,
    options.newConnectionWindowMs,
  );
  const pacingReason =
    `waiting for Binance's limit of ${pacer.limit} new connections per ` +
    `${pacer.windowMs / 1000} s per IP (combined mode needs far fewer connections)`;
  return {
    venue: 'binance',
    // Binance pushes every 1–2 s; a stream for an unknown symbol answers pings but never sends
    // data (PROTOCOLS.md §1.6), so only data proves a socket alive.
    livenessFromData: true,
    // Binance emits a bar for every interval, even without trades (PROTOCOLS.md §1.5).
    nextOpenMs: (openMs) => nextBucketStartMs(interval, openMs),
    prepare: (signal) => rest.validateSymbols(symbols, signal),
    connections: () => {
      const plans = binanceConnectionPlans(
        options.wsBaseUrl,
        symbols,
        interval,
        options.connection,
      );
      for (const plan of plans) subscribeLater.set(plan.id, plan.subscribeAfterOpen);
      return plans;
    },
    connectDelayMs: () => ({ delayMs: pacer.reserve(), reason: pacingReason }),
    handshake: async (context) => {
      const streams = subscribeLater.get(context.plan.id);
      if (streams !== undefined && streams.length > 0) await subscribeStreams(context, streams);
    },
    parse: parseKlineFrame,
    backfill: (symbol, afterOpenMs, signal) =>
      rest.closedBarsAfter(symbol, interval, afterOpenMs, signal),
  };
}
