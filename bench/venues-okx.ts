// `npm run bench -- venues-okx`: OKX closed candles through OkxProvider.stream() against the raw
// floor (one `ws` socket on /ws/v5/business, `JSON.parse` per frame, count `confirm` "1"), on the
// simulator's OKX venue in its own process. The offered rate is the simulator's (1s candles at a
// fast clock), so bars/s shows whether ours keeps up and CPU per bar shows what it costs.
import { once } from 'node:events';
import { createServer } from 'node:net';
import { WebSocket } from 'ws';
import { OkxProvider } from '../src/providers/okx/provider.js';
import type { Bench, BenchRow } from './report.js';
import { forkSimulator } from './sim-process.js';

const INSTRUMENTS = 20;
/** Clock speed 500 with 1s candles: 500 closed bars/s per instrument, 10,000/s in all. */
const SPEED = 500;
const EXPECTED_BARS = 50_000;

const instIds = Array.from(
  { length: INSTRUMENTS },
  (_, i) => `SIM${String(i).padStart(4, '0')}-USDT`,
);

/** A free local port (the forked simulator reports only its Binance URLs). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

async function withSimulator<T>(run: (restUrl: string, wsUrl: string) => Promise<T>): Promise<T> {
  const port = await freePort();
  const sim = await forkSimulator({
    seed: 5,
    speed: SPEED,
    start: Date.UTC(2024, 5, 1),
    binanceSymbols: [],
    generatedBinanceSymbols: INSTRUMENTS,
    okxPort: port,
  });
  try {
    return await run(`http://127.0.0.1:${port}`, `ws://127.0.0.1:${port}`);
  } finally {
    await sim.close();
  }
}

interface Run {
  barsPerSec: number;
  cpuUsPerBar: number;
}

/** The floor: one socket, subscribe, `JSON.parse` per frame, count closed candles. */
async function rawFloor(wsUrl: string): Promise<Run> {
  const ws = new WebSocket(`${wsUrl}/ws/v5/business`, { perMessageDeflate: false });
  await once(ws, 'open');
  let count = 0;
  const startedMs = performance.now();
  const cpu = process.cpuUsage();
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text === 'pong') return;
      const frame = JSON.parse(text) as { data?: string[][] };
      if (frame.data?.[0]?.[8] === '1') count += 1;
      if (count === EXPECTED_BARS) resolve();
    });
    ws.on('error', reject);
    const args = instIds.map((instId) => ({ channel: 'candle1s', instId }));
    ws.send(JSON.stringify({ id: '1', op: 'subscribe', args }));
  });
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - startedMs) / 1000;
  ws.close(1000);
  return { barsPerSec: count / seconds, cpuUsPerBar: (used.user + used.system) / count };
}

/** Ours: closed candles through `OkxProvider.stream()` (validation, engine, dedup, queue). */
async function throughStream(restUrl: string, wsUrl: string): Promise<Run> {
  const provider = new OkxProvider({
    symbols: instIds,
    interval: '1s',
    restBaseUrl: restUrl,
    wsBaseUrl: wsUrl,
  });
  let count = 0;
  let startedMs = 0;
  let cpu = process.cpuUsage();
  provider.setOnStatusChange((status) => {
    if (status !== 'connected') return;
    startedMs = performance.now();
    cpu = process.cpuUsage();
  });
  for await (const [, err] of provider.stream()) {
    if (err) throw err;
    count += 1;
    if (count === EXPECTED_BARS) break;
  }
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - startedMs) / 1000;
  return { barsPerSec: count / seconds, cpuUsPerBar: (used.user + used.system) / count };
}

/** Stream rows for OKX: bars/s and client CPU per closed bar, ours against the raw floor. */
export const okxVenueBench: Bench = async () => {
  await withSimulator((_rest, ws) => rawFloor(ws)); // warm-up
  const floor = await withSimulator((_rest, ws) => rawFloor(ws));
  const ours = await withSimulator((rest, ws) => throughStream(rest, ws));
  const workload = `OKX 1s candles, ${INSTRUMENTS} instruments on one business socket, simulator speed ${SPEED} (offered ${INSTRUMENTS * SPEED} bars/s), ${EXPECTED_BARS} closed bars`;
  const rows: BenchRow[] = [
    {
      name: 'stream: OKX closed bars through stream()',
      workload,
      value: ours.barsPerSec,
      baseline: 'raw ws + JSON.parse',
      baselineValue: floor.barsPerSec,
      unit: 'bars/s',
      ratio: ours.barsPerSec / floor.barsPerSec,
      ratioMeaning: 'of the floor',
    },
    {
      name: 'stream: OKX client CPU per closed bar',
      workload,
      value: ours.cpuUsPerBar,
      baseline: 'raw ws + JSON.parse',
      baselineValue: floor.cpuUsPerBar,
      unit: 'µs CPU',
      ratio: ours.cpuUsPerBar / floor.cpuUsPerBar,
      ratioMeaning: 'x the floor (lower is better)',
    },
  ];
  return rows;
};
