import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseWithSchema } from './config/parse.js';
import { ConfigError } from './core/errors.js';
import { intervalToTimespan, timespanToInterval } from './core/intervals.js';
import type { Provider, Timespan } from './core/types.js';
import { calendarDay, type VenueCalendar } from './core/venue-calendar.js';
import { createProvider, getSupportedProviders, parseDownloadConfig } from './registry.js';
import { prepareOutputLocation } from './writers/atomic-file.js';
import { DuckDBWriter } from './writers/duckdb-writer.js';

/** The calendar a venue's day strings and file-name dates are read in (DESIGN.md §4). */
export const VENUE_CALENDARS: Record<'binance' | 'polygon' | 'bybit' | 'okx', VenueCalendar> = {
  binance: 'UTC',
  polygon: 'America/New_York',
  bybit: 'UTC',
  okx: 'UTC',
};

const clientConfigSchema = z
  .object({
    providerType: z.enum(['binance', 'polygon', 'bybit', 'okx']),
    writerType: z.literal('duckdb').default('duckdb'),
    dataPath: z.string().min(1, 'give the directory the Parquet files go to'),
    polygonApiKey: z.string().optional(),
    /** Extra provider options, e.g. `restBaseUrl` to point at the simulator. */
    providerOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Configuration of a {@link MarketDataClient}. */
export type MarketDataClientConfig = z.input<typeof clientConfigSchema>;

/**
 * Arguments of {@link MarketDataClient.download}. A `Date` (or an RFC 3339 string) is an exact
 * instant: bars whose open time is in `[startDate, endDate]`. A `YYYY-MM-DD` string is a whole
 * day in the venue's calendar (UTC for Binance, America/New_York for Polygon), both ends
 * included: `'2024-01-01'`…`'2024-01-31'` at 1 hour is 744 Binance bars.
 */
export interface ClientDownloadParams {
  ticker: string;
  startDate: Date | string;
  endDate: Date | string;
  multiplier: number;
  timespan: Timespan;
  signal?: AbortSignal;
}

/**
 * The download job of the Go `marketdata.Client`: one call fetches a ticker's bars for a date
 * range into `{dataPath}/{TICKER}_{START}_{END}_{multiplier}_{timespan}.parquet`.
 *
 * @example
 * const client = new MarketDataClient({ providerType: 'binance', writerType: 'duckdb', dataPath: 'data' });
 * // 744 bars: 2024-01-01 00:00 … 2024-01-31 23:00 UTC.
 * const path = await client.download({ ticker: 'BTCUSDT', startDate: '2024-01-01',
 *   endDate: '2024-01-31', multiplier: 1, timespan: 'hour' });
 */
export class MarketDataClient {
  readonly #config: z.output<typeof clientConfigSchema>;
  readonly #onProgress: ((current: number, total: number, message: string) => void) | undefined;

  constructor(
    config: MarketDataClientConfig,
    onProgress?: (current: number, total: number, message: string) => void,
  ) {
    if (
      typeof config === 'object' &&
      config !== null &&
      !getSupportedProviders().includes(config.providerType)
    ) {
      throw new ConfigError(
        'providerType',
        `unknown provider '${String(config.providerType)}': use one of ${getSupportedProviders().join(', ')}`,
      );
    }
    this.#config = parseWithSchema(clientConfigSchema, config, 'MarketDataClient config');
    this.#onProgress = onProgress;
  }

  /**
   * The file {@link download} writes for `params`, without downloading: lets a caller see that it
   * exists already (the CLI keeps such a file unless `--force`).
   */
  outputPath(params: Omit<ClientDownloadParams, 'signal'>): string {
    return this.#plan(params).path;
  }

  #plan(params: Omit<ClientDownloadParams, 'signal'>) {
    const { providerType, dataPath, polygonApiKey } = this.#config;
    const interval = timespanToInterval(params.multiplier, params.timespan);
    const validated = parseDownloadConfig(providerType, {
      ticker: params.ticker,
      startDate: toInput(params.startDate, 'startDate'),
      endDate: toInput(params.endDate, 'endDate'),
      interval,
      ...(providerType === 'polygon' ? { apiKey: polygonApiKey ?? '' } : {}),
    });
    const { multiplier, timespan } = intervalToTimespan(interval);
    const calendar = VENUE_CALENDARS[providerType];
    const fileName = `${validated.ticker}_${calendarDay(validated.startDate.getTime(), calendar)}_${calendarDay(validated.endDate.getTime(), calendar)}_${multiplier}_${timespan}.parquet`;
    const path = join(dataPath, fileName);
    // Symbol rules keep `/` and `..` out of tickers; this holds the line whatever they allow.
    if (resolve(dirname(path)) !== resolve(dataPath) || basename(path) !== fileName) {
      throw new ConfigError(
        'ticker',
        `ticker ${JSON.stringify(validated.ticker)} cannot name a file`,
        {
          code: 'INVALID_SYMBOL',
        },
      );
    }
    return { validated, interval, multiplier, timespan, path };
  }

  /**
   * Downloads into a new Parquet file and resolves to its path; no file on failure or abort. The
   * output directory is created and checked before the first request (fatal `WRITER` error).
   */
  async download(params: ClientDownloadParams): Promise<string> {
    const { providerType, polygonApiKey, providerOptions } = this.#config;
    const { validated, interval, multiplier, timespan, path } = this.#plan(params);
    const location = await prepareOutputLocation(path);
    try {
      const provider: Provider = createProvider(providerType, {
        ...providerOptions,
        symbols: [validated.ticker],
        interval,
        ...(providerType === 'polygon' ? { apiKey: polygonApiKey } : {}),
      });
      provider.configWriter(new DuckDBWriter(path));
      return await provider.download({
        ticker: validated.ticker,
        startDate: validated.startDate,
        endDate: validated.endDate,
        multiplier,
        timespan,
        ...(this.#onProgress ? { onProgress: this.#onProgress } : {}),
        ...(params.signal ? { signal: params.signal } : {}),
      });
    } catch (error) {
      // No file was written (atomic output); the directories made for it go too.
      await location.undo();
      throw error;
    }
  }
}

// A Date is exact (its ISO instant); a string goes to the schema as given (day or RFC 3339).
function toInput(date: Date | string, field: string): string {
  if (typeof date === 'string') return date;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new ConfigError(field, `${field} must be a valid Date, YYYY-MM-DD or RFC 3339 string`);
  }
  return date.toISOString();
}
