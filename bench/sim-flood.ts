// How fast the simulator's Binance flood (precomputed frames, in its own process) pushes frames
// to a reader that only discards bytes: the server's ceiling, which must exceed what the raw
// `ws` + `JSON.parse` client takes, so the stream floor is the client's and not the server's.
// Run alone: `npx tsc -p tsconfig.bench.json && node dist-bench/bench/sim-flood.js`.

import { once } from 'node:events';
import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import type { Bench, BenchRow } from './report.js';
import { type ForkedSimulator, forkSimulator } from './sim-process.js';

/** Symbols and closed bars per symbol of the flood rows (shared with bench/stream.ts). */
export const FLOOD_SYMBOLS = 200;
export const FLOOD_BARS = 1000;
/** Closed bars skipped before a client's clock starts (connect, JIT warm-up). */
export const WARMUP_BARS = 40_000;
const POLL_MS = 50;
const TIMEOUT_MS = 60_000;

export const floodSymbols = Array.from(
  { length: FLOOD_SYMBOLS },
  (_, i) => `SIM${String(i).padStart(4, '0')}USDT`,
);
/** The combined stream path of every flood symbol's 1m klines. */
export const floodPath = (): string =>
  `/stream?streams=${floodSymbols.map((s) => `${s.toLowerCase()}@kline_1m`).join('/')}`;

/** A simulator child flooding `barsPerStream` bars on each of the 200 symbols. */
export function forkFlood(barsPerStream: number, ratePerSec?: number): Promise<ForkedSimulator> {
  return forkSimulator({
    seed: 5,
    speed: 1,
    start: Date.UTC(2024, 5, 1),
    binanceSymbols: [],
    generatedBinanceSymbols: FLOOD_SYMBOLS,
    binanceFlood: { barsPerStream, ...(ratePerSec ? { ratePerSec } : {}) },
  });
}

/**
 * The flood's send rate (frames/s, timed in the child from first write to last completed write)
 * to a plain TCP reader that completes the WebSocket handshake and discards every byte.
 */
export async function floodSendRate(): Promise<number> {
  const sim = await forkFlood(FLOOD_BARS);
  const expected = FLOOD_SYMBOLS * FLOOD_BARS;
  const url = new URL(sim.binance.wsUrl);
  const socket = connect(Number(url.port), url.hostname);
  try {
    await once(socket, 'connect');
    socket.on('data', () => {}); // discard
    socket.write(
      `GET ${floodPath()} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const deadline = performance.now() + TIMEOUT_MS;
    for (;;) {
      const stats = await sim.floodStats();
      if (stats.frames >= expected)
        return stats.frames / ((stats.lastDoneMs - stats.firstSendMs) / 1000);
      if (performance.now() > deadline) throw new Error('flood did not finish within 60 s');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    socket.destroy();
    await sim.close();
  }
}

/**
 * The floor: one `ws` socket, `JSON.parse` per frame, count final klines; closed bars/s from
 * bar WARMUP_BARS to the last. `onFrame` sees each parsed frame (latency rows).
 */
export async function rawClient(
  wsUrl: string,
  expected: number,
  onFrame?: (frame: { ts?: number }) => boolean,
): Promise<number> {
  const ws = new WebSocket(`${wsUrl}${floodPath()}`, { perMessageDeflate: false });
  let count = 0;
  let startedMs = 0;
  let endedMs = 0;
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { data?: { k?: { x?: boolean } }; ts?: number };
      if (frame.data?.k?.x === true) count += 1;
      if (count === WARMUP_BARS) startedMs = performance.now();
      if (onFrame?.(frame) === false || count === expected) {
        endedMs = performance.now();
        resolve();
      }
    });
    ws.on('error', reject);
  });
  ws.close(1000);
  return (count - WARMUP_BARS) / ((endedMs - startedMs) / 1000);
}

/** The flood's send rate to a discarding reader vs what the raw ws + JSON.parse client takes. */
export const simFlood: Bench = async (): Promise<BenchRow[]> => {
  const sendRate = await floodSendRate();
  const sim = await forkFlood(FLOOD_BARS);
  let raw: number;
  try {
    raw = await rawClient(sim.binance.wsUrl, FLOOD_SYMBOLS * FLOOD_BARS);
  } finally {
    await sim.close();
  }
  return [
    {
      name: 'simulator: Binance flood send rate',
      workload: `precomputed frames in a child process, ${FLOOD_SYMBOLS} symbols combined, ${FLOOD_SYMBOLS * FLOOD_BARS} frames to a discarding TCP reader; must exceed the raw client`,
      value: sendRate,
      baseline: 'raw ws + JSON.parse client takes',
      baselineValue: raw,
      unit: 'msg/s',
      ratio: sendRate / raw,
      ratioMeaning: 'x the client (> 1: floor is the client)',
    },
  ];
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await simFlood()) {
    process.stdout.write(
      `${row.name}: ${Math.round(row.value)} ${row.unit}; ${row.baseline}: ${Math.round(row.baselineValue)} ${row.unit}\n`,
    );
  }
}
