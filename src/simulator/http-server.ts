// One node:http server per venue: counts requests, applies the HTTP-level faults (refusal,
// forced failures, latency), then hands requests and WebSocket upgrades to the venue.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FailStatus, Faults } from './faults.js';
import type { Stats, Venue } from './stats.js';

/** What a venue plugs into its server. */
export interface VenueHandlers {
  request(req: IncomingMessage, res: ServerResponse, url: URL): void;
  /** Writes the venue's real error response for a forced failure. */
  failure(res: ServerResponse, status: FailStatus, retryAfterSec: number | undefined): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
}

/** A listening venue server. */
export interface VenueServer {
  /** `http://host:port` */
  httpUrl: string;
  /** `ws://host:port` */
  wsUrl: string;
  close(): Promise<void>;
}

/** Writes a JSON response with extra headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Starts the server for `venue` on host:port (0 = ephemeral). */
export async function startVenueServer(
  venue: Venue,
  host: string,
  port: number,
  handlers: VenueHandlers,
  faults: Faults,
  stats: Stats,
): Promise<VenueServer> {
  const delays = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    stats.countHttp(venue);
    if (faults.refusingHttp(venue)) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? host}`);
    const respond = (): void => {
      const failure = faults.takeHttpFailure(venue);
      if (failure) handlers.failure(res, failure.status, failure.retryAfterSec);
      else handlers.request(req, res, url);
    };
    const latencyMs = faults.latencyMs(venue);
    if (latencyMs <= 0) {
      respond();
      return;
    }
    const timer = setTimeout(() => {
      delays.delete(timer);
      respond();
    }, latencyMs);
    delays.add(timer);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (faults.refusingUpgrades(venue)) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? host}`);
    handlers.upgrade(req, socket, head, url);
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    httpUrl: `http://${hostPart}:${address.port}`,
    wsUrl: `ws://${hostPart}:${address.port}`,
    async close() {
      for (const timer of delays) clearTimeout(timer);
      delays.clear();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Rejects an upgrade with a plain HTTP status (before any WebSocket handshake). */
export function rejectUpgrade(socket: Duplex, status: number, reason: string, body = ''): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
