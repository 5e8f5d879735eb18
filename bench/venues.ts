// Stream rows of the venues added after Binance and Polygon (issue 20 point 6): each venue's
// closed bars through its provider's `stream()` against a raw `ws` + `JSON.parse` floor on the
// same simulator workload, measured in the same run. `venueBench` runs every row of
// `VENUE_STREAM_ROWS`; a new venue adds one entry.
import { WebSocket } from 'ws';
import { BybitProvider } from '../src/providers/bybit/provider.js';
import type { Bench, BenchRow } from './report.js';
import { type ForkedSimulator, forkSimulator } from './sim-process.js';

/** One venue's stream row: a floor and ours, each given a fresh simulator. */
export interface VenueStreamRow {
  name: string;
  workload: string;
  /** Starts the simulator both measurements use (a fresh one for each). */
  simulator(): Promise<ForkedSimulator>;
  /** Closed bars/s read by a raw client that does the least the answer needs. */
  floor(sim: ForkedSimulator): Promise<number>;
  /** Closed bars/s through our provider's `stream()`. */
  ours(sim: ForkedSimulator): Promise<number>;
}

// Bybit: 50 symbols on one socket, the clock at 30,000×: 500 1m bars per second per topic are
// offered (25,000 bars/s in all), plus the forming pushes and the duplicate confirms.
const BYBIT_SYMBOLS = 50;
const BYBIT_BARS = 100_000;
const BYBIT_SPEED = 30_000;
const bybitSymbols = Array.from(
  { length: BYBIT_SYMBOLS },
  (_, i) => `SIM${String(i).padStart(4, '0')}USDT`,
);

/** The floor: one socket, subscribes of 10, `JSON.parse` per frame, one last start per topic. */
async function bybitFloor(sim: ForkedSimulator): Promise<number> {
  const ws = new WebSocket(`${sim.bybit.wsUrl}/v5/public/spot`, { perMessageDeflate: false });
  const lastStart = new Map<string, number>();
  let count = 0;
  let startedMs = 0;
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => {
      startedMs = performance.now();
      for (let i = 0; i < bybitSymbols.length; i += 10) {
        const args = bybitSymbols.slice(i, i + 10).map((s) => `kline.1.${s}`);
        ws.send(JSON.stringify({ req_id: String(i), op: 'subscribe', args }));
      }
    });
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as {
        topic?: string;
        data?: Array<{ start: number; confirm: boolean }>;
      };
      const bar = frame.data?.[0];
      if (frame.topic === undefined || bar?.confirm !== true) return;
      if ((lastStart.get(frame.topic) ?? -1) >= bar.start) return;
      lastStart.set(frame.topic, bar.start);
      count += 1;
      if (count === BYBIT_BARS) resolve();
    });
    ws.on('error', reject);
  });
  const seconds = (performance.now() - startedMs) / 1000;
  ws.close(1000);
  return count / seconds;
}

/** Ours: closed bars through `BybitProvider.stream()` (validation, subscribes, engine, dedup). */
async function bybitOurs(sim: ForkedSimulator): Promise<number> {
  const provider = new BybitProvider({
    symbols: bybitSymbols,
    interval: '1m',
    restBaseUrl: sim.bybit.restUrl,
    wsBaseUrl: sim.bybit.wsUrl,
  });
  let count = 0;
  let startedMs = 0;
  provider.setOnStatusChange((status) => {
    if (status === 'connected') startedMs = performance.now();
  });
  for await (const [, err] of provider.stream()) {
    if (err) throw err;
    count += 1;
    if (count === BYBIT_BARS) break;
  }
  return count / ((performance.now() - startedMs) / 1000);
}

/** Every venue's stream row (the OKX row joins this list). */
export const VENUE_STREAM_ROWS: VenueStreamRow[] = [
  {
    name: 'venues: Bybit closed bars through stream()',
    workload: `${BYBIT_SYMBOLS} symbols on one socket, clock ${BYBIT_SPEED}x (${(BYBIT_SYMBOLS * BYBIT_SPEED) / 60} 1m bars/s offered, forming pushes and duplicate confirms included), ${BYBIT_BARS} closed bars`,
    simulator: () =>
      forkSimulator({
        seed: 5,
        speed: BYBIT_SPEED,
        start: Date.UTC(2024, 5, 1),
        binanceSymbols: [],
        generatedBinanceSymbols: BYBIT_SYMBOLS,
      }),
    floor: bybitFloor,
    ours: bybitOurs,
  },
];

/** Runs each row: a warm-up floor, the floor, then ours, each on a fresh simulator. */
export const venueBench: Bench = async () => {
  const rows: BenchRow[] = [];
  for (const row of VENUE_STREAM_ROWS) {
    const measure = async (run: (sim: ForkedSimulator) => Promise<number>) => {
      const sim = await row.simulator();
      try {
        return await run(sim);
      } finally {
        await sim.close();
      }
    };
    await measure(row.floor); // warm-up
    const floor = await measure(row.floor);
    const ours = await measure(row.ours);
    rows.push({
      name: row.name,
      workload: row.workload,
      value: ours,
      baseline: 'raw ws + JSON.parse + last start per topic',
      baselineValue: floor,
      unit: 'bars/s',
      ratio: ours / floor,
      ratioMeaning: 'of the floor',
    });
  }
  return rows;
};
