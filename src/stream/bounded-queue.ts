import { abortError } from '../core/abort.js';

/** Returned by {@link BoundedQueue.take} once the queue has ended and is empty. */
export const QUEUE_END: unique symbol = Symbol('queue-end');

/**
 * A FIFO with a fixed capacity between the sockets (producers) and the consumer of a stream.
 *
 * Producers that can pause their source use {@link offer}: it always stores the item (a socket
 * read already decoded it) and returns false once the queue is full, which is the signal to
 * pause reading. Producers that can wait (REST backfill) use {@link put}, which resolves only
 * when there is room. `onDrained` runs when the consumer has taken the queue down to half its
 * capacity, which is when paused sockets resume: hysteresis, so a socket does not flap between
 * pause and resume on every bar.
 */
export class BoundedQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private ended = false;
  private takeWaiter: ((item: T | typeof QUEUE_END) => void) | undefined;
  private readonly roomWaiters: (() => void)[] = [];
  private full = false;
  /** Largest length seen; a test and the bench read it to prove memory stays bounded. */
  peakLength = 0;

  constructor(
    readonly capacity: number,
    private readonly onDrained: () => void = () => {},
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** True while a {@link take} waits for an item. */
  get awaited(): boolean {
    return this.takeWaiter !== undefined;
  }

  /** Store `item`; false when the queue is now full (the producer should pause). */
  offer(item: T): boolean {
    if (this.ended) return true;
    const waiter = this.takeWaiter;
    if (waiter !== undefined) {
      this.takeWaiter = undefined;
      waiter(item);
      return true;
    }
    this.items.push(item);
    const length = this.length;
    if (length > this.peakLength) this.peakLength = length;
    if (length >= this.capacity) {
      this.full = true;
      return false;
    }
    return true;
  }

  /** Store `item` once there is room; rejects with ABORTED when `signal` aborts first. */
  async put(item: T, signal: AbortSignal): Promise<void> {
    while (this.length >= this.capacity && !this.ended) {
      if (signal.aborted) throw abortError(signal);
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.roomWaiters.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    if (signal.aborted) throw abortError(signal);
    this.offer(item);
  }

  /** The next item, waiting when empty; {@link QUEUE_END} after {@link end} once drained. */
  take(): T | typeof QUEUE_END | Promise<T | typeof QUEUE_END> {
    if (this.length > 0) return this.shift();
    if (this.ended) return QUEUE_END;
    return new Promise((resolve) => {
      this.takeWaiter = resolve;
    });
  }

  /** No more items: a waiting or later `take` gets {@link QUEUE_END}; waiting `put`s return. */
  end(): void {
    this.ended = true;
    const waiter = this.takeWaiter;
    this.takeWaiter = undefined;
    if (waiter !== undefined && this.length === 0) waiter(QUEUE_END);
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /** Drop everything queued (used when the stream stops). */
  clear(): void {
    this.items = [];
    this.head = 0;
  }

  private shift(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    const length = this.length;
    if (length < this.capacity) {
      const wake = this.roomWaiters.shift();
      if (wake !== undefined) wake();
    }
    if (this.full && length <= this.capacity >> 1) {
      this.full = false;
      this.onDrained();
    }
    return item;
  }
}
