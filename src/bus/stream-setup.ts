import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { sleep } from '../core/abort.js';
import { ConfigError, MarketDataError } from '../core/errors.js';
import { errorText } from './connection.js';
import { STREAM_NAME, STREAM_SUBJECTS } from './subjects.js';

/** Replica counts a bar stream may have: one node, or a three-node RAFT group. */
export type Replicas = 1 | 3;

/** JetStream API error code of a failed `Nats-Expected-Last-Subject-Sequence` check. */
export const WRONG_LAST_SEQUENCE = 10071;
/** JetStream API error code: stream not found. */
export const STREAM_NOT_FOUND = 10059;

/** Our choice: retries of the cluster API while a leader is elected (DESIGN §9: 2–3 s). */
export const API_RETRY_INITIAL_MS = 100;
export const API_RETRY_MAX_MS = 1000;

/** The ARGO_BARS config we create: every bar kept, one copy each, no rollup or delete. */
export function barStreamConfig(replicas: Replicas): Partial<StreamConfig> & { name: string } {
  return {
    name: STREAM_NAME,
    subjects: [STREAM_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: -1,
    // A rollup header would let any publisher erase a subject's history.
    allow_rollup_hdrs: false,
    deny_delete: true,
  };
}

/** JetStream's API error code of `error`, when it is one. */
export function apiErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'number') return code;
  const apiCode = (error as { api_error?: { err_code?: unknown } })?.api_error?.err_code;
  return typeof apiCode === 'number' ? apiCode : undefined;
}

/**
 * Creates ARGO_BARS, or checks the one that exists: its subjects must cover `argo.bars.>`,
 * rollups must be off, and when `replicas` is given it must match. Retries while the cluster
 * has no leader (timeouts, no responders), up to `deadlineMs`.
 */
export async function ensureBarStream(
  jsm: JetStreamManager,
  replicas: Replicas | undefined,
  signal: AbortSignal,
  deadlineMs = 30_000,
): Promise<void> {
  const giveUpAtMs = Date.now() + deadlineMs;
  let delayMs = API_RETRY_INITIAL_MS;
  for (;;) {
    try {
      const info = await jsm.streams.info(STREAM_NAME).catch((error: unknown) => {
        if (apiErrorCode(error) === STREAM_NOT_FOUND) return undefined;
        throw error;
      });
      if (info === undefined) {
        await jsm.streams.add(barStreamConfig(replicas ?? 1));
        return;
      }
      checkExisting(info.config, replicas);
      return;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      if (Date.now() >= giveUpAtMs || signal.aborted) {
        throw new MarketDataError(
          'NETWORK',
          `cannot create or check stream ${STREAM_NAME}: ${errorText(error)}; does the cluster have JetStream and a quorum?`,
          { fatal: false, cause: error },
        );
      }
      await sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, API_RETRY_MAX_MS);
    }
  }
}

function checkExisting(config: StreamConfig, replicas: Replicas | undefined): void {
  if (!config.subjects?.includes(STREAM_SUBJECTS)) {
    throw new ConfigError(
      'stream',
      `stream ${STREAM_NAME} exists with subjects ${JSON.stringify(config.subjects)}, not ${STREAM_SUBJECTS}; fix or delete it`,
    );
  }
  if (config.allow_rollup_hdrs) {
    throw new ConfigError(
      'stream',
      `stream ${STREAM_NAME} allows rollup headers, which could erase stored bars; set allow_rollup_hdrs false`,
    );
  }
  if (replicas !== undefined && config.num_replicas !== replicas) {
    throw new ConfigError(
      'replicas',
      `stream ${STREAM_NAME} has ${config.num_replicas} replica(s), asked for ${replicas}; use --replicas ${config.num_replicas} or edit the stream`,
    );
  }
}
