import { once } from 'node:events';
import { WebSocket } from 'ws';

/** A plain `ws` client that queues every text frame and waits for the next matching one. */
export class TestClient {
  readonly ws: WebSocket;
  readonly frames: string[] = [];
  #waiters: Array<() => void> = [];
  closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, options?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => {
      this.frames.push(data.toString());
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
  }

  async open(): Promise<this> {
    await once(this.ws, 'open');
    return this;
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** Removes and returns the first queued frame matching `test`, waiting up to `timeoutMs`. */
  async next(test: (frame: string) => boolean = () => true, timeoutMs = 4000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(test);
      if (index >= 0) return this.frames.splice(index, 1)[0] as string;
      const left = deadline - performance.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`no matching frame within ${timeoutMs} ms; have ${this.frames.length}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async json<T = unknown>(test?: (value: T) => boolean, timeoutMs?: number): Promise<T> {
    const frame = await this.next((f) => {
      try {
        return test ? test(JSON.parse(f) as T) : true;
      } catch {
        return false;
      }
    }, timeoutMs);
    return JSON.parse(frame) as T;
  }

  close(): void {
    this.ws.terminate();
  }
}
