import { channel } from 'node:diagnostics_channel';
import { abortError, linkedAbort, sleep } from '../core/abort.js';
import { type ErrorCode, MarketDataError, redactUrl } from '../core/errors.js';
import { backoffDelayMs } from '../stream/backoff.js';
import type { RestScheduler } from './rest-scheduler.js';

/**
 * Which failures are retried and how long to wait, as data (like undici's RetryHandler).
 * Everything else is permanent: 400/401/403/404 fail at once, 418 is an IP ban.
 */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Statuses retried with backoff (429 is retried too, after `Retry-After`). */
  retryStatuses: ReadonlySet<number>;
  /** A `Retry-After` longer than this is not waited out: the request fails with RATE_LIMITED. */
  maxRetryAfterMs: number;
}

/** Default policy: 5 retries, 0.5–30 s full-jitter backoff, 5xx retried, `Retry-After` ≤ 2 min. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 5,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  retryStatuses: new Set([500, 502, 503, 504]),
  maxRetryAfterMs: 120_000,
};

/**
 * Every retry of a REST request is published on this `node:diagnostics_channel` as a
 * {@link RequestRetryEvent}, so a CLI or a log can say what is retried, how often and when the
 * next try is. Publishing costs nothing while nobody subscribes.
 */
export const REQUEST_RETRY_CHANNEL = 'argo-market-data:request-retry';

/** One retry about to wait: `attempt` of `maxRetries`, the next try `delayMs` from now. */
export interface RequestRetryEvent {
  service: string;
  /** The request, redacted (no key). */
  url: string;
  attempt: number;
  maxRetries: number;
  delayMs: number;
  error: MarketDataError;
}

const retryChannel = channel(REQUEST_RETRY_CHANNEL);

/** What a provider makes of an error body: the exchange's message and, optionally, our code. */
export interface ErrorBodyInfo {
  message: string;
  /** Overrides the code chosen from the status (e.g. Binance -1121 → INVALID_SYMBOL). */
  code?: ErrorCode;
}

/** Reads a provider's error body; return undefined to fall back to the generic reader. */
export type ErrorBodyReader = (status: number, bodyText: string) => ErrorBodyInfo | undefined;

/**
 * Paces the requests that share it (e.g. every window of one download). `WeightBudget` is one;
 * a provider without weight headers can supply its own.
 */
export interface RequestGate {
  /** How long to wait before the next attempt starts (called once per attempt). */
  delayMs(): number;
  /** Every response's headers. */
  observe?(headers: Headers): void;
  /**
   * A 429 arrived (`retryAfterMs` from `Retry-After`, when present): later `delayMs` answers can
   * hold back every request sharing the gate, not just the one that was refused.
   */
  onRateLimited?(retryAfterMs: number | undefined): void;
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Deadline of one attempt (connect + body). */
  timeoutMs: number;
  /** Extra headers, e.g. `Authorization: Bearer …` (never put a key in the URL). */
  headers?: Record<string, string>;
  retry?: Partial<RetryPolicy>;
  /** Provider-specific error body reader (Binance `{code,msg}`, Polygon `{error|message}`). */
  readErrorBody?: ErrorBodyReader;
  /** Rate-limit budget: waited on before each attempt, fed with every response and 429. */
  budget?: RequestGate;
  /** Name of the service for messages, e.g. `Binance`. */
  service?: string;
  /**
   * The host's shared scheduler: each attempt first acquires `cost` from it (reserved before
   * sending), every response's headers go to `observe`, a 429 pauses it for `Retry-After` and a
   * 418 for the ban, so every other request to the host waits too.
   */
  scheduled?: ScheduledRequest;
}

/** How a request uses its host's {@link RestScheduler}. */
export interface ScheduledRequest {
  scheduler: RestScheduler;
  /** The request's cost (Binance weight; 1 for venues that count requests). */
  cost: number;
  /** Reads the venue's usage headers into the scheduler (e.g. `X-MBX-USED-WEIGHT-1M`). */
  observe?(scheduler: RestScheduler, headers: Headers): void;
  /**
   * A 429 arrived (`retryAfterMs` from `Retry-After`, when present): the venue's own reaction,
   * e.g. Polygon pauses and then paces the host. Without it the scheduler pauses for
   * `Retry-After` (one second when absent).
   */
  onRateLimited?(scheduler: RestScheduler, retryAfterMs: number | undefined): void;
}

