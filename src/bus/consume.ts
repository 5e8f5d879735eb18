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
import { openMessages, watchMessages } from './consume-watch.js';
import { API_RETRY_MAX_MS, apiErrorCode } from './stream-setup.js';
import { barSubject, decodeBar, intervalSubjects, STREAM_NAME } from './subjects.js';

/** JetStream API error code: consumer not found. */
const CONSUMER_NOT_FOUND = 10014;
/** Our choice: a message not acked within this is redelivered (e.g. its consumer was killed). */
const ACK_WAIT_MS = 30_000;
/**
 * Our choice: deadline of one consumer API request (create, info). After a node loss a request
 * can go unanswered (the server 2.9 meta leader may place a new R1 consumer on the dead node for
 * a while): a short deadline and a fresh attempt recover in seconds, not 5 s per lost attempt.
 */
const API_TIMEOUT_MS = 2000;

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
  onRetry: (error: MarketDataError) => void,
): Promise<T> {
  let delayMs = 100;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      const failure = MarketDataError.is(error)
        ? error
        : new MarketDataError('NETWORK', `${what}: ${errorText(error)}`, {
            fatal: false,
            cause: error,
          });
      if (error instanceof ConfigError || signal.aborted) throw failure;
      // A stream reader never gives up on its own: it says so and tries again.
      onRetry(failure);
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
  onRetry: (error: MarketDataError) => void,
): Promise<Consumer> {
  const filter = filterSubject(spec);
  const what = `cannot open durable consumer ${spec.durable}; retrying`;
  return withApiRetry(
    what,
    signal,
    async () => {
      const existing = await jsm.consumers
        .info(STREAM_NAME, spec.durable)
        .catch((error: unknown) => {
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
    },
    onRetry,
  );
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
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: API_TIMEOUT_MS });
  const js = jetstream(nc, { timeout: API_TIMEOUT_MS });
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
        ? await durableConsumer(jsm, js, { ...spec, durable: spec.durable }, signal, hooks.onRetry)
        : await withApiRetry(
            'cannot open a consumer; retrying',
            signal,
            () =>
              js.consumers.get(STREAM_NAME, {
                filter_subjects: filter,
                ...(lastSeq > 0
                  ? { opt_start_seq: lastSeq + 1 }
                  : spec.fromMs === undefined
                    ? { deliver_policy: DeliverPolicy.New }
                    : { opt_start_time: new Date(spec.fromMs).toISOString() }),
              }),
            hooks.onRetry,
          );
      const opened = await openMessages(consumer, spec, signal);
      messages = opened.messages;
      const watch = watchMessages(nc, opened.messages);
      if (signal.aborted) break;
      hooks.onOpen();
      delayMs = 100;
      const iterator = opened.iterate();
      try {
        for (;;) {
          watch.waiting(true);
          const next = await iterator.next();
          watch.waiting(false);
          if (next.done) break;
          const msg = next.value;
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
      } finally {
        // Runs the durable buffer's nak of what was pulled ahead but never handed out.
        await iterator.return(undefined);
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
