import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { MarketDataError } from '../../src/core/errors.js';
import type { ConnectionStatus, MarketData, StreamResult } from '../../src/core/types.js';
import type { FrameSink, StreamAdapter } from '../../src/stream/adapter.js';
import { StreamEngine } from '../../src/stream/engine.js';
import type { EngineOptions } from '../../src/stream/engine-options.js';

// A tiny exchange on 127.0.0.1 that speaks a made-up frame format, so the engine is tested
// on real sockets without any exchange's protocol: `{"E": exchangeMs, "bars": [[sym, t]]}`.
// Bar k of a symbol opens at k * 1000 and closes when the exchange time passes (k + 1) * 1000.
const STEP = 1000;

interface TestExchange {
  url: string;
  sockets: Set<WebSocket>;
  connectionsOpened: number;
  published: number;
  publish(count?: number): void;
  sendRaw(text: string): void;
  /** Server frames for `texts` in ONE socket write, so the client reads them in one read. */
  sendBurst(texts: string[]): void;
  dropAll(): void;
  silent: boolean;
  untilConnections(opened: number): Promise<void>;
  untilOpen(n: number): Promise<void>;
  close(): Promise<void>;
}

async function startExchange(): Promise<TestExchange> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const symbolsOf = new Map<WebSocket, string[]>();
  const exchange: TestExchange = {
    url: `ws://127.0.0.1:${port}`,
    sockets: new Set(),
    connectionsOpened: 0,
    published: 0,
    silent: false,
    publish(count = 1) {
      for (let i = 0; i < count; i += 1) {
        const k = exchange.published;
        exchange.published += 1;
        if (exchange.silent) continue;
        for (const socket of exchange.sockets) {
          const bars = (symbolsOf.get(socket) ?? []).map((s) => [s, k * STEP]);
          socket.send(JSON.stringify({ E: (k + 1) * STEP, bars }));
        }
      }
    },
    sendRaw(text) {
      for (const socket of exchange.sockets) socket.send(text);
    },
    sendBurst(texts) {
      // RFC 6455 §5.2: FIN + text opcode, unmasked (server to client), 7- or 16-bit length.
      const frames = texts.map((text) => {
        const payload = Buffer.from(text);
        const header =
          payload.length < 126
            ? Buffer.from([0x81, payload.length])
            : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
        return Buffer.concat([header, payload]);
      });
      for (const socket of exchange.sockets) {
        (socket as unknown as { _socket: Socket })._socket.write(Buffer.concat(frames));
      }
    },
    dropAll() {
      for (const socket of exchange.sockets) socket.terminate();
    },
    async untilConnections(opened) {
      while (exchange.connectionsOpened < opened) await once(server, 'connection');
    },
    async untilOpen(n) {
      while (exchange.sockets.size !== n) await once(server, 'change');
    },
    close: async () => {
      for (const socket of exchange.sockets) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket, request) => {
    exchange.connectionsOpened += 1;
    symbolsOf.set(socket, (request.url ?? '/').slice(1).split(',').filter(Boolean));
    exchange.sockets.add(socket);
    socket.on('close', () => {
      exchange.sockets.delete(socket);
      server.emit('change');
    });
    server.emit('change');
  });
  return exchange;
}

const bar = (symbol: string, openMs: number): MarketData => ({
  id: `${symbol}-${openMs}`,
  symbol,
  time: new Date(openMs),
  open: openMs,
  high: openMs + 1,
  low: openMs - 1,
  close: openMs + 0.5,
  volume: 1,
});

