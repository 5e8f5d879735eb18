import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseServers } from '../../src/bus/connection.js';
import { JetStreamProvider } from '../../src/bus/jetstream-provider.js';
import { barSubject, decodeSymbolToken, encodeSymbolToken } from '../../src/bus/subjects.js';
import { MarketDataError, redactSecrets } from '../../src/core/errors.js';
import { type NatsCluster, startNatsCluster } from '../helpers/nats-cluster.js';
import { runCli } from '../helpers/run-cli.js';

const PASSWORD = 's3cret-Pa55word';
let cluster: NatsCluster;

beforeAll(async () => {
  cluster = await startNatsCluster({ auth: { user: 'argo', pass: PASSWORD } });
}, 30_000);
afterAll(() => cluster?.close());

const withCredentials = (pass: string) =>
  cluster.urls.map((url) => url.replace('nats://', `nats://argo:${pass}@`)).join(',');

it('subjects: reserved characters are percent-encoded; anything that could change a subject is refused', () => {
  expect(barSubject('polygon', '1m', 'BRK.B')).toBe('argo.bars.polygon.1m.BRK%2EB');
  expect(decodeSymbolToken(encodeSymbolToken('BRK.B'))).toBe('BRK.B');
  expect(barSubject('binance', '1m', '币安USDT')).toBe('argo.bars.binance.1m.币安USDT');
  for (const bad of ['BTC*', 'BTC>', 'a b', 'a..b', 'x/y', 'a@b', '%2E', '']) {
    expect(() => barSubject('binance', '1m', bad), bad).toThrow(
      expect.objectContaining({ code: 'INVALID_SYMBOL' }),
    );
  }
  expect(() => barSubject('Bin.ance', '1m', 'BTCUSDT')).toThrow(MarketDataError);
});

it('credentials in servers URLs never reach an error, a status detail or the CLI output', async () => {
  const parsed = parseServers(withCredentials(PASSWORD));
  expect(parsed.urls.join(',')).not.toContain(PASSWORD);
  expect(redactSecrets(`cannot reach nats://argo:${PASSWORD}@h:4222`)).not.toContain(PASSWORD);
  const wrong = 'Wr0ng-pa55word';
  const provider = new JetStreamProvider({
    servers: withCredentials(wrong),
    venue: 'binance',
    symbols: ['BTCUSDT'],
    interval: '1m',
  });
  const details: string[] = [];
  provider.setOnStatusChange((status, detail) =>
    details.push(`${status} ${JSON.stringify(detail)}`),
  );
  const errors: MarketDataError[] = [];
  for await (const [, err] of provider.stream()) {
    if (err) {
      errors.push(err);
      if (err.fatal) break;
    }
  }
  const last = errors.at(-1) as MarketDataError;
  expect(last.code).toBe('AUTH_FAILED');
  expect(last.fatal).toBe(true);
  const seen = [...errors.map((e) => `${e.message} ${String(e.cause)}`), ...details].join('\n');
  expect(seen).not.toContain(wrong);
  const cli = await runCli(
    [
      'stream',
      '--provider',
      'jetstream',
      '--servers',
      withCredentials(wrong),
      '--venue',
      'binance',
      '--symbols',
      'BTCUSDT',
      '--interval',
      '1m',
      '--verbose',
    ],
    {},
    15_000,
  );
  expect(cli.code).toBe(1);
  expect(cli.stderr).toContain('AUTH_FAILED');
  expect(`${cli.stdout}${cli.stderr}`).not.toContain(wrong);
});
