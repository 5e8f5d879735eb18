import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { sleep } from '../core/abort.js';
import { ConfigError, MarketDataError } from '../core/errors.js';
import type { Interval, MarketData } from '../core/types.js';
import { errorText } from './connection.js';
import { API_RETRY_MAX_MS, apiErrorCode } from './stream-setup.js';
import { barSubject, decodeBar, intervalSubjects, STREAM_NAME } from './subjects.js';

/** JetStream API error code: consumer not found. */
const CONSUMER_NOT_FOUND = 10014;
/** Our choice: pull expiry; heartbeats come every half of it, so a lost leader shows in ~2 s. */
const PULL_EXPIRES_MS = 2000;
/** Our choice: a message not acked within this is redelivered (e.g. its consumer was killed). */
const ACK_WAIT_MS = 30_000;

/** What to read: one venue and interval, some symbols, from where. */
export interface BusReadSpec {
  venue: string;
  interval: Interval;
  /** Symbols to yield; empty: every symbol of the venue and interval. */
  symbols: string[];
  /** Durable consumer name; acks are explicit and a restart resumes after the last ack. */
  durable?: string;
  /** Bars whose open time is at or after this; default: bars published from now on. */
  fromMs?: number;
  /** Messages pulled ahead of the reader. */
  bufferSize: number;
  /**
   * Per symbol strictly increasing (DESIGN §3): an older or repeated bar is acked and skipped.
   * Off for the store, whose upsert makes order irrelevant and which must not skip a bar that a
   * crash left unacked and the server redelivers after newer ones.
   */
  increasing?: boolean;
  /** Durable: unacked messages the server hands out at once (1 keeps redeliveries in order). */
  maxAckPending?: number;
  /** Durable: a message not acked within this is redelivered (its reader died). */
  ackWaitMs?: number;
}

/** One bar off the bus with what it takes to ack it. */
export interface BusMessage {
  bar: MarketData;
  msg: JsMsg;
}

// Server 2.9 has no `filter_subjects` (DESIGN §9): one symbol gets its own subject; more take
// every symbol of the interval and the others are skipped here.
function filterSubject(spec: BusReadSpec): string {
  const [only] = spec.symbols;
  return spec.symbols.length === 1 && only !== undefined
    ? barSubject(spec.venue, spec.interval, only)
    : intervalSubjects(spec.venue, spec.interval);
}

function startPolicy(spec: BusReadSpec): Partial<ConsumerConfig> {
  // A bar is published only after it closed, so every bar opening at or after `from` was
  // stored after `from`: start there by stream time and drop the few older ones below.
  return spec.fromMs === undefined
    ? { deliver_policy: DeliverPolicy.New }
    : {
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(spec.fromMs).toISOString(),
      };
}

async function withApiRetry<T>(
  what: string,
  signal: AbortSignal,
  run: () => Promise<T>,
): Promise<T> {
  let delayMs = 100;
  const giveUpAtMs = Date.now() + 30_000;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ConfigError || Date.now() >= giveUpAtMs || signal.aborted) {
        throw MarketDataError.is(error)
          ? error
          : new MarketDataError('NETWORK', `${what}: ${errorText(error)}`, {
              fatal: false,
              cause: error,
            });
      }
      // Right after a node loss, consumer create / info can time out (DESIGN §9).
      await sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, API_RETRY_MAX_MS);
    }
  }
}

async function durableConsumer(
  jsm: JetStreamManager,
  js: JetStreamClient,
  spec: BusReadSpec & { durable: string },
  signal: AbortSignal,
): Promise<Consumer> {
  const filter = filterSubject(spec);
  return withApiRetry(`cannot open durable consumer ${spec.durable}`, signal, async () => {
    const existing = await jsm.consumers.info(STREAM_NAME, spec.durable).catch((error: unknown) => {
      if (apiErrorCode(error) === CONSUMER_NOT_FOUND) return undefined;
      throw error;
    });
    if (existing && existing.config.filter_subject !== filter) {
      throw new ConfigError(
        'durable',
        `durable consumer ${spec.durable} reads ${existing.config.filter_subject ?? 'everything'}, not ${filter}; pick another name`,
      );
    }
    if (!existing) {
      await jsm.consumers.add(STREAM_NAME, {
        durable_name: spec.durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: (spec.ackWaitMs ?? ACK_WAIT_MS) * 1_000_000,
        max_ack_pending: spec.maxAckPending ?? Math.max(spec.bufferSize, 1),
        filter_subject: filter,
        ...startPolicy(spec),
      });
    }
    return js.consumers.get(STREAM_NAME, spec.durable);
  });
}

