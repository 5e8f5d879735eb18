import { describe, expect, it, onTestFinished } from 'vitest';
import type { MarketDataError } from '../../../src/core/errors.js';
import type { ConnectionStatus, MarketData } from '../../../src/core/types.js';
import { parseBybitFrame } from '../../../src/providers/bybit/frames.js';
import { BybitProvider } from '../../../src/providers/bybit/provider.js';
import type { FrameSink } from '../../../src/stream/adapter.js';
import { startFakeVenue } from '../../helpers/fake-venue.js';

function sink() {
  const bars: MarketData[] = [];
  const errors: MarketDataError[] = [];
  const times: number[] = [];
  const target: FrameSink = {
    bar: (bar) => bars.push(bar),
    exchangeTime: (ms) => times.push(ms),
    error: (error) => errors.push(error),
    dataLost: () => {},
    reconnect: () => {},
  };
  return { bars, errors, times, target };
}

// PROTOCOLS.md §5.3 push, as documented.
const push = (confirm: unknown) =>
  `{"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,"interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608","volume":"2.081","turnover":"34666.4005","confirm":${JSON.stringify(confirm)},"timestamp":1672324988882}],"ts":1672324988882,"type":"snapshot"}`;

describe('parseBybitFrame (PROTOCOLS.md §5.3)', () => {
  it('reports confirm:true as a bar, skips confirm:false, reads ts', () => {
    const s = sink();
    parseBybitFrame(push(false), s.target, '5m');
    expect(s.bars).toEqual([]);
    parseBybitFrame(push(true), s.target, '5m');
    expect(s.bars).toEqual([
      {
        id: 'BTCUSDT-5m-1672324800000',
        symbol: 'BTCUSDT',
        time: new Date(1672324800000),
        open: 16649.5,
        high: 16677,
        low: 16608,
        close: 16677,
        volume: 2.081,
      },
    ]);
    expect(s.times).toEqual([1672324988882, 1672324988882]);
    expect(s.errors).toEqual([]);
  });

  it('hands confirm:false to a forming-bar listener only', () => {
    const s = sink();
    const forming: MarketData[] = [];
    parseBybitFrame(push(false), s.target, '5m', () => (bar) => forming.push(bar));
    expect(forming.map((b) => b.close)).toEqual([16677]);
    expect(s.bars).toEqual([]);
  });

  it('ignores pongs and acks; reports refusals and malformed pushes as non-fatal PROTOCOL', () => {
    const s = sink();
    parseBybitFrame('{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}', s.target, '1m');
    parseBybitFrame(
      '{"success":true,"ret_msg":"subscribe","conn_id":"x","req_id":"1","op":"subscribe"}',
      s.target,
      '1m',
    );
    expect(s.errors).toEqual([]);
    parseBybitFrame('{"success":false,"ret_msg":"Params Error","op":"subscribe"}', s.target, '1m');
    parseBybitFrame('{"topic":"kline.1.BTCUSDT","da', s.target, '1m');
    parseBybitFrame(push('yes'), s.target, '1m');
    parseBybitFrame(push(true).replace('"open":"16649.5"', '"open":"-1"'), s.target, '1m');
    expect(s.errors.map((e) => `${e.code}:${e.fatal}`)).toEqual([
      'PROTOCOL:false',
      'PROTOCOL:false',
      'PROTOCOL:false',
      'PROTOCOL:false',
    ]);
    expect(s.bars).toEqual([]);
  });
});

describe('Bybit heartbeat (PROTOCOLS.md §5.3: the client pings with {"op":"ping"})', () => {
  it('sends {"op":"ping"} every pingIntervalMs, and the pongs keep a quiet socket alive', async () => {
    let pings = 0;
    let resolvePings: () => void = () => {};
    const twelvePings = new Promise<void>((resolve) => {
      resolvePings = resolve;
    });
    const venue = await startFakeVenue({
      http: (url) => {
        if (url.pathname !== '/v5/market/instruments-info') return undefined;
        return {
          status: 200,
          body: JSON.stringify({
            retCode: 0,
            retMsg: 'OK',
            result: { category: 'spot', list: [{ symbol: 'BTCUSDT', status: 'Trading' }] },
            time: Date.now(),
          }),
        };
      },
      reply: (text) => {
        const message = JSON.parse(text) as { op?: string; req_id?: string };
        if (message.op === 'subscribe') {
          return [
            JSON.stringify({
              success: true,
              ret_msg: 'subscribe',
              req_id: message.req_id,
              op: 'subscribe',
            }),
          ];
        }
        if (text === '{"op":"ping"}') {
          pings++;
          if (pings === 12) resolvePings();
          return ['{"success":true,"ret_msg":"pong","conn_id":"c","op":"ping"}'];
        }
        return [];
      },
    });
    onTestFinished(() => venue.close());
    const provider = new BybitProvider({
      symbols: ['BTCUSDT'],
      interval: '1m',
      restBaseUrl: venue.restUrl,
      wsBaseUrl: venue.wsUrl,
      pingIntervalMs: 50,
      // No data at all: 12 pings take 600 ms, past this deadline, so only the pongs keep it up.
      silenceTimeoutMs: 400,
    });
    const statuses: ConnectionStatus[] = [];
    provider.setOnStatusChange((status) => statuses.push(status));
    const ac = new AbortController();
    const errors: string[] = [];
    const run = (async () => {
      for await (const [, err] of provider.stream(ac.signal)) if (err) errors.push(err.code);
    })();
    await Promise.race([
      twelvePings,
      run.then(() => {
        throw new Error('stream ended early');
      }),
    ]);
    ac.abort();
    await run;
    expect(pings).toBeGreaterThanOrEqual(12);
    expect(errors).toEqual([]);
    expect(statuses.filter((s) => s === 'connected')).toHaveLength(1);
    expect(statuses).not.toContain('reconnecting');
  });
});
