import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { parseWithSchema } from '../config/parse.js';
import {
  type JetStreamStreamConfig,
  type JetStreamStreamOptions,
  jetstreamStreamSchema,
} from '../config/schemas.js';
import { linkedAbort, sleep } from '../core/abort.js';
import { downloadRangeMs } from '../core/download-range.js';
import { type MarketDataError, toMarketDataError, writerNotConfigured } from '../core/errors.js';
import { timespanToInterval, withBarSize } from '../core/intervals.js';
import {
  type DownloadParams,
  type Interval,
  isBatchWriter,
  type MarketData,
  type MarketDataWriter,
  type Provider,
  type StatusListener,
  type StreamResult,
} from '../core/types.js';
import { connectBus, forwardStatus, natsOptions, parseServers } from './connection.js';
import { readBus } from './consume.js';
import { replayRange } from './replay.js';
import { checkBusSymbol } from './subjects.js';

/**
 * Bars from the NATS JetStream bus (DESIGN §9) behind the ordinary `Provider` interface: what
 * collectors (`publishStream`, `argo-market stream --publish`) put on ARGO_BARS, read on any
 * machine. `stream()` keeps the §3 guarantees — per symbol strictly increasing time, nothing lost
 * or repeated across NATS reconnects and the loss of a node — and with `durable` resumes after
 * the last bar it yielded; `from` starts at a bar open time. `download()` replays a range.
 *
 * @example
 * const provider = new JetStreamProvider({
 *   servers: 'nats://h1:4222,nats://h2:4222', venue: 'binance',
 *   symbols: ['BTCUSDT'], interval: '1m', durable: 'my-strategy',
 * });
 * for await (const [bar, err] of provider.stream(signal)) {
 *   if (err) { if (err.fatal) break; continue; }
 *   console.log(bar.symbol, bar.close);
 * }
 */
export class JetStreamProvider implements Provider {
  private readonly config: JetStreamStreamConfig;
  private writer: MarketDataWriter | undefined;
  private statusListener: StatusListener | undefined;

  /** Validates `options` (a ConfigError naming the field); credentials are never echoed. */
  constructor(options: JetStreamStreamOptions) {
    this.config = parseWithSchema(jetstreamStreamSchema, options, 'jetstream config');
    parseServers(this.config.servers);
    for (const symbol of this.config.symbols) checkBusSymbol(symbol, 'symbols');
  }

  /** The venue whose bars this provider reads (the subject's venue token). */
  get venue(): string {
    return this.config.venue;
  }

  configWriter(writer: MarketDataWriter): void {
    this.writer = writer;
  }

  getSymbols(): string[] {
    return [...this.config.symbols];
  }

  getInterval(): Interval {
    return this.config.interval;
  }

  setOnStatusChange(cb: StatusListener): void {
    this.statusListener = cb;
  }

  /**
   * Closed bars from the bus; errors in-band (non-fatal: NATS unreachable, a consumer being
   * reopened; fatal: bad credentials, a durable name taken by another filter).
   */
  stream(signal?: AbortSignal): AsyncIterable<StreamResult> {
    return this.readStream(signal);
  }

  private async *readStream(outer: AbortSignal | undefined): AsyncGenerator<StreamResult> {
    const link = linkedAbort(outer);
    const signal = link.signal;
    const symbols = this.getSymbols();
    const servers = parseServers(this.config.servers).urls.join(',');
    const detail = { connection: `nats:${servers}`, symbols };
    const pending: MarketDataError[] = [];
    let nc: NatsConnection | undefined;
    let statusDone: Promise<void> | undefined;
    let unacked: JsMsg | undefined;
    try {
      const options = await natsOptions(this.config, `argo-consumer-${this.config.venue}`);
      let attempt = 0;
      while (!nc) {
        try {
          nc = await connectBus(options);
        } catch (error) {
          const failure = toMarketDataError(error, 'NETWORK', 'NATS connect failed');
          if (failure.fatal || signal.aborted) {
            if (!signal.aborted) yield [undefined, failure];
            return;
          }
          attempt++;
          const delayMs = Math.min(250 * 2 ** attempt, 5000);
          this.statusListener?.('reconnecting', {
            ...detail,
            attempt,
            delayMs,
            reason: failure.message,
          });
          yield [undefined, failure];
          await sleep(delayMs, signal).catch(() => {});
        }
      }
      statusDone = forwardStatus(nc, symbols, () => this.statusListener).catch(() => {});
      const durable = this.config.durable;
      const bus = readBus(
        nc,
        {
          venue: this.config.venue,
          interval: this.config.interval,
          symbols,
          ...(durable ? { durable } : {}),
          ...(this.config.from ? { fromMs: this.config.from.getTime() } : {}),
          bufferSize: this.config.bufferSize,
          // One unacked bar at a time: after a crash the server redelivers it before any newer
          // bar, so resuming keeps each symbol in order with nothing skipped.
          maxAckPending: 1,
          ackWaitMs: 10_000,
        },
        signal,
        {
          onOpen: () => this.statusListener?.('connected', detail),
          onRetry: (error) => pending.push(error),
        },
      );
      for await (const { bar, msg } of bus) {
        while (pending.length > 0) yield [undefined, pending.shift() as MarketDataError];
        // A durable acks a bar once it was handed out (when the reader asks for the next one,
        // or stops): a later stream() with the same name resumes after it.
        unacked = durable ? msg : undefined;
        yield [bar, undefined];
        unacked?.ack();
        unacked = undefined;
      }
    } catch (error) {
      if (!signal.aborted) {
        yield [undefined, toMarketDataError(error, 'NETWORK', 'bus stream failed', true)];
      }
    } finally {
      unacked?.ack();
      link.abort();
      link.release();
      await nc?.flush().catch(() => {});
      await nc?.close().catch(() => {});
      await statusDone;
      this.statusListener?.('disconnected', detail);
    }
  }

  /**
   * Replays the bars of `params.ticker` whose open time is in `[startDate, endDate]` from the
   * bus into the configured writer (`writeBatch` when it has it); resolves to its output path.
   */
  async download(params: DownloadParams): Promise<string> {
    const writer = this.writer;
    if (writer === undefined) throw writerNotConfigured();
    const symbol = checkBusSymbol(params.ticker, 'ticker');
    const sized = withBarSize(params, this.getInterval());
    const interval = timespanToInterval(sized.multiplier, sized.timespan);
    const { startMs, endMs } = downloadRangeMs(params);
    const nc = await connectBus(await natsOptions(this.config, `argo-replay-${this.config.venue}`));
    await writer.initialize();
    try {
      const batch: MarketData[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        if (isBatchWriter(writer)) await writer.writeBatch(batch);
        else for (const bar of batch) await writer.write(bar);
        batch.length = 0;
      };
      await replayRange(
        nc,
        { venue: this.config.venue, interval, symbol, startMs, endMs },
        params.signal,
        async (bar, current, total) => {
          batch.push(bar);
          if (batch.length >= 1000) await flush();
          params.onProgress?.(current, total, `${symbol} ${interval}: ${current} bars replayed`);
        },
      );
      await flush();
      return await writer.finalize();
    } catch (error) {
      await writer.close().catch(() => {});
      throw toMarketDataError(error, 'WRITER', `replay of ${symbol} from the bus failed`, true);
    } finally {
      await nc.close().catch(() => {});
    }
  }
}
