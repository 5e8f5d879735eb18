import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/** Our choice: pull expiry; heartbeats come every half of it, so a lost leader shows in ~2 s. */
export const PULL_EXPIRES_MS = 2000;
/**
 * Our choice: a reader waiting this long with no message and no heartbeat (they come every
 * second while a pull is open) reopens its consumer, whatever state the client is in.
 */
const WATCHDOG_MS = 4 * (PULL_EXPIRES_MS / 2);

/** What {@link openMessages} needs of the read spec. */
export interface PullSpec {
  bufferSize: number;
  durable?: string;
}

/** A consume() and how to iterate it. */
export interface OpenedMessages {
  messages: ConsumerMessages;
  iterate(): AsyncGenerator<JsMsg>;
}

// A durable's messages arrive through a callback into our own buffer, so that the ones pulled
// ahead but never handed out can be nak'ed when the reader stops: redelivered at once to the
// next reader instead of after the ack wait. The server bounds that buffer (max_ack_pending).
// The ordered consumer (no acks) keeps the client's iterator, which bounds it by pulling.
export async function openMessages(
  consumer: Consumer,
  spec: PullSpec,
  signal: AbortSignal,
): Promise<OpenedMessages> {
  const pull = { max_messages: Math.max(spec.bufferSize, 1), expires: PULL_EXPIRES_MS };
  if (!spec.durable) {
    const messages = await consumer.consume(pull);
    return { messages, iterate: () => messages[Symbol.asyncIterator]() as AsyncGenerator<JsMsg> };
  }
  const buffer: JsMsg[] = [];
  let wake: (() => void) | undefined;
  const messages = await consumer.consume({
    ...pull,
    callback: (msg) => {
      buffer.push(msg);
      wake?.();
    },
  });
  let ended = false;
  const end = () => {
    ended = true;
    wake?.();
  };
  messages.closed().then(end, end);
  signal.addEventListener('abort', end, { once: true });
  async function* iterate(): AsyncGenerator<JsMsg> {
    try {
      while (!ended) {
        const msg = buffer.shift();
        if (msg) {
          yield msg;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', end);
      // Delayed past our pull's expiry: server 2.9 would otherwise hand them straight back to
      // this reader's last pull request, still open on the server, and they would wait the
      // whole ack wait before the next reader gets them.
      for (const msg of buffer.splice(0)) msg.nak(PULL_EXPIRES_MS + 500);
    }
  }
  return { messages, iterate };
}

const REOPEN_ON = new Set(['heartbeats_missed', 'consumer_not_found', 'consumer_deleted']);

/** Tells the watchdog whether the reader is waiting for a message (only then is silence bad). */
export interface Watch {
  waiting(yes: boolean): void;
}

// The client recovers a lost consumer by itself only after several checks, and not at all in
// some states: after a reconnect it cancels its heartbeat monitor until a consumer info answers,
// which never happens while the consumer's node is down (the request times out, it is not "not
// found"). So we reopen from the last sequence seen on a reconnect, on the client's own alarms,
// and — independent of any one signal — when a waiting reader hears nothing (no message, no
// heartbeat, no status) for WATCHDOG_MS. Stopping ends the loop in readBus, which reopens.
export function watchMessages(nc: NatsConnection, messages: ConsumerMessages): Watch {
  let done = false;
  let waitingSinceMs: number | undefined;
  let heardMs = Date.now();
  const stop = () => {
    done = true;
    clearInterval(timer);
    messages.stop();
  };
  const timer = setInterval(() => {
    if (
      waitingSinceMs !== undefined &&
      Date.now() - Math.max(waitingSinceMs, heardMs) > WATCHDOG_MS
    ) {
      stop();
    }
  }, WATCHDOG_MS / 4);
  timer.unref();
  const ended = () => {
    done = true;
    clearInterval(timer);
  };
  void messages.closed().then(ended, ended);
  void (async () => {
    for await (const note of messages.status()) {
      heardMs = Date.now();
      if (REOPEN_ON.has(note.type)) {
        stop();
        return;
      }
    }
  })().catch(() => {});
  void (async () => {
    // Ends at the next status after the messages closed, or when the connection closes.
    for await (const status of nc.status()) {
      if (done) return;
      if (status.type === 'reconnect') {
        stop();
        return;
      }
    }
  })().catch(() => {});
  return {
    waiting(yes) {
      waitingSinceMs = yes ? Date.now() : undefined;
      if (!yes) heardMs = Date.now();
    },
  };
}
