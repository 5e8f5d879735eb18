import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import type { StatusDetail } from '../../../src/core/types.js';
import { collectUntil, expectExactly, perSymbol, provider, sim } from './stream-helpers.js';

const TUESDAY_1002_ET = Date.UTC(2024, 2, 5, 15, 2, 30);
const TUESDAY_1555_ET = Date.UTC(2024, 2, 5, 20, 55, 0);
const BOTH = ['AAPL', 'MSFT'];

describe('Polygon stream recovery (issue 14.5, 14.7)', () => {
  it('after max_connections it cools down before connecting (not on an open socket past auth_timeout), then resumes and backfills', async () => {
    // The server ends an unauthenticated socket after 150 ms; the cool-down is 1000 ms.
    const simulator = await sim({ speed: 600, start: TUESDAY_1002_ET, polygonAuthTimeoutMs: 150 });
    const polygon = provider(simulator, BOTH, '1m', { reconnectMaxDelayMs: 1000 });
    const statuses: [string, StatusDetail][] = [];
    polygon.setOnStatusChange((status, detail) => statuses.push([status, detail]));
    let intruder: WebSocket | undefined;
    onTestFinished(() => intruder?.terminate());
    const { bars, errors } = await collectUntil(polygon, perSymbol(BOTH, 14), (_bar, count) => {
      if (count !== 2) return;
      // Another client takes the key's one connection, then leaves.
      intruder = new WebSocket(`${simulator.polygon.wsUrl}/stocks`);
      intruder.on('message', (data) => {
        const text = String(data);
        if (text.includes('"connected"')) {
          intruder?.send(JSON.stringify({ action: 'auth', params: simulator.polygon.apiKey }));
        } else if (text.includes('"auth_success"')) {
          intruder?.terminate();
        }
      });
    });
    const kicked = errors.find((e) => e.code === 'RATE_LIMITED');
    expect(kicked?.fatal).toBe(false);
    expect(kicked?.message).toMatch(/another client authenticated with the same key/);
    expect(errors.every((e) => !e.fatal)).toBe(true);
    // No attempt ran into the server's auth timeout.
    expect(errors.map((e) => e.message).join('\n')).not.toMatch(/auth_timeout/);
    const coolDown = statuses.find(
      ([s, d]) => s === 'reconnecting' && /max_connections/.test(String(d.reason)),
    );
    expect(coolDown?.[1].delayMs).toBe(1000);
    // The ~10 simulated minutes of the cool-down came back over REST, in order, none twice.
    expectExactly(simulator, bars, BOTH, 1, 'minute');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('a corrected re-send of an older minute as the new socket’s first bar does not cut the backfill short', async () => {
    const simulator = await sim({ speed: 600, start: TUESDAY_1002_ET });
    const polygon = provider(simulator, BOTH, '1m');
    const { bars, errors } = await collectUntil(polygon, perSymbol(BOTH, 12), (_bar, count) => {
      if (count !== 4) return;
      // ~3 simulated minutes away; the new socket first gets a re-send from 2 minutes back.
      simulator.faults.refuseConnections(300, 'polygon');
      simulator.faults.dropConnections('polygon');
      simulator.faults.resendLate(2);
    });
    expect(errors.some((e) => e.code === 'DISCONNECTED')).toBe(true);
    expect(errors.every((e) => !e.fatal)).toBe(true);
    expectExactly(simulator, bars, BOTH, 1, 'minute');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('a reconnect into a quiet feed (after the close) still yields the minutes missed, without waiting for a live bar', async () => {
    const simulator = await sim({
      speed: 120,
      start: TUESDAY_1555_ET,
      polygonTickers: ['AAPL'],
      polygonQuietAfterHours: ['AAPL'],
    });
    const polygon = provider(simulator, ['AAPL'], '1m');
    const lastRegularMs = Date.UTC(2024, 2, 5, 20, 59);
    // The last minute with trades before the close, once the venue has closed it.
    const lastTraded = (): number | undefined =>
      simulator.clock.now() < lastRegularMs + 60_000
        ? undefined
        : simulator.market.polygonBars('AAPL', 1, 'minute', TUESDAY_1555_ET, lastRegularMs).at(-1)
            ?.openTimeMs;
    const { bars, errors } = await collectUntil(
      polygon,
      (got) => got.length > 1 && got.at(-1)?.time.getTime() === lastTraded(),
      (_bar, count) => {
        if (count !== 1) return;
        // Away until after 16:00 ET: the minutes before the close can only come from REST,
        // and no live bar follows them.
        simulator.faults.refuseConnections(2600, 'polygon');
        simulator.faults.dropConnections('polygon');
      },
    );
    expect(errors.some((e) => e.code === 'DISCONNECTED')).toBe(true);
    expect(simulator.clock.now()).toBeGreaterThan(lastRegularMs + 60_000);
    expectExactly(simulator, bars, ['AAPL'], 1, 'minute');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });
});
