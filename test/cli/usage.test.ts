import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

const DOWNLOAD = ['download', '--provider', 'binance', '--start', '2024-01-01'];

describe('argo-market usage', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(pkg.version);
    }
  });

  it('every subcommand --help shows an example of itself', { timeout: 60_000 }, async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const commands = top.stdout
      .split('Commands:')[1]
      ?.split('\n')
      .map((line) => /^ {2}([a-z][a-z-]*)\b/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined && name !== 'help');
    expect(commands).toEqual(
      expect.arrayContaining(['download', 'stream', 'providers', 'schema', 'simulate']),
    );
    for (const name of commands ?? []) {
      const help = await runCli([name, '--help'], {}, 20_000);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`Examples?:\\n {2}\\$ argo-market ${name}\\b`));
    }
    expect(top.stdout).toMatch(/Examples?:\n {2}\$ argo-market /);
  });

  it('explains the .duckdb store that --out keeps beside the Parquet file', async () => {
    const help = await runCli(['stream', '--help']);
    expect(help.stdout).toContain('.duckdb');
    expect(help.stdout).toMatch(/durable store/);
  });

  it.each([
    [[...DOWNLOAD, '--interval', '1h', '--interval', '1d', '--symbols', 'BTCUSDT'], '--interval'],
    [[...DOWNLOAD, '--interval', '1h', '--ticker', 'BTCUSDT', '--symbols', 'ETHUSDT'], '--symbols'],
    [[...DOWNLOAD, '--interval', '1h', '--ticker', 'A', '--ticker', 'B'], '--ticker'],
    [
      ['stream', '--provider', 'binance', '--symbols', 'A', '--symbols', 'B', '--interval', '1m'],
      'comma-separated',
    ],
    [['stream', '--provider', 'binance', '--provider', 'polygon', '--symbols', 'A'], '--provider'],
    [['simulate', '--port', '1', '--port', '2'], '--port'],
  ])('a single-value flag given twice is a usage error: %j', async (args, mentions) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/given twice|repeats/);
    expect(result.stderr).toContain(mentions);
    expect(result.stdout).toBe('');
  });

  it.each([
    [[...DOWNLOAD, '--interval', '1h'], '--symbols'],
    [[...DOWNLOAD, '--interval', '1h', '--symbols', 'BTCUSDT,bad/one'], 'ticker'],
    [
      [...DOWNLOAD, '--interval', '1h', '--symbols', 'BTCUSDT', '--binance-url', 'nope'],
      '--binance-url',
    ],
    [[...DOWNLOAD, '--interval', '1h', '--symbols', 'BTCUSDT', '--retries', '-1'], '--retries'],
    [
      [
        ...DOWNLOAD,
        '--interval',
        '1h',
        '--symbols',
        'BTCUSDT',
        '--simulate',
        '--binance-url',
        'http://a',
      ],
      'not both',
    ],
  ])('bad download input exits 2 before any request: %j', async (args, mentions) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(mentions);
  });
});
