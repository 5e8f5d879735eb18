// The OKX side of the shared stream engine (PROTOCOLS.md §6.3): sockets on /ws/v5/business,
// the subscribe handshake, text pings, frame parsing and REST backfill.

import { MarketDataError } from '../../core/errors.js';
import { nextBucketStartMs } from '../../core/intervals.js';
import type { FormingBarListener, Interval, MarketData } from '../../core/types.js';
import type { ConnectionPlan, HandshakeContext, StreamAdapter } from '../../stream/adapter.js';
import { sharedConnectPacer } from '../../stream/connect-pacer.js';
import { parseCandleFrame } from './frames.js';
import { validateInstruments } from './instruments.js';
import {
  BUSINESS_PATH,
  NEW_CONNECTIONS_PER_SECOND,
  OKX_BARS,
  PING_TEXT,
  SUBSCRIBE_REPLY_TIMEOUT_MS,
  SYMBOLS_PER_CONNECTION,
  WS_NO_SUCH_CHANNEL,
} from './protocol.js';
import type { OkxRest } from './rest.js';

/** `wss://host:8443`, with a copied `/ws/v5/business` (or `/public`) path removed. */
export function normalizeOkxWsBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/ws\/v5\/(business|public)$/, '');
}

/** Sockets for `symbols`: up to {@link SYMBOLS_PER_CONNECTION} instruments each. */
export function okxConnectionPlans(
  wsBaseUrl: string,
  symbols: readonly string[],
): ConnectionPlan[] {
  const url = `${normalizeOkxWsBase(wsBaseUrl)}${BUSINESS_PATH}`;
  const plans: ConnectionPlan[] = [];
  for (let i = 0; i < symbols.length; i += SYMBOLS_PER_CONNECTION) {
    const group = symbols.slice(i, i + SYMBOLS_PER_CONNECTION);
    plans.push({
      id: symbols.length <= 1 ? `okx:${group[0]}` : `okx:#${plans.length}`,
      url,
      symbols: group,
    });
  }
  return plans;
}

/**
 * Subscribes every instrument of the socket in one request and waits for one ack per channel
 * (PROTOCOLS.md §6.3). A 60018 (no such channel or instrument) is a fatal `INVALID_SYMBOL`;
 * another error event a non-fatal `PROTOCOL` error (the engine reconnects). Data frames that
 * arrive meanwhile are given back to the engine.
 */
export async function subscribeCandles(
  context: HandshakeContext,
  channel: string,
  id: string,
): Promise<void> {
  const symbols = context.plan.symbols;
  const args = symbols.map((instId) => ({ channel, instId }));
  context.send(JSON.stringify({ id, op: 'subscribe', args }));
  const pending = new Set(symbols);
  const held: string[] = [];
  try {
    while (pending.size > 0) {
      const frame = await context.nextFrame(SUBSCRIBE_REPLY_TIMEOUT_MS);
      const reply = subscribeReply(frame);
      if (reply === undefined) {
        held.push(frame);
        continue;
      }
      if (reply.event === 'subscribe') {
        if (reply.channel === channel && reply.instId !== undefined) pending.delete(reply.instId);
        continue;
      }
      const what = `${context.plan.id}: OKX refused the subscribe to ${channel} (${String(reply.code)} ${String(reply.msg)})`;
      if (reply.code === WS_NO_SUCH_CHANNEL) {
        throw new MarketDataError(
          'INVALID_SYMBOL',
          `${what}: check the instrument ids (${symbols.join(', ')})`,
          { fatal: true },
        );
      }
      throw new MarketDataError('PROTOCOL', what, { fatal: false });
    }
  } finally {
    for (let i = held.length - 1; i >= 0; i--) context.unread(held[i] as string);
  }
}

interface Reply {
  event: string;
  code?: unknown;
  msg?: unknown;
  channel?: string;
  instId?: string;
}

function subscribeReply(frame: string): Reply | undefined {
  // Acks and errors are small and carry `event`; pushes are recognised as "not a reply".
  if (frame.length > 1024 || !frame.includes('"event"')) return undefined;
  try {
    const message = JSON.parse(frame) as {
      event?: unknown;
      code?: unknown;
      msg?: unknown;
      arg?: { channel?: unknown; instId?: unknown };
    };
    if (message.event !== 'subscribe' && message.event !== 'error') return undefined;
    return {
      event: message.event,
      code: message.code,
      msg: message.msg,
      ...(typeof message.arg?.channel === 'string' ? { channel: message.arg.channel } : {}),
      ...(typeof message.arg?.instId === 'string' ? { instId: message.arg.instId } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The OKX side of the shared stream engine. */
export function okxStreamAdapter(options: {
  rest: OkxRest;
  wsBaseUrl: string;
  symbols: readonly string[];
  interval: Interval;
  /** Read per forming-bar push, so a listener set after `stream()` still hears. */
  formingListener?: () => FormingBarListener | undefined;
}): StreamAdapter {
  const { rest, symbols, interval } = options;
  const channel = `candle${OKX_BARS[interval] as string}`;
  const pacer = sharedConnectPacer(
    new URL(options.wsBaseUrl).host,
    NEW_CONNECTIONS_PER_SECOND,
    1000,
  );
  let subscribes = 0;
  return {
    venue: 'okx',
    // A quiet instrument may push rarely; the text pong proves the socket alive too.
    livenessFromData: false,
    // PROTOCOLS.md §6.3: the server closes after 30 s without traffic; the client pings.
    pingText: PING_TEXT,
    // PROTOCOLS.md §6.2: no-trade intervals have a bar, so a skipped open time is a loss.
    nextOpenMs: (openMs) => nextBucketStartMs(interval, openMs),
    prepare: (signal) => validateInstruments(rest, symbols, signal),
    connections: () => okxConnectionPlans(options.wsBaseUrl, symbols),
    connectDelayMs: () => ({
      delayMs: pacer.reserve(),
      reason: `waiting for OKX's limit of ${NEW_CONNECTIONS_PER_SECOND} new connections per second per IP`,
    }),
    handshake: (context) => subscribeCandles(context, channel, String(++subscribes)),
    parse: (frame, sink) => parseCandleFrame(frame, sink, interval, options.formingListener),
    backfill: async (symbol, afterOpenMs, signal) => {
      const out: MarketData[] = [];
      await rest.closedPagesAfter(
        symbol,
        interval,
        afterOpenMs,
        () => rest.serverTimeMs(signal),
        signal,
        async (bars) => {
          for (const bar of bars) out.push(bar);
        },
      );
      return out;
    },
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