function testAdapter(
  exchange: TestExchange,
  symbols: string[][],
  hooks: Partial<StreamAdapter> = {},
) {
  const backfillCalls: [string, number][] = [];
  const adapter: StreamAdapter = {
    venue: 'test',
    livenessFromData: true,
    nextOpenMs: (openMs) => openMs + STEP,
    connections: () =>
      symbols.map((group) => ({
        id: `test:${group.join(',')}`,
        url: `${exchange.url}/${group.join(',')}`,
        symbols: group,
      })),
    parse(frame: string, sink: FrameSink) {
      let message: { E: number; bars: [string, number][] };
      try {
        message = JSON.parse(frame);
      } catch (error) {
        sink.error(new MarketDataError('PROTOCOL', 'not JSON', { fatal: false, cause: error }));
        return;
      }
      sink.exchangeTime(message.E);
      for (const [symbol, openMs] of message.bars) sink.bar(bar(symbol, openMs));
    },
    async backfill(symbol, afterOpenMs) {
      backfillCalls.push([symbol, afterOpenMs]);
      const out: MarketData[] = [];
      for (let t = afterOpenMs + STEP; t < exchange.published * STEP; t += STEP)
        out.push(bar(symbol, t));
      return out;
    },
    ...hooks,
  };
  return { adapter, backfillCalls, bar };
}

const FAST: EngineOptions = {
  reconnectInitialDelayMs: 10,
  reconnectMaxDelayMs: 50,
  silenceTimeoutMs: 5000,
  pingIntervalMs: 1000,
  bufferSize: 1024,
  connectTimeoutMs: 2000,
};

async function setup(
  symbols: string[][],
  options: Partial<EngineOptions> = {},
  hooks: Partial<StreamAdapter> = {},
) {
  const exchange = await startExchange();
  onTestFinished(() => exchange.close());
  const { adapter, backfillCalls } = testAdapter(exchange, symbols, hooks);
  const statuses: [ConnectionStatus, string][] = [];
  const engine = new StreamEngine(adapter, {
    ...FAST,
    ...options,
    onStatus: () => (status, detail) => statuses.push([status, detail.connection]),
  });
  return { exchange, engine, backfillCalls, statuses };
}

function openTimes(results: StreamResult[], symbol: string): number[] {
  return results.flatMap(([bar]) => (bar?.symbol === symbol ? [bar.time.getTime() / STEP] : []));
}

