// Faults on demand (DESIGN.md §6). The venues ask this object before every request, upgrade
// and frame; the connection-level faults act on the live connection registry.

import type { WebSocket } from 'ws';
import { type Venue, venuesOf } from './stats.js';

/** Statuses {@link SimFaults.failHttp} can answer with. */
export type FailStatus = 429 | 418 | 500 | 503;

/** One live WebSocket connection as the fault injector sees it. */
export interface FaultTarget {
  readonly ws: WebSocket;
  /** When true the connection sends nothing (no data, no pings) but stays open. */
  silent: boolean;
  /** Frames still to be replaced by malformed ones. */
  malformedLeft: number;
  /** Binance only: sends `serverShutdown` and closes. */
  shutdown?(): void;
}

/** Faults a test can inject. `venue` omitted = both venues. */
export interface SimFaults {
  /** Terminates every WebSocket connection now (abrupt, no close frame: like a network drop). */
  dropConnections(venue?: Venue): void;
  /**
   * Refuses new WebSocket upgrades (HTTP 503, then the socket is destroyed) for `ms` REAL ms;
   * with `{ http: true }` plain HTTP requests are refused too (socket destroyed, no response).
   */
  refuseConnections(ms: number, venue?: Venue, options?: { http?: boolean }): void;
  /** Existing connections stop sending data and pings, without closing. New ones are normal. */
  goSilent(venue?: Venue): void;
  /**
   * The next `count` data frames to each open client are malformed, cycling through: not JSON,
   * truncated JSON, and valid JSON with wrong field types.
   */
  sendMalformed(count: number, venue?: Venue): void;
  /**
   * The next `count` HTTP requests get `status` with the venue's real body. Binance's 429 and 418
   * carry `Retry-After: retryAfterSec` (default 1). Polygon's 429 carries no `Retry-After` unless
   * `retryAfterSec` is given (PROTOCOLS.md §2.2: the real one is undocumented).
   */
  failHttp(
    count: number,
    status: FailStatus,
    options?: { retryAfterSec?: number; venue?: Venue },
  ): void;
  /** Adds `ms` real ms before every REST response. */
  setRestLatency(ms: number, venue?: Venue): void;
  /** Binance: sends `{"e":"serverShutdown",…}` on every connection, then closes it. */
  serverShutdown(venue?: 'binance'): void;
  /**
   * Polygon: a corrected re-send of an older minute (PROTOCOLS.md §2.3: `AM` events can be re-sent
   * with corrected values up to 15 minutes late). The next connection that completes a
   * subscription (or, if one is subscribed now, every subscribed connection on the next tick)
   * gets one frame of `AM` events for the minute that opened `minutesLate` (1–15) minutes before
   * the current one, with the values REST serves, before any newer `AM` frame.
   */
  resendLate(minutesLate: number, venue?: 'polygon'): void;
  /** Clears every pending fault (refusals, failures, latency). Silenced sockets stay silent. */
  reset(): void;
}

interface VenueFaults {
  refuseUntilMs: number;
  refuseHttp: boolean;
  failures: Array<{ status: FailStatus; retryAfterSec: number | undefined }>;
  latencyMs: number;
}

/** {@link SimFaults} plus the queries the venues make. */
export class Faults implements SimFaults {
  readonly #state: Record<Venue, VenueFaults> = {
    binance: fresh(),
    polygon: fresh(),
    bybit: fresh(),
    okx: fresh(),
  };
  readonly #targets: Record<Venue, Set<FaultTarget>> = {
    binance: new Set(),
    polygon: new Set(),
    bybit: new Set(),
    okx: new Set(),
  };

  register(venue: Venue, target: FaultTarget): void {
    this.#targets[venue].add(target);
  }

  unregister(venue: Venue, target: FaultTarget): void {
    this.#targets[venue].delete(target);
  }

  refusingUpgrades(venue: Venue): boolean {
    return performance.now() < this.#state[venue].refuseUntilMs;
  }

  refusingHttp(venue: Venue): boolean {
    return this.refusingUpgrades(venue) && this.#state[venue].refuseHttp;
  }

  takeHttpFailure(
    venue: Venue,
  ): { status: FailStatus; retryAfterSec: number | undefined } | undefined {
    return this.#state[venue].failures.shift();
  }

  latencyMs(venue: Venue): number {
    return this.#state[venue].latencyMs;
  }

  dropConnections(venue?: Venue): void {
    for (const v of venuesOf(venue)) for (const target of this.#targets[v]) target.ws.terminate();
  }

  refuseConnections(ms: number, venue?: Venue, options: { http?: boolean } = {}): void {
    for (const v of venuesOf(venue)) {
      this.#state[v].refuseUntilMs = performance.now() + ms;
      this.#state[v].refuseHttp = options.http === true;
    }
  }

  goSilent(venue?: Venue): void {
    for (const v of venuesOf(venue)) for (const target of this.#targets[v]) target.silent = true;
  }

  sendMalformed(count: number, venue?: Venue): void {
    for (const v of venuesOf(venue)) {
      for (const target of this.#targets[v]) target.malformedLeft += count;
    }
  }

  failHttp(
    count: number,
    status: FailStatus,
    options: { retryAfterSec?: number; venue?: Venue } = {},
  ): void {
    for (const v of venuesOf(options.venue)) {
      for (let i = 0; i < count; i++) {
        const retryAfterSec = options.retryAfterSec ?? (v === 'binance' ? 1 : undefined);
        this.#state[v].failures.push({ status, retryAfterSec });
      }
    }
  }

  setRestLatency(ms: number, venue?: Venue): void {
    for (const v of venuesOf(venue)) this.#state[v].latencyMs = ms;
  }

  serverShutdown(_venue: 'binance' = 'binance'): void {
    for (const target of [...this.#targets.binance]) target.shutdown?.();
  }

  /** Pending {@link resendLate} requests (minutes late), taken by the Polygon socket. */
  readonly polygonResends: number[] = [];

  resendLate(minutesLate: number, _venue: 'polygon' = 'polygon'): void {
    if (!(Number.isInteger(minutesLate) && minutesLate >= 1 && minutesLate <= 15)) {
      throw new RangeError(`resendLate: minutesLate must be an integer 1-15, got ${minutesLate}`);
    }
    this.polygonResends.push(minutesLate);
  }

  reset(): void {
    this.#state.binance = fresh();
    this.#state.polygon = fresh();
    this.polygonResends.length = 0;
    this.#state.bybit = fresh();
    this.#state.okx = fresh();
  }
}

function fresh(): VenueFaults {
  return { refuseUntilMs: 0, refuseHttp: false, failures: [], latencyMs: 0 };
}

const MALFORMED_KINDS = 3;

/** The malformed replacement for `frame`, the `index`-th one sent on this connection. */
export function malformedFrame(frame: string, index: number, wrongTypes: string): string {
  const kind = index % MALFORMED_KINDS;
  if (kind === 0) return 'not json: <html>502 Bad Gateway</html>';
  if (kind === 1) return frame.slice(0, Math.max(1, Math.floor(frame.length / 2)));
  return wrongTypes;
}
