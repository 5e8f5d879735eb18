import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPort,
  runCli,
  spawnCli,
  stopCli,
  untilLines,
  untilStderr,
} from '../helpers/run-cli.js';

let dir: string;
let downUrl: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'argo-cli-outage-'));
  downUrl = `http://127.0.0.1:${await closedPort()}`;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NEXT_TRY = /in \d+\.\d s \(at \d\d:\d\d:\d\dZ\)/;

describe('offline and outage behaviour you can see', () => {
  it('a download says each retry and when the next is, then gives up with the count', async () => {
    const data = join(dir, 'down');
    const result = await runCli(
      [
        'download',
        '--provider',
        'binance',
        '--binance-url',
        downUrl,
        '--symbols',
        'BTCUSDT',
        '--start',
        '2024-03-01',
        '--interval',
        '1h',
        '--data',
        data,
        '--retries',
        '2',
      ],
      {},
      30_000,
    );
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    const retries = lines.filter((l) => l.startsWith('retry '));
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/^retry 1\/2 of a Binance request in /);
    expect(retries[1]).toMatch(/^retry 2\/2 of a Binance request in /);
    for (const line of retries) {
      expect(line).toMatch(NEXT_TRY);
      expect(line).toContain('ECONNREFUSED');
    }
    expect(lines.at(-1)).toMatch(
      /^error \[NETWORK\]: GET .*exchangeInfo.* failed: .*; gave up after 2 retries in \d+\.\d s$/,
    );
    // No file at all (a failed download leaves nothing behind).
    const left = await readdir(data, { recursive: true }).catch(() => []);
    expect(left.filter((f) => String(f).endsWith('.parquet'))).toEqual([]);
  });

  it('a Binance stream says it retries its setup, how often and when', async () => {
    const child = spawnCli([
      'stream',
      '--provider',
      'binance',
      '--binance-url',
      downUrl,
      '--symbols',
      'BTCUSDT',
      '--interval',
      '1m',
      '--retries',
      '0',
    ]);
    const stderr = await untilStderr(child, /reconnecting binance:setup attempt 2,/);
    expect(await stopCli(child, 'SIGINT')).toBe(0);
    expect(stderr).toMatch(
      /status: reconnecting binance:setup attempt 1, next try in \d+\.\d s \(at \d\d:\d\d:\d\dZ\): GET .*ECONNREFUSED.*keeps retrying/,
    );
  });

  it('a Polygon stream says why it reconnects without --verbose', async () => {
    const child = spawnCli([
      'stream',
      '--provider',
      'polygon',
      '--polygon-url',
      downUrl,
      '--api-key',
      'k-3b1f',
      '--symbols',
      'AAPL',
      '--interval',
      '1m',
    ]);
    const stderr = await untilStderr(child, /attempt 2,/);
    expect(await stopCli(child, 'SIGTERM')).toBe(0);
    expect(stderr).toMatch(
      /status: reconnecting polygon:\S+ \[AAPL\] attempt 1, next try in \d+\.\d s \(at \d\d:\d\d:\d\dZ\): .*ECONNREFUSED/,
    );
    expect(stderr).not.toContain('k-3b1f');
  });
});

describe('simulate prints URLs the CLI takes', () => {
  it('runs the printed stream command against the printed URL', async () => {
    const simulate = spawnCli(['simulate', '--speed', '60']);
    const lines = await untilLines(simulate, 8);
    const command = lines.find((l) => l.includes('--binance-url'))?.trim();
    expect(command).toMatch(/^argo-market stream --provider binance --binance-url http:\/\/127/);
    const stream = spawnCli((command ?? '').split(/\s+/).slice(1));
    const [bar] = await untilLines(stream, 1, 20_000);
    expect(bar).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z BTCUSDT: O=\d+\.\d{2} /);
    expect(await stopCli(stream, 'SIGINT')).toBe(0);
    expect(await stopCli(simulate, 'SIGINT')).toBe(0);
  });
});
