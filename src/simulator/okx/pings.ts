// Counts the text `ping`s the OKX socket server receives, so a test can wait for the client's
// heartbeat (PROTOCOLS.md §6.3) as an event rather than a sleep.

import { EventEmitter } from 'node:events';
import { MarketDataError } from '../../core/errors.js';

/** A running count of received pings with a waiter. */
export class PingCounter {
  #count = 0;
  readonly #events = new EventEmitter();

  constructor() {
    this.#events.setMaxListeners(0);
  }

  /** One more ping arrived. */
  add(): void {
    this.#count++;
    this.#events.emit('ping');
  }

  /** Resolves once `count` pings were received in total; rejects after `timeoutMs`. */
  until(count: number, timeoutMs = 5000): Promise<void> {
    if (this.#count >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onPing = (): void => {
        if (this.#count < count) return;
        clearTimeout(deadline);
        this.#events.off('ping', onPing);
        resolve();
      };
      const deadline = setTimeout(() => {
        this.#events.off('ping', onPing);
        reject(
          new MarketDataError(
            'NETWORK',
            `simulator: waited ${timeoutMs} ms for ${count} OKX pings; saw ${this.#count}`,
            { fatal: false },
          ),
        );
      }, timeoutMs);
      this.#events.on('ping', onPing);
    });
  }
}
