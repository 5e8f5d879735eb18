import { JetStreamProvider } from '../bus/jetstream-provider.js';
import { publishStream } from '../bus/publish.js';
import type { Replicas } from '../bus/stream-setup.js';
import type { MarketDataError } from '../core/errors.js';
import type { Interval, MarketData, StatusListener } from '../core/types.js';
import { PublishMetrics } from '../metrics/bus-metrics.js';
import { combinedReport } from '../metrics/health.js';
import type { StreamMetrics } from '../metrics/stream-metrics.js';
import { createProvider, parseStreamConfig } from '../registry.js';
import { StreamingDuckDBWriter } from '../writers/streaming-duckdb-writer.js';
import { abortOnSignals, type CliIo, providerName, resolveEndpoints } from './context.js';
import { UsageError } from './exit.js';
import { cliRegistry, maxSymbolSeries, startCliMetrics } from './metrics.js';
import { formatBarJson, formatBarLine } from './output.js';
import type { StreamOptions } from './stream.js';

/** The bus options of `argo-market stream` (DESIGN §9). */
export interface BusStreamOptions {
  publish?: string;
  replicas?: string;
  servers?: string;
  venue?: string;
  durable?: string;
  from?: string;
  natsToken?: string;
  natsCreds?: string;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function replicasOption(value: string | undefined): Replicas | undefined {
  if (value === undefined) return undefined;
  if (value === '1' || value === '3') return Number(value) as Replicas;
  throw new UsageError(`--replicas must be 1 or 3, got '${value}'`);
}

function credentials(options: BusStreamOptions, io: CliIo) {
  const token = options.natsToken ?? io.env.NATS_TOKEN;
  const credsFile = options.natsCreds ?? io.env.NATS_CREDS;
  return { ...(token ? { token } : {}), ...(credsFile ? { credsFile } : {}) };
}

function statusPrinter(io: CliIo, verbose: boolean | undefined): StatusListener {
  return (status, detail) => {
    const extra = status === 'reconnecting' && detail.attempt ? ` attempt ${detail.attempt}` : '';
    const reason = verbose && detail.reason ? ` (${detail.reason})` : '';
    io.stderr.write(`status: ${status} ${detail.connection}${extra}${reason}\n`);
  };
}

/**
 * `argo-market stream --provider jetstream` (a consumer of the bus) and
 * `argo-market stream … --publish nats://…` (a collector): one line per bar on stdout.
 */
export async function busStreamCommand(
  options: StreamOptions & BusStreamOptions,
  io: CliIo,
): Promise<void> {
  const symbols = splitList(options.symbols);
  const printBar = (bar: MarketData) =>
    io.stdout.write(`${options.json ? formatBarJson(bar) : formatBarLine(bar)}\n`);
  const warn = (err: MarketDataError) => io.stderr.write(`warning [${err.code}]: ${err.message}\n`);
  const controller = new AbortController();
  if (options.provider === 'jetstream') {
    if (!options.servers) throw new UsageError('--provider jetstream needs --servers nats://…');
    if (!options.venue) throw new UsageError('--provider jetstream needs --venue (e.g. binance)');
    const provider = new JetStreamProvider({
      servers: options.servers,
      venue: options.venue,
      symbols,
      interval: options.interval as Interval,
      ...(options.durable ? { durable: options.durable } : {}),
      ...(options.from ? { from: options.from } : {}),
      ...credentials(options, io),
    });
    provider.setOnStatusChange(statusPrinter(io, options.verbose));
    const removeSignals = abortOnSignals(controller, io);
    let writer: StreamingDuckDBWriter | undefined;
    let fatal: MarketDataError | undefined;
    try {
      if (options.out) {
        writer = new StreamingDuckDBWriter(
          options.out,
          options.venue,
          options.interval as Interval,
        );
        await writer.initialize();
      }
      for await (const [bar, err] of provider.stream(controller.signal)) {
        if (err) {
          if (err.fatal) {
            fatal = err;
            break;
          }
          warn(err);
          continue;
        }
        printBar(bar);
        await writer?.write(bar);
      }
      if (writer) io.stderr.write(`saved ${await writer.finalize()}\n`);
    } finally {
      removeSignals();
      await writer?.close();
    }
    if (fatal) throw fatal;
    return;
  }
  // Collector: validate before starting anything (usage errors exit 2).
  const name = providerName(options.provider);
  const replicas = replicasOption(options.replicas);
  parseStreamConfig(name, {
    symbols,
    interval: options.interval,
    ...(name === 'polygon'
      ? { apiKey: options.apiKey ?? io.env.POLYGON_API_KEY ?? 'simulated' }
      : {}),
  });
  const endpoints = await resolveEndpoints(name, options, io);
  const removeSignals = abortOnSignals(controller, io);
  // `--metrics-port`: the venue stream's series, the collector's publish series, one /healthz.
  const registry = cliRegistry(options);
  let metricsServer: Awaited<ReturnType<typeof startCliMetrics>>;
  try {
    const provider = createProvider(name, {
      ...endpoints.providerOptions,
      symbols,
      interval: options.interval,
      ...(endpoints.apiKey ? { apiKey: endpoints.apiKey } : {}),
      ...(registry ? { metrics: registry, maxSymbolSeries: maxSymbolSeries(options) } : {}),
    });
    const publishMetrics = registry
      ? new PublishMetrics(registry, name, options.interval as Interval, maxSymbolSeries(options))
      : undefined;
    const streamHealth = (provider as { streamMetrics?: StreamMetrics }).streamMetrics?.health;
    metricsServer = await startCliMetrics(
      options,
      registry,
      publishMetrics
        ? () =>
            combinedReport([
              ...(streamHealth ? [streamHealth.report()] : []),
              publishMetrics.health.report(),
            ])
        : undefined,
      io,
    );
    provider.setOnStatusChange(statusPrinter(io, options.verbose));
    const summary = await publishStream(provider, {
      servers: options.publish as string,
      ...(replicas ? { replicas } : {}),
      ...credentials(options, io),
      venue: name,
      ...(registry && publishMetrics ? { metrics: registry, publishMetrics } : {}),
      signal: controller.signal,
      onPublished: (bar) => printBar(bar),
      onError: warn,
      onStatus: statusPrinter(io, options.verbose),
    });
    io.stderr.write(
      `published: ${summary.stored} stored, ${summary.duplicates} already on the bus, ${summary.backfilled} backfilled\n`,
    );
  } finally {
    removeSignals();
    await metricsServer?.close();
    await endpoints.simulator?.close();
  }
}
