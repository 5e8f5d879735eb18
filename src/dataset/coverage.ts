// Holes in a series (DESIGN.md §10). Binance makes a bar for every interval, trades or not
// (PROTOCOLS.md §1.5), so a missing open time is a venue outage. Polygon makes no bar for a
// window without trades (PROTOCOLS.md §2.2), so only a trading date with no bar at all is a hole.

import type { DuckDBConnection } from '@duckdb/node-api';
import { intervalMs, nextBucketStartMs } from '../core/intervals.js';
import { escapeGlob } from '../writers/atomic-file.js';
import type { SeriesScan } from './series.js';
import { isTradingDate, nextDate, nyDateOf } from './us-calendar.js';

/** One hole: Binance open times (ISO 8601) or Polygon trading dates (`YYYY-MM-DD`), inclusive. */
export interface Gap {
  from: string;
  to: string;
  /** Missing bars (Binance) or trading dates (Polygon). */
  missing: number;
}

/** What a series holds, as `ls` and `sync` print it. */
export interface SeriesSummary {
  provider: string;
  interval: string;
  symbol: string;
  /** Open time of the first and last bar, ISO 8601; absent when there is none. */
  first?: string;
  last?: string;
  bars: number;
  gaps: Gap[];
  /** Files in the series directory that are not ours or cannot be read. */
  problems: Array<{ path: string; kind: string; reason: string }>;
}

/** The summary of a scanned series, with its gaps. */
export async function summarizeSeries(
  connection: DuckDBConnection,
  scan: SeriesScan,
): Promise<SeriesSummary> {
  const { key } = scan;
  return {
    provider: key.provider,
    interval: key.interval,
    symbol: key.symbol,
    ...(scan.firstMs !== undefined ? { first: new Date(scan.firstMs).toISOString() } : {}),
    ...(scan.lastMs !== undefined ? { last: new Date(scan.lastMs).toISOString() } : {}),
    bars: scan.rows,
    gaps: await findGaps(connection, scan),
    problems: scan.problems.map((p) => ({ path: p.path, kind: p.kind, reason: p.reason })),
  };
}

/** The gaps between the first and the last bar of a series. */
export async function findGaps(connection: DuckDBConnection, scan: SeriesScan): Promise<Gap[]> {
  const files = [...scan.months.values()].filter((m) => m.rows > 0).map((m) => escapeGlob(m.path));
  if (files.length === 0) return [];
  const list = `[${files.map((_, i) => `$${i + 1}`).join(', ')}]`;
  if (scan.key.provider === 'polygon') return polygonGaps(connection, list, files, scan);
  const { interval } = scan.key;
  if (interval === '1M') {
    const reader = await connection.runAndReadAll(
      `SELECT epoch_ms(time) FROM read_parquet(${list}) ORDER BY time`,
      files,
    );
    const gaps: Gap[] = [];
    let previousMs: number | undefined;
    for (const [value] of reader.getRows()) {
      const openMs = Number(value);
      if (previousMs !== undefined) {
        let expectedMs = nextBucketStartMs(interval, previousMs);
        let missing = 0;
        const fromMs = expectedMs;
        let toMs = expectedMs;
        while (expectedMs < openMs) {
          missing += 1;
          toMs = expectedMs;
          expectedMs = nextBucketStartMs(interval, expectedMs);
        }
        if (missing > 0) gaps.push(binanceGap(fromMs, toMs, missing));
      }
      previousMs = openMs;
    }
    return gaps;
  }
  const lengthMs = intervalMs(interval);
  const reader = await connection.runAndReadAll(
    `SELECT t, n FROM (
       SELECT epoch_ms(time) AS t, epoch_ms(lead(time) OVER (ORDER BY time)) AS n
         FROM read_parquet(${list}))
      WHERE n - t > ${lengthMs} ORDER BY t`,
    files,
  );
  return reader.getRows().map(([t, n]) => {
    const fromMs = Number(t) + lengthMs;
    const toMs = Number(n) - lengthMs;
    return binanceGap(fromMs, toMs, (toMs - fromMs) / lengthMs + 1);
  });
}

function binanceGap(fromMs: number, toMs: number, missing: number): Gap {
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), missing };
}

async function polygonGaps(
  connection: DuckDBConnection,
  list: string,
  files: string[],
  scan: SeriesScan,
): Promise<Gap[]> {
  // A week or month bar spans many dates; "a trading date with no bar" means nothing there.
  if (scan.key.interval === '1w' || scan.key.interval === '1M') return [];
  // New York's offset from UTC is whole hours, so one UTC hour lies in one New York date.
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT epoch_ms(time) // 3600000 FROM read_parquet(${list})`,
    files,
  );
  const dates = new Set<string>();
  for (const [hour] of reader.getRows()) dates.add(nyDateOf(Number(hour) * 3_600_000));
  const gaps: Gap[] = [];
  if (scan.firstMs === undefined || scan.lastMs === undefined) return gaps;
  const lastDate = nyDateOf(scan.lastMs);
  let open: Gap | undefined;
  for (let date = nyDateOf(scan.firstMs); date <= lastDate; date = nextDate(date)) {
    if (!isTradingDate(date)) continue;
    if (dates.has(date)) {
      open = undefined;
      continue;
    }
    if (open) {
      open.to = date;
      open.missing += 1;
    } else {
      open = { from: date, to: date, missing: 1 };
      gaps.push(open);
    }
  }
  return gaps;
}

/** One line per series for people: `binance 1m BTCUSDT 2024-01-01T00:00Z … 44640 bars, 0 gaps`. */
export function formatSummaryLines(summary: SeriesSummary): string[] {
  const range = summary.first && summary.last ? `${summary.first} .. ${summary.last}` : '(no bars)';
  const lines = [
    `${summary.provider} ${summary.interval} ${summary.symbol}: ${range}, ${summary.bars} bars, ${summary.gaps.length} gap${summary.gaps.length === 1 ? '' : 's'}`,
  ];
  const unit = summary.provider === 'polygon' ? 'trading date' : 'bar';
  for (const gap of summary.gaps) {
    lines.push(
      `  gap ${gap.from} .. ${gap.to} (${gap.missing} ${unit}${gap.missing === 1 ? '' : 's'} missing)`,
    );
  }
  for (const problem of summary.problems) {
    lines.push(`  ${problem.kind} file ${problem.path}: ${problem.reason}`);
  }
  return lines;
}
