import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { readParquetBars } from '../../src/writers/parquet-reader.js';
import { runCli } from '../helpers/run-cli.js';

let dir: string;
let sim: Simulator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'argo-cli-dl-'));
  sim = await startSimulator({ seed: 5, speed: 1 });
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

const range = ['--start', '2024-03-01', '--end', '2024-03-02', '--interval', '1h'];

describe('download: several symbols, files you can tell apart', () => {
  it('--symbols downloads one file per symbol, one after another', async () => {
    const data = join(dir, 'multi');
    const result = await runCli(
      [
        'download',
        '--provider',
        'binance',
        '--binance-url',
        sim.binance.restUrl,
        '--symbols',
        'BTCUSDT,ETHUSDT',
        ...range,
        '--data',
        data,
      ],
      {},
      30_000,
    );
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const paths = result.stdout.trim().split('\n');
    expect(paths).toEqual(
      ['BTCUSDT', 'ETHUSDT'].map((s) =>
        join(data, 'simulated', `${s}_2024-03-01_2024-03-02_1_hour.parquet`),
      ),
    );
    for (const [i, symbol] of ['BTCUSDT', 'ETHUSDT'].entries()) {
      const bars = await readParquetBars(paths[i] as string);
      expect(bars.map((b) => b.symbol)).toEqual(new Array(bars.length).fill(symbol));
      expect(bars.length).toBeGreaterThanOrEqual(25);
    }
  });

  it('keeps an existing file and says so; --force replaces it', async () => {
    const data = join(dir, 'force');
    const args = [
      'download',
      '--provider',
      'binance',
      '--binance-url',
      sim.binance.restUrl,
      '--ticker',
      'BNBBTC',
      ...range,
      '--data',
      data,
    ];
    const first = await runCli(args, {}, 30_000);
    expect(first.code).toBe(0);
    const path = first.stdout.trim();
    const before = await stat(path);
    const bytes = await readFile(path);

    const again = await runCli(args, {}, 30_000);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`${path} exists already and was kept`);
    expect(again.stderr).toContain('--force');
    const kept = await stat(path);
    expect(kept.ino).toBe(before.ino);
    expect(await readFile(path)).toEqual(bytes);

    const forced = await runCli([...args, '--force'], {}, 30_000);
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).toBe(path);
    expect((await stat(path)).ino).not.toBe(before.ino); // a new file, renamed into place
    expect(await readdir(join(data, 'simulated'))).toEqual([
      'BNBBTC_2024-03-01_2024-03-02_1_hour.parquet',
    ]);
  });

  it('--simulate never writes where real data of the same name would go', async () => {
    const data = join(dir, 'sim');
    const explicit = await runCli(
      [
        'download',
        '--provider',
        'binance',
        '--simulate',
        '--symbols',
        'BTCUSDT',
        ...range,
        '--data',
        data,
      ],
      {},
      30_000,
    );
    expect(explicit.stdout.trim()).toBe(
      join(data, 'simulated', 'BTCUSDT_2024-03-01_2024-03-02_1_hour.parquet'),
    );
    expect(await readdir(data)).toEqual(['simulated']);
  });

  it('Polygon through --polygon-url and the printed key', async () => {
    const data = join(dir, 'polygon');
    const result = await runCli(
      [
        'download',
        '--provider',
        'polygon',
        '--polygon-url',
        sim.polygon.restUrl,
        '--api-key',
        sim.polygon.apiKey,
        '--symbols',
        'AAPL,MSFT',
        '--start',
        '2024-03-04',
        '--end',
        '2024-03-05',
        '--interval',
        '1h',
        '--data',
        data,
      ],
      {},
      30_000,
    );
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(2);
    expect(`${result.stdout}${result.stderr}`).not.toContain(sim.polygon.apiKey);
  });
});
