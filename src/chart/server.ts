import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { MarketDataError } from '../core/errors.js';
import type { ChartBar } from './series.js';

/** What the server shows: a live feed ({@link ChartFeed}) or a file ({@link FileChartView}). */
export interface ChartView {
  /** A page joins; returns the function that detaches it. */
  attach(send: (message: string) => void): () => void;
  bars(symbol: string): ChartBar[];
  stop(): Promise<void>;
}

/** A running chart server. */
export interface ChartServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  port: number;
  /** Pages connected now. */
  pages(): number;
  /** Resolves when the number of pages connected becomes `count`. */
  untilPages(count: number): Promise<void>;
  /** Closes every page's socket, the view's stream and the listening socket. */
  close(): Promise<void>;
}

/** The page's own files (plain ES modules), shipped in the package beside `dist/`. */
const PAGE_DIR = fileURLToPath(new URL('../../chart-page/', import.meta.url));
/** lightweight-charts' self-contained ES module, from the installed package (no CDN). */
const CHARTS_MODULE = join(
  dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json')),
  'dist',
  'lightweight-charts.standalone.production.mjs',
);

/** The only paths served; nothing else of the file system is reachable. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: join(PAGE_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: join(PAGE_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/lightweight-charts.mjs': { file: CHARTS_MODULE, type: 'text/javascript; charset=utf-8' },
};

/**
 * Serves the chart page on 127.0.0.1 only: the static page, lightweight-charts from
 * node_modules, and a `/feed` WebSocket that streams the view's bars and status as JSON. The page
 * never gets a key (the provider's connections stay in this process), and only the view's
 * symbols exist: no request names a symbol or a path.
 *
 * Requests whose `Host` is not this server (a DNS-rebinding page in the user's browser) are
 * refused, so no other site can read the feed.
 */
export async function startChartServer(
  view: ChartView,
  options: { port?: number } = {},
): Promise<ChartServer> {
  const sockets = new Set<WebSocket>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const notify = () => {
    for (const waiter of waiters.splice(0)) {
      if (waiter.count === sockets.size) waiter.resolve();
      else waiters.push(waiter);
    }
  };

  const server = createServer((request, response) => {
    void serveAsset(request, response, allowedHosts());
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (request, socket, head) => {
    if (request.url !== '/feed' || !allowedHosts().has(request.headers.host ?? '')) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(ws);
      const detach = view.attach((text) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      });
      notify();
      ws.on('close', () => {
        sockets.delete(ws);
        detach();
        notify();
      });
      ws.on('error', () => ws.terminate());
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new MarketDataError(
          'CONFIG_INVALID',
          `cannot serve the chart on 127.0.0.1:${options.port ?? 0} (${error.code ?? error.message}); ` +
            'pick another --port, or 0 for a free one',
          { fatal: true, cause: error },
        ),
      ),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    pages: () => sockets.size,
    untilPages: (count) =>
      count === sockets.size
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    close: async () => {
      for (const ws of sockets) ws.close(1001, 'chart server stopping');
      await view.stop();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function serveAsset(
  request: IncomingMessage,
  response: ServerResponse,
  allowedHosts: Set<string>,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const asset = ASSETS[path];
  if (!allowedHosts.has(request.headers.host ?? '')) {
    response.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden host\n');
    return;
  }
  if (request.method !== 'GET' || asset === undefined) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  try {
    const body = await readFile(asset.file);
    response
      .writeHead(200, {
        'content-type': asset.type,
        'cache-control': 'no-store',
        // Everything comes from this server; the page can reach nothing else.
        'content-security-policy':
          // lightweight-charts sizes its canvases with inline styles.
          "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        'x-content-type-options': 'nosniff',
      })
      .end(body);
  } catch {
    response
      .writeHead(500, { 'content-type': 'text/plain' })
      .end('asset missing from the package\n');
  }
}
