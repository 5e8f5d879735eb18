import { join } from 'node:path';
import { z } from 'zod';
import { parseWithSchema } from './config/parse.js';
import { ConfigError } from './core/errors.js';
import { intervalToTimespan, timespanToInterval } from './core/intervals.js';
import type { Provider, Timespan } from './core/types.js';
import { createProvider, getSupportedProviders, parseDownloadConfig } from './registry.js';
import { DuckDBWriter } from './writers/duckdb-writer.js';

const clientConfigSchema = z
  .object({
    providerType: z.enum(['binance', 'polygon']),
    writerType: z.literal('duckdb').default('duckdb'),
    dataPath: z.string().min(1, 'give the directory the Parquet files go to'),
    polygonApiKey: z.string().optional(),
    /** Extra provider options, e.g. `restBaseUrl` to point at the simulator. */
    providerOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Configuration of a {@link MarketDataClient}. */
export type MarketDataClientConfig = z.input<typeof clientConfigSchema>;

/** Arguments of {@link MarketDataClient.download}. */
export interface ClientDownloadParams {
  ticker: string;
  startDate: Date;
  endDate: Date;
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
 * const path = await client.download({ ticker: 'BTCUSDT', startDate: new Date('2024-01-01'),
 *   endDate: new Date('2024-01-31'), multiplier: 1, timespan: 'hour' });
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
      startDate: toIso(params.startDate, 'startDate'),
      endDate: toIso(params.endDate, 'endDate'),
      interval,
      ...(providerType === 'polygon' ? { apiKey: polygonApiKey ?? '' } : {}),
    });
    const { multiplier, timespan } = intervalToTimespan(interval);
    const fileName = `${validated.ticker}_${day(validated.startDate)}_${day(validated.endDate)}_${multiplier}_${timespan}.parquet`;
    return { validated, interval, multiplier, timespan, path: join(dataPath, fileName) };
  }

  /** Downloads into a new Parquet file and resolves to its path; no file on failure or abort. */
  async download(params: ClientDownloadParams): Promise<string> {
    const { providerType, polygonApiKey, providerOptions } = this.#config;
    const { validated, interval, multiplier, timespan, path } = this.#plan(params);
    const provider: Provider = createProvider(providerType, {
      ...providerOptions,
      symbols: [validated.ticker],
      interval,
      ...(providerType === 'polygon' ? { apiKey: polygonApiKey } : {}),
    });
    provider.configWriter(new DuckDBWriter(path));
    return provider.download({
      ticker: validated.ticker,
      startDate: validated.startDate,
      endDate: validated.endDate,
      multiplier,
      timespan,
      ...(this.#onProgress ? { onProgress: this.#onProgress } : {}),
      ...(params.signal ? { signal: params.signal } : {}),
    });
  }
}

function toIso(date: Date, field: string): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new ConfigError(field, `${field} must be a valid Date`);
  }
  return date.toISOString();
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
