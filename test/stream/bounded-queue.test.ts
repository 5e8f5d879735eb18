import { describe, expect, it } from 'vitest';
import { BoundedQueue, QUEUE_END } from '../../src/stream/bounded-queue.js';

describe('BoundedQueue', () => {
  it('keeps FIFO order and reports full at capacity', () => {
    const queue = new BoundedQueue<number>(3);
    expect([queue.offer(1), queue.offer(2), queue.offer(3)]).toEqual([true, true, false]);
    expect(queue.length).toBe(3);
    expect([queue.take(), queue.take(), queue.take()]).toEqual([1, 2, 3]);
    expect(queue.peakLength).toBe(3);
  });

  it('calls onDrained once the consumer brings a full queue down to half', () => {
    let drained = 0;
    const queue = new BoundedQueue<number>(4, () => {
      drained += 1;
    });
    for (let i = 0; i < 4; i += 1) queue.offer(i);
    void queue.take();
    expect(drained).toBe(0);
    void queue.take();
    expect(drained).toBe(1);
    void queue.take();
    expect(drained).toBe(1);
  });

  it('hands an item straight to a waiting take', async () => {
    const queue = new BoundedQueue<string>(2);
    const next = queue.take();
    expect(next).toBeInstanceOf(Promise);
    queue.offer('a');
    await expect(next).resolves.toBe('a');
    expect(queue.length).toBe(0);
  });

  it('put waits for room', async () => {
    const queue = new BoundedQueue<number>(1);
    queue.offer(1);
    const ac = new AbortController();
    let stored = false;
    const putting = queue.put(2, ac.signal).then(() => {
      stored = true;
    });
    await Promise.resolve();
    expect(stored).toBe(false);
    expect(queue.take()).toBe(1);
    await putting;
    expect(stored).toBe(true);
    expect(queue.take()).toBe(2);
  });

  it('put rejects with ABORTED when aborted while waiting', async () => {
    const queue = new BoundedQueue<number>(1);
    queue.offer(1);
    const ac = new AbortController();
    const putting = queue.put(2, ac.signal);
    ac.abort();
    await expect(putting).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('end drains what is queued, then returns QUEUE_END', async () => {
    const queue = new BoundedQueue<number>(5);
    queue.offer(7);
    queue.end();
    expect(queue.take()).toBe(7);
    expect(queue.take()).toBe(QUEUE_END);
    const waiting = new BoundedQueue<number>(5);
    const next = waiting.take();
    waiting.end();
    await expect(next).resolves.toBe(QUEUE_END);
  });

  it('compacts its storage while staying FIFO over many items', () => {
    const queue = new BoundedQueue<number>(10_000);
    const out: number[] = [];
    for (let i = 0; i < 5000; i += 1) {
      queue.offer(i);
      queue.offer(i + 0.5);
      out.push(queue.take() as number);
    }
    while (queue.length > 0) out.push(queue.take() as number);
    const expected = Array.from({ length: 5000 }, (_, i) => [i, i + 0.5]).flat();
    expect(out).toEqual(expected);
  });
});
