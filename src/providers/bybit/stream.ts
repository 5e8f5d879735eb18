// The Bybit side of the shared stream engine: sockets of up to 200 topics, subscribes of ≤ 10,
// the `{"op":"ping"}` heartbeat, frame parsing and REST backfill (PROTOCOLS.md §5.3).

import { nextBucketStartMs } from '../../core/intervals.js';
import type { FormingBarListener, Interval } from '../../core/types.js';
import type { ConnectionPlan, StreamAdapter } from '../../stream/adapter.js';
import { sharedConnectPacer } from '../../stream/connect-pacer.js';
import { parseBybitFrame } from './frames.js';
import { subscribeTopics } from './handshake.js';
import { BYBIT_SPOT_PATH, klineTopic, MAX_TOPICS_PER_CONNECTION, PING_TEXT } from './protocol.js';
import type { BybitRest } from './rest.js';

/** Sockets for `symbols`: each carries up to {@link MAX_TOPICS_PER_CONNECTION} kline topics. */
export function bybitConnectionPlans(
  wsBaseUrl: string,
  symbols: readonly string[],
): ConnectionPlan[] {
  const base = wsBaseUrl.replace(/\/+$/, '').replace(/\/v5\/public\/spot$/, '');
  const plans: ConnectionPlan[] = [];
  for (let i = 0; i < symbols.length; i += MAX_TOPICS_PER_CONNECTION) {
    plans.push({
      id: `bybit:spot#${plans.length}`,
      url: `${base}${BYBIT_SPOT_PATH}`,
      symbols: symbols.slice(i, i + MAX_TOPICS_PER_CONNECTION),
    });
  }
  return plans;
}

/** The Bybit side of the shared stream engine. */
export function bybitStreamAdapter(options: {
  rest: BybitRest;
  wsBaseUrl: string;
  symbols: readonly string[];
  interval: Interval;
  maxNewConnections: number;
  newConnectionWindowMs: number;
  /** Read per forming-bar push, so a listener set after `stream()` still hears. */
  formingListener?: () => FormingBarListener | undefined;
}): StreamAdapter {
  const { rest, symbols, interval } = options;
  const pacer = sharedConnectPacer(
    new URL(options.wsBaseUrl).host,
    options.maxNewConnections,
    options.newConnectionWindowMs,
  );
  const pacingReason = `waiting for Bybit's limit of ${pacer.limit} new connections per ${pacer.windowMs / 1000} s`;
  return {
    venue: 'bybit',
    // Pushes come every 1–60 s; our text pings are answered with text pongs, which count as
    // frames, so a quiet but live socket is not taken for dead.
    livenessFromData: true,
    // PROTOCOLS.md §5.3: the client pings with `{"op":"ping"}` (every pingIntervalMs, 20 s).
    pingText: PING_TEXT,
    // A skipped open time starts a REST backfill even without a reconnect (a malformed push
    // may have carried the bar). Whether Bybit emits bars for intervals without trades is
    // [unverified] (PROTOCOLS.md §5.2); if it does not, such a backfill finds nothing and costs
    // one request.
    nextOpenMs: (openMs) => nextBucketStartMs(interval, openMs),
    prepare: (signal) => rest.validateSymbols(symbols, signal),
    connections: () => bybitConnectionPlans(options.wsBaseUrl, symbols),
    connectDelayMs: () => ({ delayMs: pacer.reserve(), reason: pacingReason }),
    handshake: (context) =>
      subscribeTopics(
        context,
        context.plan.symbols.map((symbol) => klineTopic(symbol, interval)),
      ),
    parse: (frame, sink) => parseBybitFrame(frame, sink, interval, options.formingListener),
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
