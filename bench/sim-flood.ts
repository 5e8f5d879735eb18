// Messages per second the simulator's Binance WebSocket side pushes to ONE plain `ws` client in
// flood mode. Run alone: `npx tsc -p tsconfig.bench.json && node dist-bench/bench/sim-flood.js`.

import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { startSimulator } from '../src/simulator/index.js';
import type { Bench, BenchRow } from './report.js';

const MEASURE_MS = 3000;

/** Flood `streams` 1m kline streams to one client; returns frames/s and median latency (ms). */
async function floodRate(streams: number): Promise<{ perSec: number; latencyMs: number }> {
  const sim = await startSimulator({
    generatedBinanceSymbols: streams,
    binanceSymbols: [],
    binanceFlood: { barsPerStream: 10_000_000 },
  });
  const names = Array.from(
    { length: streams },
    (_, i) => `sim${String(i).padStart(4, '0')}usdt@kline_1m`,
  );
  const ws = new WebSocket(`${sim.binance.wsUrl}/stream?streams=${names.join('/')}`);
  let count = 0;
  let startedMs = 0;
  const latencies: number[] = [];
  ws.on('message', (data: Buffer) => {
    if (count === 0) startedMs = performance.now();
    count++;
    if (count % 1000 === 0) {
      const frame = JSON.parse(data.toString()) as { data: { E: number } };
      latencies.push(Date.now() - frame.data.E);
    }
  });
  try {
    await once(ws, 'open');
    await new Promise<void>((resolve) => setTimeout(resolve, MEASURE_MS));
    const elapsedMs = performance.now() - startedMs;
    latencies.sort((a, b) => a - b);
    return {
      perSec: (count / elapsedMs) * 1000,
      latencyMs: latencies[Math.floor(latencies.length / 2)] ?? 0,
    };
  } finally {
    ws.terminate();
    await sim.close();
  }
}

/** Flood mode: 10 streams vs 1 stream to one client. */
export const simFlood: Bench = async (): Promise<BenchRow[]> => {
  const one = await floodRate(1);
  const ten = await floodRate(10);
  return [
    {
      name: 'simulator: Binance WS flood',
      workload: `one plain ws client, 10 combined 1m kline streams, ${MEASURE_MS / 1000} s; median E→receive ${ten.latencyMs} ms`,
      value: ten.perSec,
      baseline: '1 stream',
      baselineValue: one.perSec,
      unit: 'msg/s',
      ratio: ten.perSec / one.perSec,
      ratioMeaning: 'higher is better',
    },
  ];
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await simFlood();
  for (const row of rows) {
    process.stdout.write(
      `${row.name}: ${Math.round(row.value)} ${row.unit} (${row.workload}); ${row.baseline}: ${Math.round(row.baselineValue)} ${row.unit}\n`,
    );
  }
}
