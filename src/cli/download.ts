import { MarketDataClient, VENUE_CALENDARS } from '../client.js';
import { intervalToTimespan } from '../core/intervals.js';
import { calendarDay } from '../core/venue-calendar.js';
import { parseDownloadConfig } from '../registry.js';
import {
  abortOnSignals,
  type CliIo,
  type CommonOptions,
  providerName,
  resolveEndpoints,
} from './context.js';
import { UsageError } from './exit.js';
import { createProgressReporter } from './output.js';

export interface DownloadOptions extends CommonOptions {
  ticker: string;
  start: string;
  end?: string;
  interval: string;
  data: string;
}

/** `argo-market download`: one Parquet file per run; prints its path. */
export async function downloadCommand(options: DownloadOptions, io: CliIo): Promise<void> {
  const name = providerName(options.provider);
  if (name === 'jetstream') {
    throw new UsageError(
      'download reads from venues; to replay bars from the bus use JetStreamProvider.download() or `argo-market store`',
    );
  }
  // Validate everything the user typed before starting anything (usage errors exit 2). Without
  // --end the download runs to the end of today in the venue's calendar (closed bars only).
  const endDate = options.end ?? calendarDay(Date.now(), VENUE_CALENDARS[name]);
  const probe = parseDownloadConfig(name, {
    ticker: options.ticker,
    startDate: options.start,
    endDate,
    interval: options.interval,
    ...(name === 'polygon'
      ? { apiKey: options.apiKey ?? io.env.POLYGON_API_KEY ?? 'simulated' }
      : {}),
  });
  const endpoints = await resolveEndpoints(name, options, io);
  const controller = new AbortController();
  const removeSignals = abortOnSignals(controller, io);
  const progress = createProgressReporter(io.stderr);
  try {
    const client = new MarketDataClient(
      {
        providerType: name,
        writerType: 'duckdb',
        dataPath: options.data,
        ...(endpoints.apiKey ? { polygonApiKey: endpoints.apiKey } : {}),
        providerOptions: endpoints.providerOptions,
      },
      (current, total, message) => progress.update(current, total, message),
    );
    const { multiplier, timespan } = intervalToTimespan(probe.interval);
    // The strings as typed: day strings are whole days in the venue's calendar (DESIGN.md §4).
    const path = await client.download({
      ticker: probe.ticker,
      startDate: options.start,
      endDate,
      multiplier,
      timespan,
      signal: controller.signal,
    });
    progress.stop();
    io.stdout.write(`${path}\n`);
  } finally {
    progress.stop();
    removeSignals();
    await endpoints.simulator?.close();
  }
}
