import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { readParquetBars } from '../../src/writers/parquet-reader.js';
import {
  CLI_PATH,
  collectStderr,
  runShell,
  spawnCli,
  stopCli,
  untilLines,
} from '../helpers/run-cli.js';

let dir: string;
let sim: Simulator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'argo-cli-lines-'));
  sim = await startSimulator({ seed: 11, speed: 20 });
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

const LINE =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ([A-Z0-9]+): O=(\S+) H=(\S+) L=(\S+) C=(\S+) V=(\S+)$/;

interface Kline {
  openMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
}

/** The venue's own tick size and klines, read over REST as any client would. */
async function tickDecimals(symbol: string): Promise<number> {
  const res = await fetch(`${sim.binance.restUrl}/api/v3/exchangeInfo?symbol=${symbol}`);
  const info = (await res.json()) as {
    symbols: { filters: { filterType: string; tickSize?: string }[] }[];
  };
  const tick = info.symbols[0]?.filters.find((f) => f.filterType === 'PRICE_FILTER')?.tickSize;
  return (tick ?? '').split('.')[1]?.replace(/0+$/, '').length ?? -1;
}

async function kline(symbol: string, openMs: number): Promise<Kline> {
  const url = `${sim.binance.restUrl}/api/v3/klines?symbol=${symbol}&interval=1s&startTime=${openMs}&limit=1`;
  const [row] = (await (await fetch(url)).json()) as [number, string, string, string, string][];
  if (!row) throw new Error(`no kline for ${symbol} at ${openMs}`);
  return { openMs: row[0], open: row[1], high: row[2], low: row[3], close: row[4] };
}

describe('stream lines a trader can read', () => {
  it("prints the bar's open time (ISO 8601 UTC) and prices at the symbol's tick size", async () => {
    const child = spawnCli([
      'stream',
      '--provider',
      'binance',
      '--binance-url',
      sim.binance.restUrl,
      '--symbols',
      'BTCUSDT,BNBBTC',
      '--interval',
      '1s',
    ]);
    const lines = await untilLines(child, 6);
    expect(await stopCli(child, 'SIGINT')).toBe(0);
    const bnbDecimals = await tickDecimals('BNBBTC');
    expect(bnbDecimals).toBeGreaterThan(2); // the point of the issue: 0.01 hides everything
    for (const line of lines) {
      const match = LINE.exec(line);
      expect(match, line).not.toBeNull();
      const [, time, symbol, open, high, low, close] = match as unknown as string[];
      const decimals = await tickDecimals(symbol as string);
      for (const price of [open, high, low, close]) {
        expect(price?.split('.')[1]?.length ?? 0, line).toBe(decimals);
      }
      // The very bar the venue serves for that open time, at its precision.
      const bar = await kline(symbol as string, Date.parse(time as string));
      expect(bar.openMs).toBe(Date.parse(time as string));
      expect([open, high, low, close]).toEqual(
        [bar.open, bar.high, bar.low, bar.close].map((p) => Number(p).toFixed(decimals)),
      );
    }
    expect(lines.filter((l) => l.includes(' BNBBTC: O=')).length).toBeGreaterThan(0);
  });

  it('--json lines are unchanged: symbol, ISO time, numbers', async () => {
    const child = spawnCli([
      'stream',
      '--provider',
      'binance',
      '--binance-url',
      sim.binance.restUrl,
      '--symbols',
      'BNBBTC',
      '--interval',
      '1s',
      '--json',
    ]);
    const [line] = await untilLines(child, 1);
    expect(await stopCli(child, 'SIGINT')).toBe(0);
    const bar = JSON.parse(line as string);
    expect(Object.keys(bar)).toEqual(['symbol', 'time', 'open', 'high', 'low', 'close', 'volume']);
    const venue = await kline('BNBBTC', Date.parse(bar.time));
    expect(bar.open).toBe(Number(venue.open));
  });
});

describe('pipes and signals stop the stream as Ctrl-C does', () => {
  it('`| head -3`: no EPIPE trace, exit 0, --out finalized with every bar', async () => {
    const out = join(dir, 'head');
    const result = await runShell(
      `'${process.execPath}' '${CLI_PATH}' stream --provider binance --binance-url ${sim.binance.restUrl} --symbols BTCUSDT --interval 1s --out '${out}' | head -3`,
    );
    expect(result.stderr).not.toMatch(/EPIPE.*\n\s+at |Error: write|node:internal/);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('stdout closed');
    expect(result.stderr).toMatch(/status: disconnected .*stream stopped/);
    const printed = result.stdout.trim().split('\n');
    expect(printed).toHaveLength(3);
    const stored = await readParquetBars(join(out, 'simulated', 'stream_data_binance_1s.parquet'));
    // Every bar the stream yielded is in the Parquet file, not only in the store's WAL.
    expect(stored.length).toBeGreaterThanOrEqual(3);
    const storedTimes = stored.map((b) => `${b.time.toISOString().replace('.000Z', 'Z')}`);
    for (const line of printed) expect(storedTimes).toContain(line.split(' ')[0]);
    expect(result.stderr).toContain(`saved ${join(out, 'simulated')}`);
  });

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)(
    '%s closes the sockets, finalizes --out and exits 0',
    async (signal) => {
      const out = join(dir, signal);
      const child = spawnCli([
        'stream',
        '--provider',
        'binance',
        '--binance-url',
        sim.binance.restUrl,
        '--symbols',
        'ETHUSDT',
        '--interval',
        '1s',
        '--out',
        out,
      ]);
      const stderr = collectStderr(child);
      const lines = await untilLines(child, 2);
      expect(await stopCli(child, signal)).toBe(0);
      expect(stderr.text).toContain(`received ${signal}, stopping`);
      expect(stderr.text).toMatch(/status: disconnected .*stream stopped/);
      const stored = await readParquetBars(
        join(out, 'simulated', 'stream_data_binance_1s.parquet'),
      );
      expect(stored.length).toBeGreaterThanOrEqual(lines.length);
      await sim.stats.untilOpenConnections(0, 'binance');
    },
  );
});
