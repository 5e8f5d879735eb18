import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MarketDataError } from '../core/errors.js';
import type { HealthReport } from './health.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  registry: Registry;
  /** The /healthz body; ok=false answers 503. Undefined: always 200. */
  health?: () => HealthReport;
  /** Default 127.0.0.1: metrics stay local unless asked otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

/** A running /metrics + /healthz server. */
export interface MetricsServer {
  /** `http://HOST:PORT/metrics`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format from `registry`) and `GET /healthz` (200/503 with a
 * JSON summary) so Prometheus and a health check can watch an unattended process.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        () => res.writeHead(500).end('metrics collection failed\n'),
      );
    } else if (path === '/healthz') {
      const report: HealthReport = options.health?.() ?? {
        ok: true,
        connections: [],
        behind: [],
        reasons: [],
      };
      res
        .writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(report)}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n');
    }
  });
  // Scrapers keep connections alive; closing must not wait for them.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new MarketDataError(
          'CONFIG_INVALID',
          `metrics server cannot listen on ${host}:${options.port} (${error.code ?? error.message}); pick another --metrics-port or 0`,
          { fatal: true, cause: error },
        ),
      ),
    );
    server.listen(options.port, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
