import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { listDataset } from '../../src/dataset/read.js';
import { runCli, spawnCli } from '../helpers/run-cli.js';
import { filesUnder, tempDataset } from './helpers.js';

const daysAgo = (days: number) =>
  new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

describe('argo-market sync / ls', () => {
  it('syncs, prints the summary, exits 1 naming the unknown symbol; ls and --json agree', async () => {
    const data = await tempDataset();
    const args = [
      'sync',
      '--provider',
      'binance',
      '--symbols',
      'BTCUSDT,NOPE,ETHUSDT',
      '--interval',
      '1h',
      '--from',
      daysAgo(3),
      '--data',
      data,
      '--simulate',
    ];
    const result = await runCli(args, {}, 30_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('sync failed for 1 of 3 symbols: NOPE (INVALID_SYMBOL)');
    expect(result.stdout).toMatch(/^binance 1h BTCUSDT: \S+ \.\. \S+, \d+ bars, 0 gaps$/m);
    expect(result.stdout).toContain('synced 2/3 symbols');
    // Not a terminal: plain progress lines, no bar drawing.
    expect(result.stderr).toMatch(/^progress \d\/3 symbols, \d+ bars/m);
    const json = await runCli([...args.filter((a) => a !== 'NOPE'), '--json'], {}, 30_000);
    const summary = JSON.parse(json.stdout);
    expect(summary.failed).toEqual(['NOPE']);
    expect(summary.symbols.map((s: { symbol: string }) => s.symbol)).toEqual([
      'BTCUSDT',
      'NOPE',
      'ETHUSDT',
    ]);
    const ls = await runCli(['ls', '--data', data, '--json'], {}, 30_000);
    expect(ls.code).toBe(0);
    const listed = JSON.parse(ls.stdout);
    expect(listed).toEqual(await listDataset(data));
    expect(listed.map((s: { symbol: string }) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    const text = await runCli(['ls', '--data', data], {}, 30_000);
    expect(text.stdout.split('\n').filter((l) => l.startsWith('binance 1h'))).toHaveLength(2);
  }, 60_000);

  it('Ctrl-C stops a sync at once and leaves every month file complete', async () => {
    const data = await tempDataset();
    const child = spawnCli([
      'sync',
      '--provider',
      'binance',
      '--symbols',
      'BTCUSDT,ETHUSDT,LTCUSDT',
      '--interval',
      '1m',
      '--from',
      daysAgo(20),
      '--data',
      data,
      '--simulate',
    ]);
    child.stdin.end();
    let stderr = '';
    const firstProgress = new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (/^progress /m.test(stderr)) resolve();
      });
    });
    const closed = once(child, 'close');
    await firstProgress;
    child.kill('SIGINT');
    const [code] = (await closed) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain('sync stopped; every month file is complete');
    expect((await filesUnder(data)).filter((f) => !f.endsWith('.parquet'))).toEqual([]);
    const series = await listDataset(data);
    expect(series.every((s) => s.problems.length === 0 && s.gaps.length === 0)).toBe(true);
    expect(series.reduce((sum, s) => sum + s.bars, 0)).toBeLessThan(3 * 20 * 1440);
  }, 60_000);
});
