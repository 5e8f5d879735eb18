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

/** Endpoints (and key) for the provider, from the embedded simulator when `--simulate` is given. */
export interface Endpoints {
  providerOptions: Record<string, unknown>;
  apiKey: string | undefined;
  simulator: Simulator | undefined;
}

export async function resolveEndpoints(
  name: ProviderName,
  options: CommonOptions,
  io: CliIo,
): Promise<Endpoints> {
  const givenKey = options.apiKey ?? io.env.POLYGON_API_KEY;
  if (!options.simulate) {
    if (name === 'polygon' && !givenKey) {
      throw new UsageError(
        'polygon needs an API key: pass --api-key KEY or set POLYGON_API_KEY (or use --simulate)',
      );
    }
    return { providerOptions: {}, apiKey: givenKey, simulator: undefined };
  }
  const simulator = await startSimulator({
    speed: numberOption('speed', options.speed, 1),
    seed: numberOption('seed', options.seed, 1),
  });
  const venue = name === 'binance' ? simulator.binance : simulator.polygon;
  return {
    providerOptions: { restBaseUrl: venue.restUrl, wsBaseUrl: venue.wsUrl },
    // A key given with --simulate is used as is, so a wrong one shows how auth failures look.
    apiKey: name === 'polygon' ? (givenKey ?? simulator.polygon.apiKey) : undefined,
    simulator,
  };
}

/** Aborts on the first SIGINT/SIGTERM; a second one exits at once. Returns the remover. */
export function abortOnSignals(controller: AbortController, io: CliIo): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    io.stderr.write(`received ${signal}, stopping…\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
