// The Binance side of the shared stream engine: which sockets to open, pacing, handshake,
// frame parsing and REST backfill (PROTOCOLS.md §1.6).

import { nextBucketStartMs } from '../../core/intervals.js';
import type { FormingBarListener, Interval } from '../../core/types.js';
import type { ConnectionPlan, StreamAdapter } from '../../stream/adapter.js';
import { sharedConnectPacer } from '../../stream/connect-pacer.js';
import { parseKlineFrame } from './frames.js';
import { subscribeStreams } from './handshake.js';
import { klineStreamName, MAX_STREAM_URL_LENGTH, MAX_STREAMS_PER_CONNECTION } from './protocol.js';
import type { BinanceRest } from './rest.js';

/** How symbols are spread over sockets. */
export type BinanceConnectionMode = 'per-symbol' | 'combined';

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
  /** Read per open-bar frame, so a listener set after `stream()` still hears. */
  formingListener?: () => FormingBarListener | undefined;
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
    parse: (frame, sink) => parseKlineFrame(frame, sink, options.formingListener),
    backfill: (symbol, afterOpenMs, signal) =>
      rest.closedBarsAfter(symbol, interval, afterOpenMs, signal),
    backfillPages: (symbol, afterOpenMs, page) =>
      rest.closedPagesAfter(
        symbol,
        interval,
        afterOpenMs,
        () => rest.serverTimeSince(page.liveSinceMs, page.signal),
        page.signal,
        page.onPage,
      ),
  };
}
