import { join } from 'node:path';
import { getSupportedProviders, type ProviderName } from '../registry.js';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { UsageError } from './exit.js';

/** What a command writes to and reads from; tests pass their own streams. */
export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** Options every data command shares. */
export interface CommonOptions {
  provider: string;
  apiKey?: string;
  simulate?: boolean;
  speed?: string;
  seed?: string;
  verbose?: boolean;
  /** A venue serving Binance REST and WebSocket on one host, e.g. `simulate`'s Binance URL. */
  binanceUrl?: string;
  /** The same for Polygon. */
  polygonUrl?: string;
  /** The same for Bybit. */
  bybitUrl?: string;
  /** The same for OKX. */
  okxUrl?: string;
  /** Retries of one REST request (network errors, 5xx, 429). */
  retries?: string;
}

/** The provider name, or a usage error listing the choices. */
export function providerName(value: string): ProviderName {
  if ((getSupportedProviders() as string[]).includes(value)) return value as ProviderName;
  throw new UsageError(
    `unknown provider '${value}': use one of ${getSupportedProviders().join(', ')}`,
  );
}

/** A positive number option, or a usage error naming it. */
export function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new UsageError(`--${name} must be a positive number, got '${value}'`);
  }
  return parsed;
}

/**
 * Endpoints (and key) for the provider, from the embedded simulator when `--simulate` is given.
 * `simulated` is true unless the data comes from the real venue: such files go into a
 * `simulated/` subdirectory so they never take the name of real data.
 */
export interface Endpoints {
  providerOptions: Record<string, unknown>;
  apiKey: string | undefined;
  simulator: Simulator | undefined;
  simulated: boolean;
}

/** Where data of `endpoints` is written under the directory the user gave. */
export function dataDirFor(dir: string, endpoints: Endpoints): string {
  return endpoints.simulated ? join(dir, SIMULATED_DIR) : dir;
}

/** Subdirectory of simulated (or otherwise not real) data. */
export const SIMULATED_DIR = 'simulated';

/** `http://h:p` → REST `http://h:p` and WebSocket `ws://h:p` (the simulator serves both). */
function venueUrls(flag: string, value: string): { restBaseUrl: string; wsBaseUrl: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be a URL such as http://127.0.0.1:40123, got '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} must be an http:// or https:// URL, got '${value}'`);
  }
  const rest = value.replace(/\/+$/, '');
  return { restBaseUrl: rest, wsBaseUrl: rest.replace(/^http/, 'ws') };
}

function retryOptions(options: CommonOptions): Record<string, unknown> {
  if (options.retries === undefined) return {};
  const retries = Number(options.retries);
  if (!Number.isInteger(retries) || retries < 0 || retries > 100) {
    throw new UsageError(
      `--retries must be a whole number from 0 to 100, got '${options.retries}'`,
    );
  }
  return { maxRetries: retries };
}

export async function resolveEndpoints(
  name: ProviderName,
  options: CommonOptions,
  io: CliIo,
): Promise<Endpoints> {
  const givenKey = options.apiKey ?? io.env.POLYGON_API_KEY;
  const retry = retryOptions(options);
  const venueFlag = `--${name}-url`;
  const venueUrl = {
    binance: options.binanceUrl,
    polygon: options.polygonUrl,
    bybit: options.bybitUrl,
    okx: options.okxUrl,
  }[name as 'binance' | 'polygon' | 'bybit' | 'okx'];
  if (options.simulate && venueUrl !== undefined) {
    throw new UsageError(`give --simulate or ${venueFlag}, not both`);
  }
  if (!options.simulate) {
    if (name === 'polygon' && !givenKey) {
      throw new UsageError(
        'polygon needs an API key: pass --api-key KEY or set POLYGON_API_KEY (or use --simulate)',
      );
    }
    return {
      providerOptions: { ...(venueUrl ? venueUrls(venueFlag, venueUrl) : {}), ...retry },
      apiKey: givenKey,
      simulator: undefined,
      simulated: venueUrl !== undefined,
    };
  }
  const simulator = await startSimulator({
    speed: numberOption('speed', options.speed, 1),
    seed: numberOption('seed', options.seed, 1),
  });
  const venue =
    name === 'bybit'
      ? simulator.bybit
      : name === 'okx'
        ? simulator.okx
        : name === 'binance'
          ? simulator.binance
          : simulator.polygon;
  return {
    providerOptions: { restBaseUrl: venue.restUrl, wsBaseUrl: venue.wsUrl, ...retry },
    // A key given with --simulate is used as is, so a wrong one shows how auth failures look.
    apiKey: name === 'polygon' ? (givenKey ?? simulator.polygon.apiKey) : undefined,
    simulator,
    simulated: true,
  };
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Aborts on the first SIGINT, SIGTERM or SIGHUP (a closed terminal), and when stdout is closed
 * (`… | head -3`: the reader left, so the rest is stopped as Ctrl-C stops it, without an EPIPE
 * stack trace). A second signal exits at once. Returns the remover.
 */
export function abortOnSignals(controller: AbortController, io: CliIo): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    io.stderr.write(`received ${signal}, stopping…\n`);
    controller.abort();
  };
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (!controller.signal.aborted) {
      io.stderr.write(`stdout closed (${error.code ?? error.message}), stopping…\n`);
      controller.abort();
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  io.stdout.on('error', onStdoutError);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    // Late EPIPEs of writes already queued must not crash the exit either.
    io.stdout.off('error', onStdoutError);
    io.stdout.on('error', () => {});
  };
}
