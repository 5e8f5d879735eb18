import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

/** What a fake venue answers to one HTTP request. */
export interface FakeReply {
  status: number;
  body: string;
  contentType?: string;
}

/** A venue that sends exactly what a test scripts: hostile bodies and frames on 127.0.0.1. */
export interface FakeVenue {
  /** `http://127.0.0.1:<port>` (REST base). */
  restUrl: string;
  /** `ws://127.0.0.1:<port>` (WebSocket base; every path accepts an upgrade). */
  wsUrl: string;
  /** Paths with query of every HTTP request, in arrival order. */
  readonly requests: string[];
  /** Headers of every HTTP request, in arrival order. */
  readonly requestHeaders: IncomingMessage['headers'][];
  close(): Promise<void>;
}

export interface FakeVenueOptions {
  /** Answers one request; a missing answer is a 404 JSON body. */
  http?: (url: URL, request: IncomingMessage) => FakeReply | undefined;
  /** Text frames sent, in order, to every WebSocket client as soon as it connects. */
  frames?: readonly string[];
  /** Frames sent back to a client for each text frame it sends (a scripted handshake). */
  reply?: (text: string) => readonly string[];
}

/**
 * Starts a fake exchange on 127.0.0.1 port 0. It is a stand-in for the *exchange* only: the
 * library under test runs unchanged against it.
 */
export async function startFakeVenue(options: FakeVenueOptions): Promise<FakeVenue> {
  const requests: string[] = [];
  const requestHeaders: IncomingMessage['headers'][] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push(`${url.pathname}${url.search}`);
    requestHeaders.push(request.headers);
    const reply = options.http?.(url, request) ?? {
      status: 404,
      body: '{"error":"not found"}',
    };
    response.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' });
    response.end(reply.body);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    for (const frame of options.frames ?? []) socket.send(frame);
    socket.on('message', (data) => {
      for (const frame of options.reply?.(String(data)) ?? []) socket.send(frame);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    restUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    requests,
    requestHeaders,
    close() {
      closing ??= (async () => {
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
