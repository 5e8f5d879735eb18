import type { Registry } from 'prom-client';
import type { SimClock } from '../simulator/clock.js';
import type { SimStats, Venue } from '../simulator/stats.js';
import { gaugeIn } from './families.js';

const VENUES: readonly Venue[] = ['binance', 'polygon', 'bybit', 'okx'];

/**
 * The simulator's counters as `argo_sim_*` series (read at scrape): HTTP requests, rate-limit
 * refusals, WebSocket connections opened, refused and open per venue, and the simulated clock.
 * Totals are gauges fed from the simulator's own counters (they reset when it restarts).
 */
export function observeSimulator(registry: Registry, stats: SimStats, clock: SimClock): void {
  const perVenue = (name: string, help: string, read: (venue: Venue) => number) =>
    gaugeIn(registry, name, help, ['venue'], (gauge) => {
      for (const venue of VENUES) gauge.set({ venue }, read(venue));
    });
  perVenue('argo_sim_http_requests', 'HTTP requests the simulated venue received.', (v) =>
    stats.httpRequests(v),
  );
  gaugeIn(
    registry,
    'argo_sim_rate_limit_refusals',
    "Requests refused by the simulated venue's own rate limit (429, then 418).",
    ['venue', 'status'],
    (gauge) => {
      for (const venue of VENUES) {
        for (const status of [429, 418] as const) {
          gauge.set({ venue, status: `${status}` }, stats.rateLimitRefusals(status, venue));
        }
      }
    },
  );
  perVenue('argo_sim_ws_connections_opened', 'WebSocket connections accepted since start.', (v) =>
    stats.wsConnectionsOpened(v),
  );
  perVenue(
    'argo_sim_ws_connections_refused',
    'WebSocket upgrades refused (connection limit).',
    (v) => stats.wsConnectionsRefused(v),
  );
  perVenue('argo_sim_ws_connections_open', 'WebSocket connections open now.', (v) =>
    stats.openConnections(v),
  );
  gaugeIn(
    registry,
    'argo_sim_clock_seconds',
    "The simulated venues' clock (Unix seconds; runs at --speed).",
    [],
    (gauge) => gauge.set(clock.now() / 1000),
  );
}
