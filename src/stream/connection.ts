import { type RawData, WebSocket } from 'ws';
import { MarketDataError, redactUrl } from '../core/errors.js';

/** RFC 6455 §7.4.1: normal closure. Every socket we close ourselves uses it. */
export const NORMAL_CLOSURE = 1000;

/** Our choice: how long a closing peer may take to answer our close frame. */
const CLOSE_TIMEOUT_MS = 2000;

/** Receives the text frames of one connection; set once per connection, never per frame. */
export type FrameListener = (text: string) => void;

/** Why a connection ended. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * One WebSocket: opened with a deadline, read as text frames, paused and resumed for
 * backpressure, closed with 1000. Listeners are made once per connection; the per-frame path
 * is one `toString` and one call.
 */
export class Connection {
  /** Local clock of the last frame that proves the feed is alive (see `livenessFromData`). */
  lastFrameAtMs: number;
  /** Local clock of our last ping. */
  lastPingAtMs: number;
  /** Resolves once the socket has closed, whatever the cause. */
  readonly closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;
  private endReason: string | undefined;
  private isClosed = false;
  private paused = false;

  private constructor(
    private readonly ws: WebSocket,
    livenessFromData: boolean,
    private onFrame: FrameListener,
    private readonly pingText: string | undefined,
  ) {
    this.lastFrameAtMs = Date.now();
    this.lastPingAtMs = this.lastFrameAtMs;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.lastFrameAtMs = Date.now();
      if (!isBinary) this.onFrame((data as Buffer).toString());
    });
    if (!livenessFromData) {
      const stamp = (): void => {
        this.lastFrameAtMs = Date.now();
      };
      ws.on('ping', stamp);
      ws.on('pong', stamp);
    }
    ws.on('close', (code: number, reason: Buffer) => {
      this.isClosed = true;
      this.resolveClosed({ code, reason: this.endReason ?? (reason.toString() || `code ${code}`) });
    });
  }

  /**
   * Open `url`; rejects with a non-fatal `NETWORK` error on refusal, a non-101 answer or
   * `timeoutMs` without a handshake, and with the abort error when `signal` aborts.
   */
  static open(
    url: string,
    options: {
      timeoutMs: number;
      livenessFromData: boolean;
      signal: AbortSignal;
      /** Send this text frame as the ping instead of a ping control frame. */
      pingText?: string;
    },
    onFrame: FrameListener,
  ): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        handshakeTimeout: options.timeoutMs,
        perMessageDeflate: false,
      });
      const connection = new Connection(ws, options.livenessFromData, onFrame, options.pingText);
      let settled = false;
      const fail = (error: MarketDataError): void => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        ws.terminate();
        reject(error);
      };
      const onAbort = (): void =>
        fail(new MarketDataError('ABORTED', 'connect aborted', { fatal: true }));
      options.signal.addEventListener('abort', onAbort, { once: true });
      // Errors after the open are reported through 'close'; this listener also keeps an
      // unhandled 'error' event from crashing the process.
      ws.on('error', (error: Error) => {
        connection.endReason ??= error.message;
        fail(
          new MarketDataError('NETWORK', `cannot connect to ${redactUrl(url)}: ${error.message}`, {
            fatal: false,
            cause: error,
          }),
        );
      });
      ws.once('close', (code: number) =>
        fail(
          new MarketDataError('NETWORK', `${redactUrl(url)} closed during connect (code ${code})`, {
            fatal: false,
          }),
        ),
      );
      ws.once('open', () => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        connection.lastFrameAtMs = Date.now();
        resolve(connection);
      });
    });
  }

  get isOpen(): boolean {
    return !this.isClosed && this.ws.readyState === WebSocket.OPEN;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Route frames elsewhere (handshake reader → live parser). */
  setFrameListener(onFrame: FrameListener): void {
    this.onFrame = onFrame;
  }

  send(text: string): void {
    if (this.isOpen) this.ws.send(text);
  }

  ping(): void {
    if (!this.isOpen) return;
    this.lastPingAtMs = Date.now();
    if (this.pingText === undefined) this.ws.ping();
    else this.ws.send(this.pingText);
  }

  /** Stop reading the socket: TCP flow control then slows the server down. */
  pause(): void {
    if (this.paused || !this.isOpen) return;
    this.paused = true;
    this.ws.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // Time spent paused was our choice, not the server's silence.
    this.lastFrameAtMs = Date.now();
    if (!this.isClosed) this.ws.resume();
  }

  /** Close with 1000 (normal closure); `reason` is what `closed` reports. */
  close(reason: string): void {
    this.endReason ??= reason;
    if (this.isClosed) return;
    if (this.ws.readyState === WebSocket.OPEN) {
      if (this.paused) this.ws.resume();
      // A peer that never answers the close frame must not hold the socket open.
      const killTimer = setTimeout(() => this.ws.terminate(), CLOSE_TIMEOUT_MS);
      killTimer.unref();
      this.ws.once('close', () => clearTimeout(killTimer));
      this.ws.close(NORMAL_CLOSURE);
    } else {
      this.ws.terminate();
    }
  }

  /** Drop the socket at once (a dead or silent peer will not answer a close frame). */
  terminate(reason: string): void {
    this.endReason ??= reason;
    if (!this.isClosed) this.ws.terminate();
  }
}