/**
 * Bars of `spec` off ARGO_BARS in stream order, per symbol strictly increasing (a redelivery or
 * an older bar is acked and skipped). Survives reconnects and node loss: the client re-pulls
 * after missed heartbeats, the ordered consumer is recreated after the last sequence seen, and
 * if the consume loop itself fails it is reopened with backoff (reported through `onRetry`).
 * The caller acks a durable's message (`msg.ack()` / `ackAck()`) once it has used the bar.
 */
export async function* readBus(
  nc: NatsConnection,
  spec: BusReadSpec,
  signal: AbortSignal,
  hooks: { onOpen(): void; onRetry(error: MarketDataError): void },
): AsyncGenerator<BusMessage> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const js = jetstream(nc);
  const wanted = spec.symbols.length > 0 ? new Set(spec.symbols) : undefined;
  const lastOpenMs = new Map<string, number>();
  const filter = filterSubject(spec);
  let lastSeq = 0;
  let delayMs = 100;
  while (!signal.aborted) {
    let messages: ConsumerMessages | undefined;
    const stop = () => messages?.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const consumer = spec.durable
        ? await durableConsumer(jsm, js, { ...spec, durable: spec.durable }, signal)
        : await withApiRetry('cannot open a consumer', signal, () =>
            js.consumers.get(STREAM_NAME, {
              filter_subjects: filter,
              ...(lastSeq > 0
                ? { opt_start_seq: lastSeq + 1 }
                : spec.fromMs === undefined
                  ? { deliver_policy: DeliverPolicy.New }
                  : { opt_start_time: new Date(spec.fromMs).toISOString() }),
            }),
          );
      const opened = await openMessages(consumer, spec, signal);
      messages = opened.messages;
      watchMessages(nc, opened.messages);
      if (signal.aborted) break;
      hooks.onOpen();
      delayMs = 100;
      for await (const msg of opened.iterate()) {
        lastSeq = msg.seq;
        const decoded = decodeBar(msg.string());
        if (decoded instanceof MarketDataError) {
          msg.ack();
          hooks.onRetry(decoded);
          continue;
        }
        const previousMs = lastOpenMs.get(decoded.symbol);
        const openMs = decoded.time.getTime();
        if (
          (wanted !== undefined && !wanted.has(decoded.symbol)) ||
          (spec.increasing !== false && previousMs !== undefined && openMs <= previousMs) ||
          (spec.fromMs !== undefined && openMs < spec.fromMs)
        ) {
          msg.ack();
          continue;
        }
        lastOpenMs.set(decoded.symbol, openMs);
        yield { bar: decoded, msg };
      }
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof ConfigError) throw error;
      hooks.onRetry(
        new MarketDataError('NETWORK', `bus consumer failed: ${errorText(error)}; reopening`, {
          fatal: false,
          cause: error,
        }),
      );
      await sleep(delayMs, signal).catch(() => {});
      delayMs = Math.min(delayMs * 2, 5000);
    } finally {
      signal.removeEventListener('abort', stop);
      messages?.stop();
    }
  }
}

interface OpenedMessages {
  messages: ConsumerMessages;
  iterate(): AsyncGenerator<JsMsg>;
}

// A durable's messages arrive through a callback into our own buffer, so that the ones pulled
// ahead but never handed out can be nak'ed when the reader stops: redelivered at once to the
// next reader instead of after the ack wait. The server bounds that buffer (max_ack_pending).
// The ordered consumer (no acks) keeps the client's iterator, which bounds it by pulling.
async function openMessages(
  consumer: Consumer,
  spec: BusReadSpec,
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

// The client recovers a lost consumer by itself only after several checks; after a node loss
// (the ordered consumer is R1 and may have lived there) or a reconnect, reopening at once from
// the last sequence seen is quicker and certain. Stopping ends the loop in readBus, which
// reopens. Both watchers end when the messages do.
function watchMessages(nc: NatsConnection, messages: ConsumerMessages): void {
  let done = false;
  void messages.closed().then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  void (async () => {
    for await (const note of messages.status()) {
      if (REOPEN_ON.has(note.type)) {
        messages.stop();
        return;
      }
    }
  })().catch(() => {});
  void (async () => {
    // Ends at the next status after the messages closed, or when the connection closes.
    for await (const status of nc.status()) {
      if (done) return;
      if (status.type === 'reconnect') {
        messages.stop();
        return;
      }
    }
  })().catch(() => {});
}
