import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../../src/providers/polygon/frames.js';
import { PolygonHandshake } from '../../../src/providers/polygon/handshake.js';
import {
  MAX_CONNECTIONS_COOL_DOWN_MS,
  maxConnectionsCoolDownMs,
} from '../../../src/providers/polygon/stream.js';

// Frames written from PROTOCOLS.md §2.3.
const AM_GTE =
  '{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000}';
const A_SPCE =
  '{"ev":"A","sym":"SPCE","v":200,"av":8642007,"op":25.66,"vw":25.3981,"o":25.39,"c":25.39,"h":25.39,"l":25.39,"a":25.3714,"z":50,"s":1610144868000,"e":1610144869000}';

describe('parseFrame', () => {
  it('turns a batched AM frame into bars with the window start as time', () => {
    const items = parseFrame(
      `[${AM_GTE},{"ev":"status","status":"success","message":"subscribed to: AM.GTE"}]`,
      'AM',
    );
    expect(items).toEqual([
      {
        kind: 'bar',
        endMs: 1610144700000,
        bar: {
          id: '',
          symbol: 'GTE',
          time: new Date(1610144640000),
          open: 0.4488,
          high: 0.4489,
          low: 0.4486,
          close: 0.4486,
          volume: 4110,
        },
      },
      { kind: 'status', status: 'success', message: 'subscribed to: AM.GTE' },
    ]);
  });

  it('reads A events for 1s and ignores the other aggregate type', () => {
    const items = parseFrame(`[${A_SPCE},${AM_GTE}]`, 'A');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'bar', endMs: 1610144869000 });
  });

  it('reports malformed frames as non-fatal PROTOCOL errors and keeps good events', () => {
    for (const raw of ['{not json', '{"ev":"AM"}', '"text"']) {
      const [item] = parseFrame(raw, 'AM');
      expect(item?.kind).toBe('error');
      if (item?.kind === 'error') {
        expect(item.error.code).toBe('PROTOCOL');
        expect(item.error.fatal).toBe(false);
      }
    }
    const items = parseFrame(`[{"ev":"AM","sym":"X","o":"1"},${AM_GTE}]`, 'AM');
    expect(items.map((i) => i.kind)).toEqual(['error', 'bar']);
  });
});

describe('PolygonHandshake', () => {
  const context = {
    apiKey: 'K3Y-secret',
    ev: 'AM' as const,
    tickers: ['AAPL', 'MSFT'],
    feed: 'realtime' as const,
  };

  it('authenticates after connected, subscribes after auth_success, is ready after one ack per item', () => {
    const handshake = new PolygonHandshake(context);
    expect(handshake.onStatus('connected', 'Connected Successfully')).toEqual({
      action: 'send',
      frame: '{"action":"auth","params":"K3Y-secret"}',
    });
    expect(handshake.onStatus('auth_success', 'authenticated')).toEqual({
      action: 'send',
      frame: '{"action":"subscribe","params":"AM.AAPL,AM.MSFT"}',
    });
    expect(handshake.onStatus('success', 'subscribed to: AM.AAPL')).toEqual({ action: 'none' });
    expect(handshake.ready).toBe(false);
    expect(handshake.onStatus('success', 'subscribed to: AM.MSFT')).toEqual({ action: 'ready' });
    expect(handshake.ready).toBe(true);
  });

  it('accepts the spec’s `success` as the connect status', () => {
    const handshake = new PolygonHandshake(context);
    expect(handshake.onStatus('success', 'Connected Successfully')).toMatchObject({
      action: 'send',
    });
  });

  it('auth_failed is fatal AUTH_FAILED naming the feed, without the key', () => {
    const handshake = new PolygonHandshake({ ...context, feed: 'delayed' });
    handshake.onStatus('connected', '');
    const outcome = handshake.onStatus('auth_failed', 'authentication failed');
    expect(outcome.action).toBe('fail');
    if (outcome.action !== 'fail') return;
    expect(outcome.error.code).toBe('AUTH_FAILED');
    expect(outcome.error.fatal).toBe(true);
    expect(outcome.error.message).toContain('delayed feed');
    expect(outcome.error.message).not.toContain('K3Y-secret');
  });

  it('max_connections is non-fatal and says what to do', () => {
    const outcome = new PolygonHandshake(context).onStatus(
      'max_connections',
      'Maximum number of websocket connections exceeded.',
    );
    expect(outcome.action).toBe('fail');
    if (outcome.action !== 'fail') return;
    expect(outcome.error.fatal).toBe(false);
    expect(outcome.error.message).toMatch(/another client/);
  });

  it('unknown statuses are warnings, not disconnects', () => {
    const outcome = new PolygonHandshake(context).onStatus('brand_new', 'hello');
    expect(outcome.action).toBe('warn');
  });
});

describe('max_connections cool-down', () => {
  it('doubles per consecutive kick, up to the cap', () => {
    expect(maxConnectionsCoolDownMs(1, 60_000)).toBe(MAX_CONNECTIONS_COOL_DOWN_MS);
    expect(maxConnectionsCoolDownMs(2, 60_000)).toBe(2 * MAX_CONNECTIONS_COOL_DOWN_MS);
    expect(maxConnectionsCoolDownMs(10, 30_000)).toBe(30_000);
  });
});