/** Our choice: pause after a 429 without `Retry-After` (one second), and after a 418 without it. */
const RATE_LIMIT_PAUSE_MS = 1000;
/** PROTOCOLS.md §1.3: bans start at 2 minutes. */
const BAN_PAUSE_MS = 120_000;

/** A parsed JSON response. */
export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * GET `url` and parse JSON, with a per-attempt timeout, the caller's `signal`, and the retry
 * policy: network errors, timeouts and 5xx retry with full-jitter backoff; 429 waits
 * `Retry-After` seconds (capped) and retries; 418 fails at once with `IP_BANNED` naming the
 * wait; 401/403 fail with `AUTH_FAILED`; other 4xx fail with `HTTP` and the body's message.
 * Every wait is `sleep(ms, signal)`, so an abort is prompt. Errors are MarketDataErrors whose
 * messages carry the URL through `redactUrl`.
 */
export async function getJson<T>(
  url: string | URL,
  options: RequestOptions,
): Promise<JsonResponse<T>> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const printable = redactUrl(url);
  const service = options.service ?? 'server';
  let attempt = 0;
  const startedMs = Date.now();
  while (true) {
    if (options.signal?.aborted) throw abortError(options.signal);
    if (options.budget !== undefined) {
      const waitMs = options.budget.delayMs();
      if (waitMs > 0) await sleep(waitMs, options.signal);
    }
    const result = await scheduledAttempt<T>(url, options, printable, service);
    if (result.ok) return result.response;
    const failure = result.error;
    if (failure.code === 'RATE_LIMITED') {
      options.budget?.onRateLimited?.(result.retryAfterMs);
      const scheduled = options.scheduled;
      if (scheduled?.onRateLimited !== undefined) {
        scheduled.onRateLimited(scheduled.scheduler, result.retryAfterMs);
      } else {
        scheduled?.scheduler.pause(result.retryAfterMs ?? RATE_LIMIT_PAUSE_MS, 'rate-limited');
      }
    }
    if (failure.code === 'IP_BANNED') {
      options.scheduled?.scheduler.pause(result.retryAfterMs ?? BAN_PAUSE_MS, 'banned');
    }
    if (failure.fatal || !result.retryable) throw failure;
    if (attempt >= policy.maxRetries) throw gaveUp(failure, attempt, startedMs);
    attempt += 1;
    if (result.retryAfterMs !== undefined && result.retryAfterMs > policy.maxRetryAfterMs) {
      throw failure;
    }
    const retryDelayMs =
      result.retryAfterMs ?? backoffDelayMs(attempt, policy.initialDelayMs, policy.maxDelayMs);
    if (retryChannel.hasSubscribers) {
      const event: RequestRetryEvent = {
        service,
        url: printable,
        attempt,
        maxRetries: policy.maxRetries,
        delayMs: retryDelayMs,
        error: failure,
      };
      retryChannel.publish(event);
    }
    // With a scheduler, the 429's pause holds every request to the host; the acquire waits it.
    await sleep(retryDelayMs, options.signal);
  }
}

/** The last failure, saying how many retries were spent and over how long. */
function gaveUp(failure: MarketDataError, retries: number, startedMs: number): MarketDataError {
  if (retries === 0) return failure;
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  return new MarketDataError(
    failure.code,
    `${failure.message}; gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'} in ${seconds} s`,
    { fatal: failure.fatal, cause: failure.cause },
  );
}

/** One attempt, holding a permit of the host's scheduler (when there is one) while it runs. */
async function scheduledAttempt<T>(
  url: string | URL,
  options: RequestOptions,
  printable: string,
  service: string,
): Promise<Attempt<T>> {
  const scheduled = options.scheduled;
  if (scheduled === undefined) return attemptOnce<T>(url, options, printable, service);
  const permit = await scheduled.scheduler.acquire(scheduled.cost, options.signal);
  const sentAt = performance.now();
  let answered = false;
  try {
    const result = await attemptOnce<T>(url, options, printable, service, (headers) => {
      answered = true;
      scheduled.observe?.(scheduled.scheduler, headers);
    });
    return result;
  } finally {
    permit.release(answered ? performance.now() - sentAt : undefined);
  }
}

