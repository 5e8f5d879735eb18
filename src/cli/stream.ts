import type { MarketDataError } from '../core/errors.js';
import type { Interval } from '../core/types.js';
import { createProvider, parseStreamConfig } from '../registry.js';
import { StreamingDuckDBWriter } from '../writers/streaming-duckdb-writer.js';
import { type BusStreamOptions, busStreamCommand } from './bus-stream.js';
import {
  abortOnSignals,
  type CliIo,
  type CommonOptions,
  providerName,
  resolveEndpoints,
} from './context.js';
import { formatBarJson, formatBarLine } from './output.js';

export interface StreamOptions extends CommonOptions {
  symbols: string;
  interval: string;
  out?: string;
  json?: boolean;
}

/**
 * `argo-market stream`: one line per closed bar on stdout; status and non-fatal errors on stderr;
 * Ctrl-C closes the sockets, finalizes `--out` and exits 0. A fatal stream error exits 1.
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
  let writer: StreamingDuckDBWriter | undefined;
  let fatal: MarketDataError | undefined;
  try {
    const provider = createProvider(name, {
      ...endpoints.providerOptions,
      symbols,
      interval: options.interval,
      ...(endpoints.apiKey ? { apiKey: endpoints.apiKey } : {}),
    });
    provider.setOnStatusChange((status, detail) => {
      const extra =
        status === 'reconnecting' ? ` attempt ${detail.attempt} in ${detail.delayMs} ms` : '';
      const reason = options.verbose && detail.reason ? ` (${detail.reason})` : '';
      io.stderr.write(
        `status: ${status} ${detail.connection} [${detail.symbols.join(',')}]${extra}${reason}\n`,
      );
    });
    if (options.out) {
      writer = new StreamingDuckDBWriter(options.out, name, options.interval as Interval);
      await writer.initialize();
    }
    for await (const [bar, err] of provider.stream(controller.signal)) {
      if (err) {
        if (err.fatal) {
          fatal = err;
          break;
        }
        io.stderr.write(`warning [${err.code}]: ${err.message}\n`);
        continue;
      }
      io.stdout.write(`${options.json ? formatBarJson(bar) : formatBarLine(bar)}\n`);
      await writer?.write(bar);
    }
    if (writer) io.stderr.write(`saved ${await writer.finalize()}\n`);
  } finally {
    removeSignals();
    await writer?.close();
    await endpoints.simulator?.close();
  }
  if (fatal) throw fatal;
}
