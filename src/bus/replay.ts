import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { abortError, sleep } from '../core/abort.js';
import { MarketDataError } from '../core/errors.js';
import type { Interval, MarketData } from '../core/types.js';
import { errorText } from './connection.js';
import { API_RETRY_MAX_MS } from './stream-setup.js';
import { barSubject, decodeBar, STREAM_NAME } from './subjects.js';

/** One symbol's range to replay. */
export interface ReplaySpec {
  venue: string;
  interval: Interval;
  symbol: string;
  startMs: number;
  endMs: number;
}

async function retried<T>(what: string, signal: AbortSignal | undefined, run: () => Promise<T>) {
  let delayMs = 100;
  const giveUpAtMs = Date.now() + 30_000;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (signal?.aborted) throw abortError(signal, error);
      if (Date.now() >= giveUpAtMs) {
        throw new MarketDataError('NETWORK', `${what}: ${errorText(error)}`, {
          fatal: true,
          cause: error,
        });
      }
      await sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, API_RETRY_MAX_MS);
    }
  }
}

/**
 * Calls `onBar` for each stored bar of the spec's subject whose open time is in
 * `[startMs, endMs]`, in order, with progress in messages read of the consumer's pending count.
 * It reads with an ordered consumer from `startMs` by stream time (a bar is stored only after it
 * opened, so none in range is before it) and stops at `endMs` or the subject's last message.
 */
export async function replayRange(
  nc: NatsConnection,
  spec: ReplaySpec,
  signal: AbortSignal | undefined,
  onBar: (bar: MarketData, current: number, total: number) => Promise<void>,
): Promise<void> {
  const subject = barSubject(spec.venue, spec.interval, spec.symbol);
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const last = await retried(`cannot read ${STREAM_NAME}`, signal, () =>
    jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subject }),
  );
  if (last === null) return;
  const js = jetstream(nc);
  const consumer = await retried('cannot open a replay consumer', signal, () =>
    js.consumers.get(STREAM_NAME, {
      filter_subjects: subject,
      opt_start_time: new Date(spec.startMs).toISOString(),
    }),
  );
  const total = (await consumer.info(true)).num_pending;
  if (total === 0) return;
  const messages = await consumer.consume({ max_messages: 1000, expires: 2000 });
  const stop = () => messages.stop();
  signal?.addEventListener('abort', stop, { once: true });
  let current = 0;
  let lastOpenMs = Number.NEGATIVE_INFINITY;
  try {
    for await (const msg of messages) {
      current++;
      const bar = decodeBar(msg.string());
      if (!(bar instanceof MarketDataError)) {
        const openMs = bar.time.getTime();
        if (openMs > spec.endMs) break;
        if (openMs >= spec.startMs && openMs > lastOpenMs) {
          lastOpenMs = openMs;
          await onBar(bar, Math.min(current, total), total);
        }
      }
      if (msg.seq >= last.seq) break;
    }
    if (signal?.aborted) throw abortError(signal);
  } finally {
    signal?.removeEventListener('abort', stop);
    messages.stop();
    await consumer.delete().catch(() => {});
  }
}
