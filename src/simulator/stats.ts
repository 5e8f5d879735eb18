import { EventEmitter } from 'node:events';
import { MarketDataError } from '../core/errors.js';

/** A simulated exchange. */
export type Venue = 'binance' | 'polygon' | 'bybit' | 'okx';

/** Venues a fault or counter applies to: one, or both when omitted. */
export function venuesOf(venue: Venue | undefined): Venue[] {
  return venue ? [venue] : ['binance', 'polygon', 'bybit', 'okx'];
}

/** Counters tests assert on. `venue` omitted = every venue summed. */
export interface SimStats {
  /** HTTP requests received (including refused and failed ones). */
  httpRequests(venue?: Venue): number;
  /**
   * Requests the venue's own rate limit refused with `status` (Binance weight: 429, then 418
   * for an IP that kept going); injected `failHttp` faults are not counted.
   */
  rateLimitRefusals(status: 429 | 418, venue?: Venue): number;
  /** WebSocket connections accepted since start. */
  wsConnectionsOpened(venue?: Venue): number;
  /** WebSocket upgrades refused by the venue's new-connection limit. */
  wsConnectionsRefused(venue?: Venue): number;
  /** WebSocket connections open now. */
  openConnections(venue?: Venue): number;
  /** Resolves when exactly `count` connections are open; rejects after `timeoutMs` (5000). */
  untilOpenConnections(count: number, venue?: Venue, timeoutMs?: number): Promise<void>;
  /** Resolves when at least `count` connections were opened in total; rejects after `timeoutMs`. */
  untilConnectionsOpened(count: number, venue?: Venue, timeoutMs?: number): Promise<void>;
}

const DEFAULT_WAIT_MS = 5000;

/** {@link SimStats} plus the hooks the venues call. */
export class Stats implements SimStats {
  readonly #http = { binance: 0, polygon: 0, bybit: 0, okx: 0 };
  readonly #opened = { binance: 0, polygon: 0, bybit: 0, okx: 0 };
  readonly #open = { binance: 0, polygon: 0, bybit: 0, okx: 0 };
  readonly #refused = { binance: 0, polygon: 0, bybit: 0, okx: 0 };
  readonly #limited = {
    429: { binance: 0, polygon: 0, bybit: 0, okx: 0 },
    418: { binance: 0, polygon: 0, bybit: 0, okx: 0 },
  };
  readonly #changes = new EventEmitter();

  constructor() {
    this.#changes.setMaxListeners(0);
  }

  countHttp(venue: Venue): void {
    this.#http[venue]++;
  }

  countRateLimitRefusal(venue: Venue, status: 429 | 418): void {
    this.#limited[status][venue]++;
  }

  rateLimitRefusals(status: 429 | 418, venue?: Venue): number {
    return venuesOf(venue).reduce((sum, v) => sum + this.#limited[status][v], 0);
  }

  connectionOpened(venue: Venue): void {
    this.#opened[venue]++;
    this.#open[venue]++;
    this.#changes.emit('change');
  }

  connectionRefused(venue: Venue): void {
    this.#refused[venue]++;
  }

  wsConnectionsRefused(venue?: Venue): number {
    return venuesOf(venue).reduce((sum, v) => sum + this.#refused[v], 0);
  }

  connectionClosed(venue: Venue): void {
    this.#open[venue]--;
    this.#changes.emit('change');
  }

  httpRequests(venue?: Venue): number {
    return venuesOf(venue).reduce((sum, v) => sum + this.#http[v], 0);
  }

  wsConnectionsOpened(venue?: Venue): number {
    return venuesOf(venue).reduce((sum, v) => sum + this.#opened[v], 0);
  }

  openConnections(venue?: Venue): number {
    return venuesOf(venue).reduce((sum, v) => sum + this.#open[v], 0);
  }

  untilOpenConnections(count: number, venue?: Venue, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#until(
      () => this.openConnections(venue) === count,
      `${count} open connection(s) (${venue ?? 'all venues'})`,
      () => this.openConnections(venue),
      timeoutMs,
    );
  }

  untilConnectionsOpened(count: number, venue?: Venue, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#until(
      () => this.wsConnectionsOpened(venue) >= count,
      `${count} connection(s) opened in total (${venue ?? 'all venues'})`,
      () => this.wsConnectionsOpened(venue),
      timeoutMs,
    );
  }

  #until(done: () => boolean, what: string, seen: () => number, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onChange = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.#changes.off('change', onChange);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#changes.off('change', onChange);
        reject(
          new MarketDataError(
            'NETWORK',
            `simulator: waited ${timeoutMs} ms for ${what}; saw ${seen()}`,
            {
              fatal: false,
            },
          ),
        );
      }, timeoutMs);
      this.#changes.on('change', onChange);
    });
  }
}
