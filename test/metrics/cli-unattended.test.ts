import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli, spawnCli } from '../helpers/run-cli.js';
import { collectStderr, expectJsonLines, metricsUrl } from './cli-helpers.js';
import { counterValue, expectPromText } from './prom-text.js';

describe('argo-market simulate --metrics-port --log-format json', () => {
  it('serves argo_sim_* series and /healthz, and logs one JSON object per stderr line', async () => {
    const child = spawnCli([
      'simulate',
      '--speed',
      '60',
      '--metrics-port',
      '0',
      '--log-format',
      'json',
    ]);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const stderr = collectStderr(child);
    const url = await metricsUrl(stderr, child);
    const base = url.replace(/\/metrics$/, '');
    // One REST request to the simulated Binance, then the counter shows it.
    const stdout = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('press Ctrl-C')) resolve(text);
      });
    });
    const restUrl = /binance REST\s+(\S+)/.exec(stdout)?.[1];
    expect(restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${restUrl}/api/v3/time`)).status).toBe(200);
    const text = await (await fetch(url)).text();
    expectPromText(text);
    expect(counterValue(text, 'argo_sim_http_requests', 'venue="binance"')).toBe(1);
    expect(text).toContain('argo_sim_ws_connections_open{venue="polygon"} 0');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    const entries = expectJsonLines(stderr.text);
    expect(entries.find((e) => e.event === 'metrics')).toMatchObject({ level: 'info' });
  });
});

describe('argo-market stream --log-format json', () => {
  it('a fatal auth failure is a JSON error line with its code, and the key is in no line', async () => {
    const key = 'Wr0ngPolygonKey-0123456789';
    const result = await runCli(
      [
        'stream',
        '--provider',
        'polygon',
        '--symbols',
        'AAPL',
        '--interval',
        '1m',
        '--simulate',
        '--api-key',
        key,
        '--log-format',
        'json',
        '--metrics-port',
        '0',
        '--verbose',
      ],
      {},
      20_000,
    );
    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).not.toContain(key);
    const entries = expectJsonLines(result.stderr);
    expect(entries.at(-1)).toMatchObject({ level: 'error', code: 'AUTH_FAILED', venue: 'polygon' });
    expect(entries.some((e) => e.event === 'metrics')).toBe(true);
  });

  it('status lines carry the connection and venue; an unknown --log-format is a usage error', async () => {
    const args = [
      'stream',
      '--provider',
      'binance',
      '--symbols',
      'BTCUSDT',
      '--interval',
      '1m',
      '--simulate',
      '--speed',
      '600',
    ];
    const child = spawnCli([...args, '--log-format', 'json']);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const stderr = collectStderr(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no bar: ${stderr.text}`)), 15_000);
      child.stdout.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    const entries = expectJsonLines(stderr.text);
    expect(entries.find((e) => e.event === 'status' && e.status === 'connected')).toMatchObject({
      level: 'info',
      venue: 'binance',
      connection: expect.stringMatching(/^binance:/),
    });
    expect((await runCli([...args, '--log-format', 'yaml'])).code).toBe(2);
  });
});
