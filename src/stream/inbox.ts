/** Parses one frame of the connection it came from (the connection's parser, made once). */
export type FrameParser = (text: string) => void;

/**
 * The frames of every socket of a stream, in arrival order, between `ws` and the parsers.
 *
 * `ws` hands over all the frames of one socket read at once (Binance closes every symbol's bar in
 * the same millisecond: 200 frames in one read), and the consumer's `for await` only runs once
 * that read's callback returns. Parsing them all there would make the consumer wait for the
 * last frame before it sees the first bar. So a frame is parsed at once only while the
 * consumer is waiting for a bar and nothing older waits here; the others wait raw. The consumer
 * parses the next one when it asks for a bar ({@link parseUntil}), and whatever it did not ask
 * for is parsed in the next `setImmediate` ({@link drain}), so backpressure, heartbeats and
 * errors still see every frame within one turn of the event loop. One FIFO for all sockets
 * keeps the parse order the arrival order.
 */
export class FrameInbox {
  private parsers: (FrameParser | undefined)[] = [];
  private texts: (string | undefined)[] = [];
  private head = 0;
  private drainScheduled = false;
  private stopped = false;
  /** Parses every waiting frame; runs in `setImmediate` after frames were queued. */
  readonly drain = (): void => {
    this.drainScheduled = false;
    while (this.head < this.texts.length) this.parseNext();
    this.compact();
  };

  /** `consumerWaiting`: true while the consumer waits for a bar that nothing has given yet. */
  constructor(private readonly consumerWaiting: () => boolean) {}

  /** A frame from a socket: parsed now if the consumer waits and no older frame does. */
  push(parse: FrameParser, text: string): void {
    if (this.stopped) return;
    if (this.head === this.texts.length && this.consumerWaiting()) {
      parse(text);
      return;
    }
    this.parsers.push(parse);
    this.texts.push(text);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  /** The consumer wants a bar: parse waiting frames, oldest first, until `done()` is true. */
  parseUntil(done: () => boolean): void {
    while (this.head < this.texts.length && !done()) this.parseNext();
    this.compact();
  }

  /** The stream stopped: drop what waits, accept nothing more. */
  stop(): void {
    this.stopped = true;
    this.parsers = [];
    this.texts = [];
    this.head = 0;
  }

  private parseNext(): void {
    const parse = this.parsers[this.head] as FrameParser;
    const text = this.texts[this.head] as string;
    this.parsers[this.head] = undefined;
    this.texts[this.head] = undefined;
    this.head += 1;
    parse(text);
  }

  private compact(): void {
    if (this.head === this.texts.length) {
      this.parsers.length = 0;
      this.texts.length = 0;
      this.head = 0;
    }
  }
}
