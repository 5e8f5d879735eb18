import cliProgress from 'cli-progress';
import type { MarketData } from '../core/types.js';

/** The seed's line format: `BTCUSDT: O=… H=… L=… C=… V=…`. */
export function formatBarLine(bar: MarketData): string {
  return `${bar.symbol}: O=${bar.open.toFixed(2)} H=${bar.high.toFixed(2)} L=${bar.low.toFixed(2)} C=${bar.close.toFixed(2)} V=${bar.volume.toFixed(2)}`;
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
