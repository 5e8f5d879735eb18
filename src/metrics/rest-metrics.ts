import type { Registry } from 'prom-client';
import type { RestScheduler, RestSchedulerObserver } from '../http/rest-scheduler.js';
import { counterIn, gaugeIn } from './families.js';

/**
 * The REST counters of `venue` in `registry` as a scheduler observer: requests sent, cost
 * reserved, 429 pauses and 418 bans, fed by a venue host's {@link RestScheduler}.
 */
export function restObserver(registry: Registry, venue: string): RestSchedulerObserver {
  const labels = { venue };
  const requests = counterIn(
    registry,
    'argo_rest_requests_total',
    'REST requests sent to the venue host (each attempt, after the scheduler granted it).',
    ['venue'],
  ).labels(labels);
  const weight = counterIn(
    registry,
    'argo_rest_weight_total',
    'REST cost reserved before sending (Binance request weight; 1 per request elsewhere).',
    ['venue'],
  ).labels(labels);
  const limited = counterIn(
    registry,
    'argo_rest_rate_limited_total',
    'HTTP 429 answers: the host paused for Retry-After.',
    ['venue'],
  ).labels(labels);
  const bans = counterIn(
    registry,
    'argo_rest_bans_total',
    'HTTP 418 answers (IP banned): the host paused until the ban ends.',
    ['venue'],
  ).labels(labels);
  return {
    granted: (cost) => {
      requests.inc();
      weight.inc(cost);
    },
    paused: (reason) => (reason === 'banned' ? bans : limited).inc(),
  };
}

/** Schedulers already observed per registry: a host's scheduler is shared by every provider. */
const observed = new WeakMap<Registry, WeakSet<RestScheduler>>();

/**
 * Measures the REST budget of one venue host in `registry`: requests sent, weight reserved,
 * 429 pauses and 418 bans as counters; weight used in the current window, the venue's limit,
 * requests in flight and the remaining pause as gauges read at scrape. The scheduler is shared
 * by the whole process (the venue counts per IP), so these series are the host's, not one
 * stream's; a second call for the same registry and scheduler does nothing.
 */
export function observeRestScheduler(
  registry: Registry,
  scheduler: RestScheduler,
  venue: string,
): void {
  let schedulers = observed.get(registry);
  if (schedulers === undefined) {
    schedulers = new WeakSet();
    observed.set(registry, schedulers);
  }
  if (schedulers.has(scheduler)) return;
  schedulers.add(scheduler);
  const labels = { venue };
  scheduler.addObserver(restObserver(registry, venue));
  gaugeIn(
    registry,
    'argo_rest_weight_used',
    "Cost counted in the venue's current window (raised by its used-weight headers).",
    ['venue', 'window_seconds'],
    (gauge) => {
      for (const w of scheduler.windows()) {
        const used = scheduler.usedNow(w.windowMs);
        if (used !== undefined) gauge.set({ venue, window_seconds: `${w.windowMs / 1000}` }, used);
      }
    },
  );
  gaugeIn(
    registry,
    'argo_rest_weight_limit',
    "The venue's limit per window (from exchangeInfo where it publishes one).",
    ['venue', 'window_seconds'],
    (gauge) => {
      for (const w of scheduler.windows()) {
        gauge.set({ venue, window_seconds: `${w.windowMs / 1000}` }, w.limit);
      }
    },
  );
  gaugeIn(
    registry,
    'argo_rest_in_flight',
    'REST requests in flight to the venue host.',
    ['venue'],
    (gauge) => gauge.set(labels, scheduler.inFlight),
  );
  gaugeIn(
    registry,
    'argo_rest_pause_seconds',
    'Seconds until REST may be used again after a 429 or 418 (0 when not paused).',
    ['venue'],
    (gauge) => gauge.set(labels, scheduler.pauseState().remainingMs / 1000),
  );
}
