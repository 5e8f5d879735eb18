import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { sleep } from '../core/abort.js';
import { MarketDataError } from '../core/errors.js';
import type { Interval, MarketData } from '../core/types.js';
import { errorText } from './connection.js';
import { API_RETRY_MAX_MS, apiErrorCode, WRONG_LAST_SEQUENCE } from './stream-setup.js';
import { decodeBar, STREAM_NAME } from './subjects.js';

/** What happened to one bar offered to the bus. */
export type PublishOutcome = 'stored' | 'duplicate' | 'skipped';

/** What a lane needs from its collector. */
export interface LaneContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  venue: string;
  interval: Interval;
  signal: AbortSignal;
  publishTimeoutMs: number;
  onRetry(error: MarketDataError): void;
}

const RETRY_INITIAL_MS = 100;

/**
 * One symbol's way onto the bus: bars in order, one at a time, each acknowledged by JetStream
 * before the next. Exactly once, also after the dedup window, without a lock of our own:
 *
 * - the lane knows the subject's last stored bar (time and stream sequence, read with
 *   `last_by_subj`) and offers only newer bars;
 * - each publish carries `Nats-Msg-Id` (a retry or a second collector within the dedup window is
 *   answered `duplicate`) and `Nats-Expected-Last-Subject-Sequence` (a publish racing another
 *   collector, or arriving hours later, is refused with 10071 instead of stored twice); on 10071
 *   the lane rereads the subject and the bar is either newer (offered again) or already stored.
 */
export class PublishLane {
  /** Open time of the newest bar on the subject, when known. */
  lastStoredMs: number | undefined;
  #lastSeq = 0;
  #known = false;

  constructor(
    readonly subject: string,
    readonly symbol: string,
    private readonly context: LaneContext,
  ) {}

  /** Reads the subject's last bar from the stream (retrying while the cluster has no leader). */
  async refresh(): Promise<void> {
    let delayMs = RETRY_INITIAL_MS;
    for (;;) {
      try {
        const last = await this.context.jsm.streams.getMessage(STREAM_NAME, {
          last_by_subj: this.subject,
        });
        if (last === null) {
          this.#lastSeq = 0;
          this.lastStoredMs = undefined;
        } else {
          const bar = decodeBar(last.string());
          this.#lastSeq = last.seq;
          this.lastStoredMs = bar instanceof MarketDataError ? undefined : bar.time.getTime();
        }
        this.#known = true;
        return;
      } catch (error) {
        this.context.onRetry(
          new MarketDataError(
            'NETWORK',
            `cannot read the last bar of ${this.symbol} from ${STREAM_NAME}: ${errorText(error)}; retrying`,
            { fatal: false, cause: error },
          ),
        );
        await sleep(jitter(delayMs), this.context.signal);
        delayMs = Math.min(delayMs * 2, API_RETRY_MAX_MS);
      }
    }
  }

  /** Offers one bar; resolves once it is stored, found stored, or older than what is stored. */
  async offer(bar: MarketData, payload: string, msgID: string): Promise<PublishOutcome> {
    const { js, signal } = this.context;
    let delayMs = RETRY_INITIAL_MS;
    for (;;) {
      if (!this.#known) await this.refresh();
      const openMs = bar.time.getTime();
      if (this.lastStoredMs !== undefined && openMs <= this.lastStoredMs) return 'skipped';
      try {
        const ack = await js.publish(this.subject, payload, {
          msgID,
          expect: { lastSubjectSequence: this.#lastSeq, streamName: STREAM_NAME },
          timeout: this.context.publishTimeoutMs,
        });
        this.#lastSeq = ack.seq;
        this.lastStoredMs = openMs;
        return ack.duplicate ? 'duplicate' : 'stored';
      } catch (error) {
        if (apiErrorCode(error) === WRONG_LAST_SEQUENCE) {
          // Another collector stored a bar of this subject since we last looked.
          this.#known = false;
          continue;
        }
        if (signal.aborted) throw error;
        // No quorum, a leader election (DESIGN §9: 2–3 s of timeouts / no responders) or NATS
        // down: the bar may or may not be stored. Retry the same bar with the same message id;
        // the checks above make a second copy impossible either way.
        this.#known = false;
        this.context.onRetry(
          new MarketDataError(
            'NETWORK',
            `publish of ${this.symbol} ${bar.time.toISOString()} not acknowledged: ${errorText(error)}; retrying`,
            { fatal: false, cause: error },
          ),
        );
        await sleep(jitter(delayMs), signal);
        delayMs = Math.min(delayMs * 2, API_RETRY_MAX_MS);
      }
    }
  }
}

function jitter(delayMs: number): number {
  return delayMs / 2 + Math.random() * (delayMs / 2);
}
