import { ChartFeed } from '../chart/feed.js';
import { FileChartView } from '../chart/file-view.js';
import { datasetHistory, providerHistory } from '../chart/history.js';
import { type ChartView, startChartServer } from '../chart/server.js';
import { intervalMs } from '../core/intervals.js';
import type { Interval } from '../core/types.js';
import { isDatasetProvider } from '../dataset/layout.js';
import { createProvider, parseStreamConfig } from '../registry.js';
import {
  abortOnSignals,
  type CliIo,
  type CommonOptions,
  numberOption,
  providerName,
  resolveEndpoints,
} from './context.js';
import { UsageError } from './exit.js';

export interface ChartOptions extends Partial<CommonOptions> {
  symbols?: string;
  interval?: string;
  file?: string;
  port?: string;
  history?: string;
  /** A `sync` dataset to draw the history from (the venue's REST fills what it lacks). */
  data?: string;
}

/**
 * `argo-market chart`: serves the chart page on 127.0.0.1, prints `chart: URL` first on stdout,
 * and runs until Ctrl-C (or SIGTERM), then closes the page sockets, the stream and the server.
 */
export async function chartCommand(options: ChartOptions, io: CliIo): Promise<void> {
  const port = options.port === undefined ? 0 : portOption(options.port);
  const controller = new AbortController();
  const removeSignals = abortOnSignals(controller, io);
  let closeSimulator: (() => Promise<void>) | undefined;
  try {
    let view: ChartView;
    if (options.file !== undefined) {
      if (options.symbols !== undefined || options.provider !== undefined) {
        throw new UsageError('--file draws a file: leave out --provider and --symbols');
      }
      view = await FileChartView.open(options.file);
    } else {
      view = await liveView(options, io, (close) => {
        closeSimulator = close;
      });
    }
    const server = await startChartServer(view, { port });
    io.stdout.write(`chart: ${server.url}\n`);
    io.stderr.write('open the address in a browser; Ctrl-C stops\n');
    if (!controller.signal.aborted) {
      await new Promise<void>((resolve) =>
        controller.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
    await server.close();
  } finally {
    removeSignals();
    await closeSimulator?.();
  }
}

async function liveView(
  options: ChartOptions,
  io: CliIo,
  ownSimulator: (close: () => Promise<void>) => void,
): Promise<ChartView> {
  if (options.provider === undefined || options.symbols === undefined || !options.interval) {
    throw new UsageError('chart needs --provider, --symbols and --interval (or --file X.parquet)');
  }
  const name = providerName(options.provider);
  const symbols = options.symbols
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const historyBars = numberOption('history', options.history, 300);
  if (!Number.isInteger(historyBars))
    throw new UsageError('--history must be a whole number of bars');
  parseStreamConfig(name, {
    symbols,
    interval: options.interval,
    ...(name === 'polygon'
      ? { apiKey: options.apiKey ?? io.env.POLYGON_API_KEY ?? 'simulated' }
      : {}),
  });
  const endpoints = await resolveEndpoints(name, { ...options, provider: name }, io);
  const simulator = endpoints.simulator;
  if (simulator) ownSimulator(() => simulator.close());
  const config = {
    ...endpoints.providerOptions,
    symbols,
    interval: options.interval,
    ...(endpoints.apiKey ? { apiKey: endpoints.apiKey } : {}),
  };
  const interval = options.interval as Interval;
  const venueHistory = providerHistory(() => createProvider(name, config), interval);
  let history = venueHistory;
  if (options.data !== undefined) {
    if (!isDatasetProvider(name)) throw new UsageError(`--data does not support '${name}'`);
    history = datasetHistory(options.data, name, interval, venueHistory);
  }
  return new ChartFeed({
    provider: createProvider(name, config),
    providerName: name,
    history,
    historyBars,
    intervalMs: intervalMs(interval),
    ...(simulator ? { venueNowMs: () => simulator.clock.now() } : {}),
  });
}

function portOption(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--port must be 0 (a free port) to 65535, got '${value}'`);
  }
  return port;
}
