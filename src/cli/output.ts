import cliProgress from 'cli-progress';
import type { MarketData } from '../core/types.js';

/**
 * The bar's open time (ISO 8601 UTC), then the seed's `BTCUSDT: O=… H=… L=… C=… V=…`.
 * `priceDecimals` is the symbol's tick precision (Binance `PRICE_FILTER`); without it prices show
 * every digit they have, at least 2 and at most 8 decimals, so `0.010123` never reads `0.01`.
 */
export function formatBarLine(bar: MarketData, priceDecimals?: number): string {
  const price = (value: number) =>
    priceDecimals === undefined ? exactDecimals(value, 2) : value.toFixed(priceDecimals);
  return `${isoSeconds(bar.time)} ${bar.symbol}: O=${price(bar.open)} H=${price(bar.high)} L=${price(bar.low)} C=${price(bar.close)} V=${exactDecimals(bar.volume, 0)}`;
}

/** `2024-03-01T00:00:00Z` (milliseconds only when there are any). */
export function isoSeconds(time: Date): string {
  return time.toISOString().replace('.000Z', 'Z');
}

const MAX_DECIMALS = 8;

/** The fewest decimals (between `min` and 8) that show `value` exactly. */
function exactDecimals(value: number, min: number): string {
  for (let places = min; places < MAX_DECIMALS; places++) {
    const text = value.toFixed(places);
    if (Number(text) === value) return text;
  }
  return value.toFixed(MAX_DECIMALS);
}

/** One JSON line per bar (`time` as ISO 8601). */
export function formatBarJson(bar: MarketData): string {
  return JSON.stringify({
    symbol: bar.symbol,
    time: bar.time.toISOString(),
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
  });
}

/** Download progress on stderr: a bar on a terminal, throttled plain lines otherwise. */
export interface ProgressReporter {
  update(current: number, total: number, message: string): void;
  stop(): void;
}

const PLAIN_EVERY_MS = 1000;

export function createProgressReporter(stream: NodeJS.WriteStream): ProgressReporter {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'downloading [{bar}] {percentage}% | {value}/{total} bars | {message}',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(current, total, message) {
        if (!started) {
          bar.start(total, current, { message });
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(current, { message });
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastPrintMs = 0;
  let lastLine = '';
  return {
    update(current, total, message) {
      const nowMs = Date.now();
      lastLine = `progress ${current}/${total} bars ${message}`;
      if (current === total || nowMs - lastPrintMs >= PLAIN_EVERY_MS) {
        stream.write(`${lastLine}\n`);
        lastPrintMs = nowMs;
        lastLine = '';
      }
    },
    stop() {
      if (lastLine) stream.write(`${lastLine}\n`);
    },
  };
}
