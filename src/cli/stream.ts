import type { MarketDataError } from '../core/errors.js';
import type { Interval, Provider } from '../core/types.js';
import { isDatasetProvider } from '../dataset/layout.js';
import { LiveDataset } from '../dataset/live.js';
import type { StreamMetrics } from '../metrics/stream-metrics.js';
import { createProvider, parseStreamConfig } from '../registry.js';
import { StreamingDuckDBWriter } from '../writers/streaming-duckdb-writer.js';
import { type BusStreamOptions, busStreamCommand } from './bus-stream.js';
import {
  abortOnSignals,
  type CliIo,
  type CommonOptions,
  dataDirFor,
  providerName,
  resolveEndpoints,
} from './context.js';
import { UsageError } from './exit.js';
import {
  cliRegistry,
  type MetricsCliOptions,
  maxSymbolSeries,
  startCliMetrics,
} from './metrics.js';
import { formatBarJson, formatBarLine } from './output.js';
import { formatStatusLine, reportRequestRetries } from './retry-report.js';

// `--dataset DIR`: first syncs what the dataset lacks, then takes every closed bar.
async function openLiveDataset(
  name: string,
  options: StreamOptions,
  symbols: string[],
  endpoints: { providerOptions: Record<string, unknown>; apiKey: string | undefined },
  signal: AbortSignal,
): Promise<LiveDataset> {
  if (!isDatasetProvider(name)) throw new UsageError(`--dataset does not support '${name}'`);
  return LiveDataset.open({
    data: options.dataset as string,
    provider: name,
    interval: options.interval as Interval,
    symbols,
    providerOptions: {
      ...endpoints.providerOptions,
      ...(endpoints.apiKey ? { apiKey: endpoints.apiKey } : {}),
    },
    signal,
  });
}

export interface StreamOptions extends CommonOptions, MetricsCliOptions {
  symbols: string;
  interval: string;
  out?: string;
  json?: boolean;
  /** `--dataset DIR`: append closed bars to the dataset's month files (DESIGN.md §10). */
  dataset?: string;
}

/**
 * `argo-market stream`: one line per closed bar on stdout; status, retries and non-fatal errors
 * on stderr. Ctrl-C, SIGTERM, SIGHUP or a closed stdout close the sockets, finalize `--out` with
 * every bar received and exit 0. A fatal stream error exits 1.
 */
export async function streamCommand(
  options: StreamOptions & BusStreamOptions,
  io: CliIo,
): Promise<void> {
  // NATS JetStream bus (DESIGN §9): `--provider jetstream` reads it, `--publish` feeds it.
  if (options.provider === 'jetstream' || options.publish) return busStreamCommand(options, io);
  const name = providerName(options.provider);
  const symbols = options.symbols
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  // Validate before starting a simulator or touching the network (usage errors exit 2).
  parseStreamConfig(name, {
    symbols,
    interval: options.interval,
    ...(name === 'polygon'
      ? { apiKey: options.apiKey ?? io.env.POLYGON_API_KEY ?? 'simulated' }
      : {}),
  });
  const endpoints = await resolveEndpoints(name, options, io);
  const controller = new AbortController();
  const removeSignals = abortOnSignals(controller, io);
  const stopRetryReport = reportRequestRetries(io);
  let writer: StreamingDuckDBWriter | undefined;
  let fatal: MarketDataError | undefined;
  let live: LiveDataset | undefined;
  let metricsServer: Awaited<ReturnType<typeof startCliMetrics>>;
  const registry = cliRegistry(options);
  try {
    const provider = createProvider(name, {
      ...endpoints.providerOptions,
      symbols,
      interval: options.interval,
      ...(endpoints.apiKey ? { apiKey: endpoints.apiKey } : {}),
      ...(registry ? { metrics: registry, maxSymbolSeries: maxSymbolSeries(options) } : {}),
    });
    const health = (provider as { streamMetrics?: StreamMetrics }).streamMetrics?.health;
    metricsServer = await startCliMetrics(
      options,
      registry,
      health ? () => health.report() : undefined,
      io,
    );
    // Tick sizes are asked for once the venue has answered (a socket is up), so an outage is
    // reported by the stream alone, not twice.
    let decimals: Promise<Map<string, number>> | undefined;
    provider.setOnStatusChange((status, detail) => {
      io.stderr.write(`${formatStatusLine(status, detail, name)}\n`);
      if (status === 'connected') decimals ??= priceDecimals(provider, controller.signal);
    });
    if (options.out) {
      const dir = dataDirFor(options.out, endpoints);
      writer = new StreamingDuckDBWriter(
        dir,
        name,
        options.interval as Interval,
        registry ? { metrics: registry } : {},
      );
      await writer.initialize();
      io.stderr.write(
        `persisting to ${writer.getOutputPath()} (store: ${writer.getStorePath()})\n`,
      );
    }
    live = options.dataset
      ? await openLiveDataset(name, options, provider.getSymbols(), endpoints, controller.signal)
      : undefined;
    let precision: Map<string, number> | undefined;
    for await (const [bar, err] of provider.stream(controller.signal)) {
      if (err) {
        if (err.fatal) {
          fatal = err;
          break;
        }
        io.stderr.write(`warning [${err.code}]: ${err.message}\n`);
        continue;
      }
      precision ??= await (decimals ?? priceDecimals(provider, controller.signal));
      if (!controller.signal.aborted) {
        const line = options.json
          ? formatBarJson(bar)
          : formatBarLine(bar, precision.get(bar.symbol));
        io.stdout.write(`${line}\n`);
      }
      await writer?.write(bar);
      await live?.write(bar);
    }
    if (writer) io.stderr.write(`saved ${await writer.finalize()}\n`);
  } finally {
    stopRetryReport();
    removeSignals();
    await writer?.close();
    await live?.close();
    await metricsServer?.close();
    await endpoints.simulator?.close();
  }
  if (fatal) throw fatal;
}

/** The venue's tick precision per symbol where it publishes one (Binance); empty otherwise. */
function priceDecimals(provider: Provider, signal: AbortSignal): Promise<Map<string, number>> {
  const withTicks = provider as Provider & {
    priceDecimals?: (signal?: AbortSignal) => Promise<Map<string, number>>;
  };
  if (typeof withTicks.priceDecimals !== 'function') return Promise.resolve(new Map());
  // Without tick sizes prices still print with every digit they have; the stream itself reports
  // why the venue did not answer.
  return withTicks.priceDecimals(signal).catch(() => new Map<string, number>());
}
