import { stat } from 'node:fs/promises';
import { MarketDataClient, VENUE_CALENDARS } from '../client.js';
import { MarketDataError } from '../core/errors.js';
import { intervalToTimespan } from '../core/intervals.js';
import { calendarDay } from '../core/venue-calendar.js';
import { parseDownloadConfig } from '../registry.js';
import {
  abortOnSignals,
  type CliIo,
  type CommonOptions,
  dataDirFor,
  providerName,
  resolveEndpoints,
} from './context.js';
import { largeDownloadNotice } from './download-size.js';
import { describeFailure, UsageError } from './exit.js';
import { createProgressReporter } from './output.js';
import { reportRequestRetries } from './retry-report.js';

export interface DownloadOptions extends CommonOptions {
  /** Comma-separated; `--ticker` is the same option. */
  symbols?: string;
  ticker?: string;
  start: string;
  end?: string;
  interval: string;
  data: string;
  force?: boolean;
}

/**
 * `argo-market download`: one Parquet file per symbol, one symbol after another (each download
 * already fetches its pages concurrently within the venue's budget); prints each path as it is
 * done. An existing file is kept (and said so) unless `--force`. The first failure is rethrown
 * after the other symbols were tried; each failure is printed as it happens.
 */
export async function downloadCommand(options: DownloadOptions, io: CliIo): Promise<void> {
  const name = providerName(options.provider);
  if (name === 'jetstream') {
    throw new UsageError(
      'download reads from venues; to replay bars from the bus use JetStreamProvider.download() or `argo-market store`',
    );
  }
  const list = options.symbols ?? options.ticker;
  if (list === undefined) {
    throw new UsageError("required option '--symbols <list>' (or --ticker) not specified");
  }
  const tickers = [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  ];
  if (tickers.length === 0) throw new UsageError('--symbols needs at least one symbol');
  // Validate everything the user typed before starting anything (usage errors exit 2). Without
  // --end the download runs to the end of today in the venue's calendar (closed bars only).
  const endDate = options.end ?? calendarDay(Date.now(), VENUE_CALENDARS[name]);
  const probes = tickers.map((ticker) =>
    parseDownloadConfig(name, {
      ticker,
      startDate: options.start,
      endDate,
      interval: options.interval,
      ...(name === 'polygon'
        ? { apiKey: options.apiKey ?? io.env.POLYGON_API_KEY ?? 'simulated' }
        : {}),
    }),
  );
  for (const probe of probes) {
    const notice = largeDownloadNotice(name, probe.interval, probe.startDate, probe.endDate);
    if (notice) io.stderr.write(`${probes.length > 1 ? `${probe.ticker}: ` : ''}${notice}`);
  }
  const endpoints = await resolveEndpoints(name, options, io);
  const controller = new AbortController();
  const removeSignals = abortOnSignals(controller, io);
  const stopRetryReport = reportRequestRetries(io);
  const failures: unknown[] = [];
  try {
    for (const probe of probes) {
      if (controller.signal.aborted) break;
      const progress = createProgressReporter(io.stderr);
      try {
        const client = new MarketDataClient(
          {
            providerType: name,
            writerType: 'duckdb',
            dataPath: dataDirFor(options.data, endpoints),
            ...(endpoints.apiKey ? { polygonApiKey: endpoints.apiKey } : {}),
            providerOptions: endpoints.providerOptions,
          },
          (current, total, message) => progress.update(current, total, message),
        );
        // The strings as typed: day strings are whole days in the venue's calendar (DESIGN §4).
        const params = {
          ticker: probe.ticker,
          startDate: options.start,
          endDate,
          ...intervalToTimespan(probe.interval),
        };
        const target = client.outputPath(params);
        if (!options.force && (await exists(target))) {
          throw new MarketDataError(
            'WRITER',
            `${target} exists already and was kept; pass --force to download ${probe.ticker} again and replace it`,
            { fatal: true },
          );
        }
        const path = await client.download({ ...params, signal: controller.signal });
        progress.stop();
        io.stdout.write(`${path}\n`);
      } catch (error) {
        progress.stop();
        if (controller.signal.aborted) throw error;
        failures.push(error);
        if (probes.length > 1) {
          io.stderr.write(
            `${probe.ticker}: ${describeFailure(error, options.verbose ?? false).line}\n`,
          );
        }
      }
    }
  } finally {
    stopRetryReport();
    removeSignals();
    await endpoints.simulator?.close();
  }
  if (failures.length > 0) {
    if (probes.length > 1) {
      io.stderr.write(`${failures.length} of ${probes.length} downloads failed\n`);
    }
    throw failures[0];
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
