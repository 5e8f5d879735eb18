import { describe, expect, it } from 'vitest';
import { ConnectPacer, sharedConnectPacer } from '../../src/stream/connect-pacer.js';

describe('ConnectPacer', () => {
  it('lets `limit` connect at once, then spaces the rest one window (plus margin) later', () => {
    let now = 1_000_000;
    const pacer = new ConnectPacer(3, 10_000, () => now);
    expect(pacer.marginMs).toBe(200);
    const delays = Array.from({ length: 7 }, () => pacer.reserve());
    expect(delays).toEqual([0, 0, 0, 10_200, 10_200, 10_200, 20_400]);
    // Whatever the reservations, no window of 10 s holds more than 3 slots.
    const slots = delays.map((d) => now + d);
    for (const start of slots) {
      expect(slots.filter((t) => t >= start && t < start + 10_000).length).toBeLessThanOrEqual(3);
    }
    now += 25_000; // the first six slots have aged out of the window
    expect(pacer.reserve()).toBe(0);
    expect(pacer.reserve()).toBe(0);
    expect(pacer.reserve()).toBe(5_600); // three slots in the window: wait for the oldest + 10.2 s
  });

  it('is shared per host and limit across the streams of a process', () => {
    const a = sharedConnectPacer('stream.example:9443', 300, 300_000);
    expect(sharedConnectPacer('stream.example:9443', 300, 300_000)).toBe(a);
    expect(sharedConnectPacer('other.example:9443', 300, 300_000)).not.toBe(a);
    expect(sharedConnectPacer('stream.example:9443', 5, 1000)).not.toBe(a);
  });
});
