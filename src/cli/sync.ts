import cliProgress from 'cli-progress';
import { MarketDataError } from '../core/errors.js';
import { isInterval } from '../core/intervals.js';
import { formatSummaryLines } from '../dataset/coverage.js';
import { isDatasetProvider } from '../dataset/layout.js';
import { type SyncProgress, type SyncSummary, syncDataset } from '../dataset/sync.js';
import { nextDate, nyMidnightMs } from '../dataset/us-calendar.js';
import {
  abortOnSignals,
  type CliIo,
  type CommonOptions,
  providerName,
  resolveEndpoints,
} from './context.js';
import { UsageError } from './exit.js';

export interface SyncCliOptions extends CommonOptions {
  symbols: string;
  interval: string;
  from: string;
  to?: string;
  data: string;
  json?: boolean;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A `--from`/`--to` value: an RFC 3339 instant, or a day in the venue's calendar (UTC for
 * Binance, America/New_York for Polygon; DESIGN.md §4), `--to` meaning the end of that day.
 */
export function parseDayOrInstant(
  provider: 'binance' | 'polygon',
  value: string,
  name: 'from' | 'to',
): Date {
  let ms = Number.NaN;
  if (DAY.test(value) && Number.isFinite(Date.parse(`${value}T00:00:00Z`))) {
    const day = name === 'from' ? value : nextDate(value);
    const startMs = provider === 'polygon' ? nyMidnightMs(day) : Date.parse(`${day}T00:00:00Z`);
    ms = name === 'from' ? startMs : startMs - 1;
  } else if (INSTANT.test(value)) {
    ms = Date.parse(value);
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new UsageError(`--${name} must be YYYY-MM-DD or an RFC 3339 instant, got '${value}'`);
  }
  return new Date(ms);
}

/**
 * `argo-market sync`: brings DIR/<provider>/<interval>/<SYMBOL>/ up to date, prints one summary
 * line per symbol (or `--json`), exit 1 when any symbol failed (the others are complete).
 */
export async function syncCommand(options: SyncCliOptions, io: CliIo): Promise<void> {
  const name = providerName(options.provider);
  if (!isDatasetProvider(name)) throw new UsageError(`sync does not support provider '${name}'`);
  if (!isInterval(options.interval)) {
    throw new UsageError(`unknown interval '${options.interval}'`);
  }
  const symbols = options.symbols
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (symbols.length === 0) throw new UsageError('--symbols needs at least one symbol');
  const from = parseDayOrInstant(name, options.from, 'from');
  const to = options.to === undefined ? undefined : parseDayOrInstant(name, options.to, 'to');
  if (to !== undefined && to < from) throw new UsageError('--to must not be before --from');
  const endpoints = await resolveEndpoints(name, options, io);
  const controller = new AbortController();
  const removeSignals = abortOnSignals(controller, io);
  const progress = syncProgress(io.stderr);
  let summary: SyncSummary;
  try {
    summary = await syncDataset({
      data: options.data,
      provider: name,
      symbols,
      interval: options.interval,
      from,
      ...(to ? { to } : {}),
      providerOptions: {
        ...endpoints.providerOptions,
        ...(endpoints.apiKey ? { apiKey: endpoints.apiKey } : {}),
      },
      signal: controller.signal,
      onProgress: (p) => progress.update(p),
    });
  } catch (error) {
    progress.stop();
    if (MarketDataError.is(error) && error.code === 'ABORTED') {
      io.stderr.write('sync stopped; every month file is complete: run sync again to continue\n');
    }
    throw error;
  } finally {
    progress.stop();
    removeSignals();
    await endpoints.simulator?.close();
  }
  if (options.json) {
    io.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    for (const result of summary.symbols) {
      for (const line of formatSummaryLines(result)) io.stdout.write(`${line}\n`);
      if (result.error)
        io.stdout.write(`  failed [${result.error.code}]: ${result.error.message}\n`);
    }
    io.stdout.write(
      `synced ${summary.symbols.length - summary.failed.length}/${summary.symbols.length} symbols, ${summary.barsWritten} new bars in ${(summary.elapsedMs / 1000).toFixed(1)} s\n`,
    );
  }
  if (summary.failed.length > 0) {
    const list = summary.symbols
      .filter((s) => s.error)
      .map((s) => `${s.symbol} (${s.error?.code})`)
      .join(', ');
    // Not fatal: the other symbols are complete, and a rerun retries only these.
    throw new MarketDataError(
      'INVALID_SYMBOL',
      `sync failed for ${summary.failed.length} of ${summary.symbols.length} symbols: ${list}`,
      { fatal: false },
    );
  }
}

interface SyncProgressReporter {
  update(progress: SyncProgress): void;
  stop(): void;
}

const PLAIN_EVERY_MS = 1000;

/** One bar for the whole sync on a terminal (symbols, bars, rate, ETA); plain lines otherwise. */
function syncProgress(stream: NodeJS.WriteStream): SyncProgressReporter {
  const startedMs = Date.now();
  const fields = (p: SyncProgress) => ({
    symbols: `${p.symbolsDone}/${p.symbolsTotal}`,
    bars: p.barsWritten,
    rate: Math.round(p.barsWritten / Math.max(0.001, (Date.now() - startedMs) / 1000)),
  });
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          'sync [{bar}] {percentage}% | {symbols} symbols | {bars} bars | {rate} bars/s | ETA {eta_formatted}',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        if (!started) {
          bar.start(Math.max(1, p.total), p.current, fields(p));
          started = true;
        } else {
          bar.setTotal(Math.max(1, p.total));
          bar.update(p.current, fields(p));
        }
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let lastPrintMs = 0;
  let pending: SyncProgress | undefined;
  const print = (p: SyncProgress) => {
    const f = fields(p);
    stream.write(
      `progress ${f.symbols} symbols, ${f.bars} bars, ${f.rate} bars/s${p.message ? `, ${p.message}` : ''}\n`,
    );
    lastPrintMs = Date.now();
    pending = undefined;
  };
  return {
    update(p) {
      pending = p;
      if (p.message || Date.now() - lastPrintMs >= PLAIN_EVERY_MS) print(p);
    },
    stop() {
      if (pending) print(pending);
    },
  };
}
