// The running totals of a sync, handed to its progress callback.

import type { SyncProgress } from './sync.js';

/** Sums symbols, bars and expected open times over every symbol of a sync. */
export class ProgressTracker {
  #done = 0;
  #bars = 0;
  #current = 0;
  #total = 0;
  constructor(
    readonly symbolsTotal: number,
    readonly onProgress: ((progress: SyncProgress) => void) | undefined,
  ) {}

  addTotal(n: number): void {
    this.#total += n;
  }
  addCurrent(n: number): void {
    this.#current += n;
    this.#emit('');
  }
  addBars(n: number): void {
    this.#bars += n;
    this.#emit('');
  }
  symbolDone(message: string): void {
    this.#done += 1;
    this.#emit(message);
  }
  #emit(message: string): void {
    try {
      this.onProgress?.({
        symbolsDone: this.#done,
        symbolsTotal: this.symbolsTotal,
        barsWritten: this.#bars,
        current: Math.min(this.#current, this.#total),
        total: this.#total,
        message,
      });
    } catch {
      // A throwing progress callback is the caller's bug; it must not break the sync.
    }
  }
}
