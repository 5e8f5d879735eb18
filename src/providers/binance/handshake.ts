// The Binance handshake after a socket opens: live SUBSCRIBE of the streams that did not fit the
// combined-stream URL (PROTOCOLS.md §1.6).

import { sleep } from '../../core/abort.js';
import { MarketDataError } from '../../core/errors.js';
import type { HandshakeContext } from '../../stream/adapter.js';
import { CONTROL_MESSAGE_GAP_MS, SUBSCRIBE_BATCH, SUBSCRIBE_REPLY_TIMEOUT_MS } from './protocol.js';

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
