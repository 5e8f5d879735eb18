import type { MarketDataError } from './errors.js';

/** Bar sizes this library knows. Binance streams all but none are exotic; Polygon streams 1s/1m. */
export type Interval =
  | '1s'
  | '1m'
  | '3m'
  | '5m'
  | '15m'
  | '30m'
  | '1h'
  | '2h'
  | '4h'
  | '6h'
  | '8h'
  | '12h'
  | '1d'
  | '3d'
  | '1w'
  | '1M';

/** Unit of a download's bar size (`multiplier` × `timespan`), as in the Go models. */
export type Timespan = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month';

/** One OHLCV bar; same fields as the Go `types.MarketData`. */
export interface MarketData {
  id: string;
  symbol: string;
  /** Bar OPEN time, UTC. */
  time: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** State of a provider's connection(s), reported through `setOnStatusChange`. */
export type ConnectionStatus = 'connected' | 'disconnected' | 'reconnecting';

/** What a status change is about. */
export interface StatusDetail {
  /** Which connection (e.g. `binance:btcusdt` or `binance:combined#0`). */
  connection: string;
  /** The symbols carried by that connection. */
  symbols: string[];
  /** Reconnect attempt number (1-based), with `reconnecting`. */
  attempt?: number;
  /** Delay before the next attempt, ms, with `reconnecting`. */
  delayMs?: number;
  /** Why the state changed, when known (e.g. the error that dropped the socket). */
  reason?: string;
}

/** One item of a stream: a bar, or an in-band error. Narrowed by checking `err`. */
export type StreamResult =
  | [data: MarketData, error: undefined]
  | [data: undefined, error: MarketDataError];

/** Arguments of `Provider.download`. */
export interface DownloadParams {
  ticker: string;
  startDate: Date;
  endDate: Date;
  /** Bar size, with `timespan`; leave both out for the provider's configured interval. */
  multiplier?: number;
  timespan?: Timespan;
  /** Called with monotonically rising `current`, ending at `total`. */
  onProgress?: (current: number, total: number, message: string) => void;
  signal?: AbortSignal;
}

/** Where bars go. Downloads and persisted streams write through one of these. */
export interface MarketDataWriter {
  initialize(): Promise<void>;
  write(data: MarketData): Promise<void>;
  finalize(): Promise<string>;
  close(): Promise<void>;
  getOutputPath(): string;
}

/** Optional writer capability: many bars in one call (one transaction / one append). */
export interface BatchWriter {
  writeBatch(data: MarketData[]): Promise<void>;
}

/** Callback for connection status changes. */
export type StatusListener = (status: ConnectionStatus, detail: StatusDetail) => void;

/** {@link DownloadParams} with its bar size settled (see `withBarSize`). */
export type SizedDownloadParams = DownloadParams & { multiplier: number; timespan: Timespan };

/**
 * Called with the current, not yet closed bar whenever the venue updates it (DESIGN.md §3
 * "Forming bar"): for charts and UIs. Forming bars never enter a stream's iterator or a writer.
 */
export type FormingBarListener = (bar: MarketData) => void;

/** A market-data source: historical download into a writer, and a realtime bar stream. */
export interface Provider {
  configWriter(writer: MarketDataWriter): void;
  /** Downloads bars into the configured writer; resolves to the writer's output path. */
  download(params: DownloadParams): Promise<string>;
  /** Closed bars for the constructor's symbols and interval; errors in-band. */
  stream(signal?: AbortSignal): AsyncIterable<StreamResult>;
  getSymbols(): string[];
  getInterval(): Interval;
  setOnStatusChange(cb: StatusListener): void;
  /**
   * Optional: hear the forming (still open) bar of every symbol while `stream()` runs; pass
   * `undefined` to stop. Providers whose venue reports the open bar implement it.
   */
  setOnFormingBar?(cb: FormingBarListener | undefined): void;
}

/** True when the writer also implements {@link BatchWriter}. */
export function isBatchWriter(writer: MarketDataWriter): writer is MarketDataWriter & BatchWriter {
  return typeof (writer as Partial<BatchWriter>).writeBatch === 'function';
}