/** A promise and the function that resolves it: a test's "this has happened" event. */
function signalled(): [Promise<void>, () => void] {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return [promise, resolve];
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('StreamEngine on real sockets', () => {
  it('yields bars in order and closes every socket on break', async () => {
    const { exchange, engine, statuses } = await setup([['A'], ['B']]);
    const results: StreamResult[] = [];
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(2);
    exchange.publish(3);
    results.push((await first).value as StreamResult);
    for await (const result of stream) {
      results.push(result);
      if (results.length === 6) break;
    }
    expect(openTimes(results, 'A')).toEqual([0, 1, 2]);
    expect(openTimes(results, 'B')).toEqual([0, 1, 2]);
    await exchange.untilOpen(0);
    expect(
      statuses
        .filter(([s]) => s === 'disconnected')
        .map(([, c]) => c)
        .sort(),
    ).toEqual(['test:A', 'test:B']);
  });

  it('a final lost while a backfill runs is fetched before the held bars after it', async () => {
    const [heldSix, sawSix] = signalled();
    const backfillAfter: number[] = [];
    const { exchange, engine } = await setup(
      [['A']],
      {},
      {
        parse(frame: string, sink: FrameSink) {
          const message = JSON.parse(frame) as { E: number; bars: [string, number][] };
          sink.exchangeTime(message.E);
          for (const [symbol, openMs] of message.bars) {
            sink.bar(bar(symbol, openMs));
            if (openMs === 6 * STEP) sawSix();
          }
        },
        async backfill(symbol, afterOpenMs) {
          backfillAfter.push(afterOpenMs / STEP);
          if (backfillAfter.length === 1) {
            // REST answered before bar 5 closed; bar 5's final is then lost on the socket.
            await heldSix;
            return [bar(symbol, 3 * STEP)];
          }
          return range(afterOpenMs / STEP + 1, 5).map((k) => bar(symbol, k * STEP));
        },
      },
    );
    const results: StreamResult[] = [];
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(1);
    exchange.publish(3);
    results.push((await first).value as StreamResult);
    let sentGaps = false;
    for await (const result of stream) {
      results.push(result);
      if (!sentGaps && openTimes(results, 'A').length === 3) {
        sentGaps = true;
        exchange.sendRaw(JSON.stringify({ E: 5 * STEP, bars: [['A', 4 * STEP]] }));
        exchange.sendRaw(JSON.stringify({ E: 7 * STEP, bars: [['A', 6 * STEP]] }));
      }
      if (openTimes(results, 'A').length === 7) break;
    }
    expect(openTimes(results, 'A')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(backfillAfter).toEqual([2, 4]);
  });

  it('backfills across drops, with no bar missing or repeated', async () => {
    const { exchange, engine, backfillCalls } = await setup([['A', 'B']]);
    const results: StreamResult[] = [];
    const errors: string[] = [];
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(1);
    exchange.publish(3);
    results.push((await first).value as StreamResult);
    for await (const result of stream) {
      if (result[1]) {
        errors.push(result[1].code);
        expect(result[1].fatal).toBe(false);
        continue;
      }
      results.push(result);
      const a = openTimes(results, 'A');
      if (results.length === 6 && exchange.connectionsOpened === 1) {
        exchange.dropAll();
        exchange.publish(4); // bars 3..6 close while we are away
        await exchange.untilConnections(2);
        exchange.publish(2);
      }
      if (a.at(-1) === 8 && openTimes(results, 'B').at(-1) === 8) break;
    }
    expect(openTimes(results, 'A')).toEqual(range(0, 8));
    expect(openTimes(results, 'B')).toEqual(range(0, 8));
    expect(errors).toEqual(['DISCONNECTED']);
    expect(backfillCalls.map(([s]) => s).sort()).toEqual(['A', 'B']);
    await exchange.untilOpen(0);
  });

  it('tells onBackfill where each backfill starts and ends, in the consumer’s order', async () => {
    const log: string[] = [];
    const { exchange, engine } = await setup(
      [['A', 'B']],
      {},
      {
        onBackfill: (symbol, phase) => log.push(`${symbol}:${phase}`),
      },
    );
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(1);
    exchange.publish(3);
    const head = (await first).value as StreamResult;
    log.push(`${head[0]?.symbol}${(head[0]?.time.getTime() ?? 0) / STEP}`);
    let bars = 1;
    for await (const [bar, err] of stream) {
      if (err) {
        log.push(err.code);
        continue;
      }
      log.push(`${bar.symbol}${bar.time.getTime() / STEP}`);
      bars += 1;
      if (bars === 6 && exchange.connectionsOpened === 1) {
        exchange.dropAll();
        exchange.publish(4); // bars 3..6 close while we are away
        await exchange.untilConnections(2);
        exchange.publish(2);
      }
      if (log.includes('A8') && log.includes('B8')) {
        // A done mark follows its symbol's last recovered bar: later bars pull it through.
        if (log.includes('A:done') && log.includes('B:done')) break;
        exchange.publish(1);
      }
    }
    for (const symbol of ['A', 'B']) {
      const started = log.indexOf(`${symbol}:started`);
      const done = log.indexOf(`${symbol}:done`);
      expect(log.filter((item) => item.startsWith(`${symbol}:`))).toEqual([
        `${symbol}:started`,
        `${symbol}:done`,
      ]);
      // Marks sit in the consumer's sequence: after the drop, around every recovered bar.
      expect(started).toBeGreaterThan(log.indexOf('DISCONNECTED'));
      expect(started).toBeLessThan(log.indexOf(`${symbol}3`));
      expect(done).toBeGreaterThan(log.indexOf(`${symbol}6`));
    }
    await exchange.untilOpen(0);
  });

  it('reports a malformed frame as non-fatal PROTOCOL and goes on', async () => {
    const { exchange, engine } = await setup([['A']]);
    const seen: string[] = [];
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(1);
    exchange.sendRaw('{"E": 1, "bars": [');
    exchange.publish(1);
    const firstResult = (await first).value as StreamResult;
    seen.push(firstResult[1]?.code ?? 'bar');
    for await (const [bar, err] of stream) {
      seen.push(err ? `${err.code}:${err.fatal}` : `bar${bar.time.getTime()}`);
      break;
    }
    expect(seen).toEqual(['PROTOCOL', 'bar0']);
  });

  it('ends with the fatal error a handshake throws', async () => {
    const { engine } = await setup(
      [['A']],
      {},
      {
        handshake: async () => {
          throw new MarketDataError('AUTH_FAILED', 'bad key', { fatal: true });
        },
      },
    );
    const results: StreamResult[] = [];
    for await (const result of engine.run()) results.push(result);
    expect(results.map(([, err]) => err?.code)).toEqual(['AUTH_FAILED']);
  });

  it('gives up with RECONNECT_EXHAUSTED after the attempt budget', async () => {
    const { exchange, engine, statuses } = await setup([['A']], { maxReconnectAttempts: 2 });
    await exchange.close();
    const codes: string[] = [];
    for await (const [, err] of engine.run()) codes.push(`${err?.code}:${err?.fatal}`);
    expect(codes).toEqual(['RECONNECT_EXHAUSTED:true']);
    expect(statuses.filter(([s]) => s === 'reconnecting')).toHaveLength(2);
  });

  it('treats a silent socket as dead and reconnects', async () => {
    const { exchange, engine } = await setup([['A']], {
      silenceTimeoutMs: 150,
      pingIntervalMs: 50,
    });
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(1);
    exchange.publish(1);
    expect(((await first).value as StreamResult)[0]?.time.getTime()).toBe(0);
    // Nothing is sent now: the engine must drop the socket and open another one.
    const next = stream.next();
    await exchange.untilConnections(2);
    expect(((await next).value as StreamResult)[1]?.code).toBe('DISCONNECTED');
    await stream.return(undefined);
    await exchange.untilOpen(0);
  });

  it('rotates an old connection (new socket first) without losing or repeating a bar', async () => {
    const { exchange, engine, backfillCalls } = await setup([['A']], {
      maxConnectionAgeMs: 5 * STEP,
    });
    const results: StreamResult[] = [];
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(1);
    exchange.publish(1);
    results.push((await first).value as StreamResult);
    exchange.publish(1);
    for await (const result of stream) {
      expect(result[1]).toBeUndefined();
      results.push(result);
      if (results.length === 20) break;
      // Publish one bar at a time: during a rotation both sockets carry it, once it is over only one.
      exchange.publish(1);
    }
    expect(openTimes(results, 'A')).toEqual(range(0, 19));
    expect(exchange.connectionsOpened).toBeGreaterThanOrEqual(3);
    // Each rotation starts the new socket with a backfill, like a reconnect.
    expect(backfillCalls.length).toBe(exchange.connectionsOpened - 1);
    await exchange.untilOpen(0);
  });

  it('a reconnect while held bars are released is backfilled before the new socket’s bars', async () => {
    // An exchange that skips no-trade bars (Polygon) gives the engine no way to see a gap in
    // the held bars, so the REST pass must come first. Bars 13 and 14 close while the second
    // socket is down and the consumer is slow; bar 15 arrives on the third socket.
    const [gateOpen, gate] = signalled();
    const seen = new Map<number, () => void>();
    const parsed = (k: number) => new Promise<void>((resolve) => seen.set(k, resolve));
    const sawTwelve = parsed(12);
    const sawFifteen = parsed(15);
    const backfillAfter: number[] = [];
    const [firstBackfill, backfillAsked] = signalled();
    const { exchange, engine } = await setup(
      [['A']],
      { bufferSize: 2 },
      {
        nextOpenMs: undefined,
        parse(frame: string, sink: FrameSink) {
          const message = JSON.parse(frame) as { E: number; bars: [string, number][] };
          sink.exchangeTime(message.E);
          for (const [symbol, openMs] of message.bars) {
            sink.bar(bar(symbol, openMs));
            seen.get(openMs / STEP)?.();
          }
        },
        async backfill(symbol, afterOpenMs) {
          backfillAfter.push(afterOpenMs / STEP);
          const closed = exchange.published; // REST answers with what had closed when asked
          if (backfillAfter.length === 1) {
            backfillAsked();
            await gateOpen;
          }
          return range(afterOpenMs / STEP + 1, closed - 1).map((k) => bar(symbol, k * STEP));
        },
      },
    );
    const stream = engine.run();
    const next = async (): Promise<StreamResult> => (await stream.next()).value as StreamResult;
    const results: StreamResult[] = [];
    const first = next();
    await exchange.untilOpen(1);
    exchange.publish(3);
    results.push(await first, await next(), await next());
    exchange.dropAll();
    await firstBackfill;
    exchange.publish(10); // bars 3..12 arrive live while the backfill is out: all held
    await sawTwelve;
    gate(); // the REST answer predates them; their release blocks on the full queue
    exchange.dropAll();
    exchange.publish(2); // bars 13 and 14 close while nobody listens
    await exchange.untilConnections(3);
    exchange.publish(1);
    await sawFifteen;
    while (openTimes(results, 'A').at(-1) !== 15) results.push(await next());
    await stream.return(undefined);
    expect(openTimes(results, 'A')).toEqual(range(0, 15));
    expect(backfillAfter.slice(0, 2)).toEqual([2, 12]);
  });

  it('hands over the first bar of a burst before parsing the rest, and parses the rest unasked', async () => {
    let parsed = 0;
    const { exchange, engine } = await setup(
      [['A']],
      {},
      {
        parse(frame: string, sink: FrameSink) {
          parsed += 1;
          const message = JSON.parse(frame) as { E: number; bars: [string, number][] };
          sink.exchangeTime(message.E);
          for (const [symbol, openMs] of message.bars) sink.bar(bar(symbol, openMs));
        },
      },
    );
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(1);
    // 200 closed bars in one socket read, like Binance closing every symbol's bar at once.
    const burst = range(0, 199).map((k) =>
      JSON.stringify({ E: (k + 1) * STEP, bars: [['A', k * STEP]] }),
    );
    exchange.sendBurst(burst);
    const got = [((await first).value as StreamResult)[0]?.time.getTime()];
    // The consumer ran after one parse, not after 200 (the old engine parsed the whole read).
    expect(parsed).toBe(1);
    // Frames the consumer did not ask for are parsed within a turn of the event loop anyway.
    while (parsed < 200) await new Promise((resolve) => setImmediate(resolve));
    for await (const [b] of stream) {
      got.push(b?.time.getTime());
      if (got.length === 200) break;
    }
    expect(got).toEqual(range(0, 199).map((k) => k * STEP));
  });

  it('pauses the socket for a slow consumer and keeps the queue bounded', async () => {
    const { exchange, engine } = await setup([['A']], { bufferSize: 8 });
    const stream = engine.run();
    const first = stream.next();
    await exchange.untilOpen(1);
    exchange.publish(1);
    const got = [((await first).value as StreamResult)[0]?.time.getTime()];
    exchange.publish(300);
    // Wait (bounded by the test timeout) until the engine has paused the socket.
    while (engine.paused.size === 0) await new Promise((resolve) => setImmediate(resolve));
    for await (const [bar] of stream) {
      got.push(bar?.time.getTime());
      if (got.length === 301) break;
    }
    expect(got).toEqual(range(0, 300).map((k) => k * STEP));
    expect(engine.pauseCount).toBeGreaterThan(0);
    // Bars already decoded from one socket read are kept; everything else waits in TCP buffers.
    expect(engine.queue.peakLength).toBeLessThan(8 + 300);
  });
});
