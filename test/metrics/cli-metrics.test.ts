import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnCli } from '../helpers/run-cli.js';

describe('argo-market stream --metrics-port', () => {
  it('prints the metrics URL on stderr and serves argo_ series and /healthz', async () => {
    const child = spawnCli([
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
      '--metrics-port',
      '0',
    ]);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`no metrics line: ${stderr}`)), 15_000);
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const match = /metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/.exec(stderr);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    // Wait for two bars on stdout, then scrape.
    await new Promise<void>((resolve, reject) => {
      let lines = 0;
      const timer = setTimeout(() => reject(new Error('no bars')), 15_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        lines += chunk.split('\n').length - 1;
        if (lines >= 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const text = await (await fetch(url)).text();
    expect(text).toMatch(/argo_bars_total\{venue="binance",interval="1m",symbol="BTCUSDT"\} [1-9]/);
    const health = await fetch(url.replace(/metrics$/, 'healthz'));
    expect(health.status).toBe(200);
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
  });
});
