import { basename } from 'node:path';
import type { MarketData } from '../core/types.js';
import { readParquetBars } from '../writers/parquet-reader.js';
import { type ChartInit, historyMessage } from './feed.js';
import { type ChartBar, toChartBar } from './series.js';

/**
 * A Parquet file (a download, a streamed store, a dataset month) as a chart view: every symbol
 * in it, all its bars, no live part. Any interval: the page spaces bars by their own times.
 */
export class FileChartView {
  readonly #init: ChartInit;
  readonly #bars: Map<string, ChartBar[]>;

  private constructor(init: ChartInit, bars: Map<string, ChartBar[]>) {
    this.#init = init;
    this.#bars = bars;
  }

  /** Reads `path` (a `WRITER` error naming it when it is missing or not a bar file). */
  static async open(path: string): Promise<FileChartView> {
    const rows = await readParquetBars(path);
    const bars = groupBySymbol(rows);
    let firstMs: number | undefined;
    let lastMs: number | undefined;
    for (const row of rows) {
      const timeMs = row.time.getTime();
      if (firstMs === undefined || timeMs < firstMs) firstMs = timeMs;
      if (lastMs === undefined || timeMs > lastMs) lastMs = timeMs;
    }
    const init: ChartInit = {
      mode: 'file',
      title: basename(path),
      symbols: [...bars.keys()],
      file: { path: basename(path), firstMs, lastMs, count: rows.length },
    };
    return new FileChartView(init, bars);
  }

  init(): ChartInit {
    return this.#init;
  }

  bars(symbol: string): ChartBar[] {
    return this.#bars.get(symbol)?.slice() ?? [];
  }

  /** Sends the whole file to a page; nothing follows. */
  attach(send: (message: string) => void): () => void {
    send(JSON.stringify({ type: 'init', init: this.#init }));
    for (const [symbol, bars] of this.#bars) send(historyMessage(symbol, bars));
    return () => {};
  }

  async stop(): Promise<void> {}
}

function groupBySymbol(rows: readonly MarketData[]): Map<string, ChartBar[]> {
  const bySymbol = new Map<string, ChartBar[]>();
  for (const row of rows) {
    let bars = bySymbol.get(row.symbol);
    if (bars === undefined) {
      bars = [];
      bySymbol.set(row.symbol, bars);
    }
    bars.push(toChartBar(row));
  }
  // readParquetBars orders by (symbol, time); a foreign file may repeat a time: keep the last.
  for (const [symbol, bars] of bySymbol) {
    const unique = bars.filter((bar, i) => bars[i + 1]?.time !== bar.time);
    bySymbol.set(symbol, unique);
  }
  return bySymbol;
}
