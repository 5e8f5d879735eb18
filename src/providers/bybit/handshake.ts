// The Bybit handshake after a socket opens: subscribe its topics in requests of at most 10
// (PROTOCOLS.md §5.3), each acknowledged before the next.

import { MarketDataError } from '../../core/errors.js';
import type { HandshakeContext } from '../../stream/adapter.js';
import { MAX_TOPICS_PER_SUBSCRIBE, SUBSCRIBE_REPLY_TIMEOUT_MS } from './protocol.js';

/**
 * Subscribes `topics` in requests of ≤ 10 args and waits for each ack (matched by `req_id`).
 * Data frames that arrive meanwhile are given back to the engine. A refused request
 * (`success:false`) is a non-fatal `PROTOCOL` error: the engine reconnects with backoff.
 */
export async function subscribeTopics(context: HandshakeContext, topics: string[]): Promise<void> {
  const held: string[] = [];
  try {
    for (let i = 0, id = 1; i < topics.length; i += MAX_TOPICS_PER_SUBSCRIBE, id++) {
      const args = topics.slice(i, i + MAX_TOPICS_PER_SUBSCRIBE);
      const reqId = String(id);
      context.send(JSON.stringify({ req_id: reqId, op: 'subscribe', args }));
      for (;;) {
        const frame = await context.nextFrame(SUBSCRIBE_REPLY_TIMEOUT_MS);
        const reply = subscribeReply(frame, reqId);
        if (reply === undefined) {
          held.push(frame);
          continue;
        }
        if (reply.error !== undefined) {
          throw new MarketDataError(
            'PROTOCOL',
            `${context.plan.id}: Bybit refused the subscribe of ${args.join(', ')}: ${reply.error}`,
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

function subscribeReply(frame: string, reqId: string): { error?: string } | undefined {
  // Acks are small; pushes are only recognised as "not our ack" here.
  if (frame.length > 512 || !frame.includes('"op"')) return undefined;
  try {
    const message = JSON.parse(frame) as {
      op?: unknown;
      req_id?: unknown;
      success?: unknown;
      ret_msg?: unknown;
    };
    if (message.op !== 'subscribe' || message.req_id !== reqId) return undefined;
    return message.success === true ? {} : { error: String(message.ret_msg ?? 'refused') };
  } catch {
    return undefined;
  }
}
