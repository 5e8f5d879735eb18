import { getEventListeners, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../../src/http/request.js';
import { readBinanceErrorBody } from '../../src/providers/binance/protocol.js';

// A real HTTP server on 127.0.0.1 whose routes misbehave on purpose.
const hits = new Map<string, number>();
let base = '';
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const n = (hits.get(path) ?? 0) + 1;
  hits.set(path, n);
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  switch (path) {
    case '/ok':
      return json(
        200,
        { hello: 'world', auth: req.headers.authorization ?? null },
        {
          'X-MBX-USED-WEIGHT-1M': '12',
        },
      );
    case '/flaky':
      return n <= 2 ? json(503, { code: -1008, msg: 'busy' }) : json(200, { n });
    case '/rate':
      return n === 1
        ? json(429, { code: -1003, msg: 'Too much' }, { 'Retry-After': '0' })
        : json(200, { n });
    case '/ban':
      return json(418, { code: -1003, msg: 'Way too much' }, { 'Retry-After': '120' });
    case '/bad-symbol':
      return json(400, { code: -1121, msg: 'Invalid symbol.' });
    case '/unauthorized':
      return json(401, { status: 'ERROR', error: 'Unknown API Key' });
    case '/gateway':
      res.writeHead(502, { 'content-type': 'text/html' });
      return res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    case '/not-json':
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html>maintenance</html>');
    case '/hang':
      return; // never answers
    default:
      return json(404, { msg: 'no route' });
  }
});

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const fast = { timeoutMs: 2000, retry: { initialDelayMs: 5, maxDelayMs: 20, maxRetries: 3 } };

describe('getJson', () => {
  it('returns the parsed body and headers, and sends extra headers (Bearer auth)', async () => {
    const response = await getJson<{ hello: string; auth: string }>(`${base}/ok`, {
      ...fast,
      headers: { Authorization: 'Bearer sekret-key' },
    });
    expect(response.body).toEqual({ hello: 'world', auth: 'Bearer sekret-key' });
    expect(response.headers.get('x-mbx-used-weight-1m')).toBe('12');
  });

  it('retries 5xx with backoff until it succeeds', async () => {
    const response = await getJson<{ n: number }>(`${base}/flaky`, fast);
    expect(response.body.n).toBe(3);
  });

  it('retries a 429 after Retry-After', async () => {
    const response = await getJson<{ n: number }>(`${base}/rate`, fast);
    expect(response.body.n).toBe(2);
  });

  it('stops at once with a fatal IP_BANNED naming the wait on 418', async () => {
    const before = hits.get('/ban') ?? 0;
    await expect(getJson(`${base}/ban`, fast)).rejects.toMatchObject({
      code: 'IP_BANNED',
      fatal: true,
      message: expect.stringContaining('120 s'),
    });
    expect(hits.get('/ban')).toBe(before + 1);
  });

  it('fails at once on 400 with the body message and the provider code', async () => {
    await expect(
      getJson(`${base}/bad-symbol`, { ...fast, readErrorBody: readBinanceErrorBody }),
    ).rejects.toMatchObject({
      code: 'INVALID_SYMBOL',
      fatal: true,
      message: expect.stringContaining('Invalid symbol.'),
    });
    expect(hits.get('/bad-symbol')).toBe(1);
  });

  it('maps 401 to AUTH_FAILED with the error text of the body, and redacts the key', async () => {
    const error = await getJson(`${base}/unauthorized?apiKey=sekret123`, fast).catch((e) => e);
    expect(error).toMatchObject({ code: 'AUTH_FAILED', fatal: true });
    expect(error.message).toContain('Unknown API Key');
    expect(error.message).toContain('apiKey=***');
    expect(error.message).not.toContain('sekret123');
  });

  it('gives up after the retries with a readable message for an HTML 502', async () => {
    await expect(getJson(`${base}/gateway`, fast)).rejects.toMatchObject({
      code: 'HTTP',
      fatal: false,
      message: expect.stringContaining('502 Bad Gateway'),
    });
    expect(hits.get('/gateway')).toBe(4);
  });

  it('reports a non-JSON 200 body as PROTOCOL', async () => {
    await expect(
      getJson(`${base}/not-json`, { ...fast, retry: { maxRetries: 0 } }),
    ).rejects.toMatchObject({ code: 'PROTOCOL' });
  });

  it('times out a hanging request as NETWORK', async () => {
    await expect(
      getJson(`${base}/hang`, { timeoutMs: 100, retry: { maxRetries: 0 } }),
    ).rejects.toMatchObject({ code: 'NETWORK', message: expect.stringContaining('100 ms') });
  });

  it('rejects promptly with ABORTED when the signal aborts', async () => {
    const ac = new AbortController();
    const pending = getJson(`${base}/hang`, { timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const startedMs = Date.now();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - startedMs).toBeLessThan(1000);
  });

  it('leaves nothing on a long-lived signal after its requests (a stream runs for weeks)', async () => {
    const stream = new AbortController();
    for (let i = 0; i < 50; i++) await getJson(`${base}/ok`, { ...fast, signal: stream.signal });
    await getJson(`${base}/flaky`, { ...fast, signal: stream.signal });
    await expect(
      getJson(`${base}/hang`, { timeoutMs: 50, retry: { maxRetries: 0 }, signal: stream.signal }),
    ).rejects.toMatchObject({ code: 'NETWORK' });
    expect(getEventListeners(stream.signal, 'abort')).toHaveLength(0);
    // AbortSignal.any() would park each request's signal here for the life of the stream
    // (nodejs/node#55351); Node internals, so absent counts as empty.
    expect(dependantSignals(stream.signal)).toBe(0);
  });
});

function dependantSignals(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find(
    (symbol) => symbol.description === 'kDependantSignals',
  );
  const set =
    key === undefined ? undefined : (signal as unknown as Record<symbol, { size?: unknown }>)[key];
  // Node's internal SafeSet is not an `instanceof Set` here; its size is what matters.
  return typeof set?.size === 'number' ? set.size : 0;
}