type Attempt<T> =
  | { ok: true; response: JsonResponse<T> }
  | { ok: false; error: MarketDataError; retryable: boolean; retryAfterMs?: number };

async function attemptOnce<T>(
  url: string | URL,
  options: RequestOptions,
  printable: string,
  service: string,
  onHeaders?: (headers: Headers) => void,
): Promise<Attempt<T>> {
  const link = linkedAbort(options.signal);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    link.abort();
  }, options.timeoutMs);
  const signal = link.signal;
  try {
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json', ...options.headers },
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal, error);
      const reason = timedOut
        ? `no response within ${options.timeoutMs} ms`
        : describeNetworkError(error);
      return {
        ok: false,
        retryable: true,
        error: new MarketDataError('NETWORK', `GET ${printable} failed: ${reason}`, {
          fatal: false,
          cause: error,
        }),
      };
    }
    options.budget?.observe?.(response.headers);
    onHeaders?.(response.headers);
    if (response.ok) {
      try {
        return {
          ok: true,
          response: { status: response.status, headers: response.headers, body: JSON.parse(text) },
        };
      } catch (error) {
        return {
          ok: false,
          retryable: true,
          error: new MarketDataError(
            'PROTOCOL',
            `GET ${printable}: ${service} answered ${response.status} with a body that is not JSON: ${snippet(text)}`,
            { fatal: false, cause: error },
          ),
        };
      }
    }
    return classifyFailure(response, text, printable, service, options.readErrorBody);
  } finally {
    clearTimeout(timer);
    link.release();
  }
}

function classifyFailure<T>(
  response: Response,
  text: string,
  printable: string,
  service: string,
  readErrorBody: ErrorBodyReader | undefined,
): Attempt<T> {
  const status = response.status;
  const info = readErrorBody?.(status, text) ?? genericErrorBody(text);
  const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'));
  const where = `GET ${printable}`;
  if (status === 418) {
    const wait =
      retryAfterMs === undefined
        ? 'an unknown time'
        : `${retryAfterMs / 1000} s (until ${new Date(Date.now() + retryAfterMs).toISOString()})`;
    return {
      ok: false,
      retryable: false,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      error: new MarketDataError(
        'IP_BANNED',
        `${where}: HTTP 418, this IP is banned by ${service} for ${wait} after ignoring rate limits (${info.message}); stop all requests and retry after the ban`,
        { fatal: true },
      ),
    };
  }
  if (status === 429) {
    const wait = retryAfterMs === undefined ? '' : `; Retry-After ${retryAfterMs / 1000} s`;
    return {
      ok: false,
      retryable: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      error: new MarketDataError(
        'RATE_LIMITED',
        `${where}: HTTP 429 rate limited by ${service}${wait} (${info.message}); slow down or retry later`,
        { fatal: false },
      ),
    };
  }
  if (status >= 500 || status === 408) {
    return {
      ok: false,
      retryable: true,
      error: new MarketDataError(
        'HTTP',
        `${where}: HTTP ${status} from ${service} (${info.message})`,
        {
          fatal: false,
        },
      ),
    };
  }
  const code: ErrorCode = info.code ?? (status === 401 || status === 403 ? 'AUTH_FAILED' : 'HTTP');
  return {
    ok: false,
    retryable: false,
    error: new MarketDataError(code, `${where}: HTTP ${status} from ${service}: ${info.message}`, {
      fatal: true,
    }),
  };
}

/** `{msg}`, `{message}`, `{error}` (string) or a short text snippet (HTML gateway pages). */
export function genericErrorBody(text: string): ErrorBodyInfo {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null) {
      const record = body as Record<string, unknown>;
      for (const key of ['msg', 'message', 'error']) {
        const value = record[key];
        if (typeof value === 'string' && value.length > 0) return { message: value };
      }
    }
  } catch {
    // Not JSON: fall through to a snippet.
  }
  return { message: snippet(text) || 'empty body' };
}

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const dateMs = Date.parse(value);
  return Number.isFinite(dateMs) ? Math.max(0, dateMs - nowMs) : undefined;
}

function snippet(text: string): string {
  const plain = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > 200 ? `${plain.slice(0, 200)}…` : plain;
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause instanceof Error && cause.message) return `${error.message} (${cause.message})`;
    return error.message;
  }
  return String(error);
}
