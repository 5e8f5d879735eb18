// The Bybit leg of `npm run soak` (issue 20 point 6): BybitProvider streams the simulator's
// Bybit side (the same symbols and market as Binance) under its own random faults, and is
// verified like the other venues. Kept apart from soak.ts so each venue's leg merges alone.
import type { Interval } from '../src/core/types.js';
import { BybitProvider } from '../src/providers/bybit/provider.js';
import type { Simulator } from '../src/simulator/index.js';
import type { SoakOptions, SoakVenueReport } from './soak.js';
import { COMMON_FAULTS, faultSchedule, injectCommonFault } from './soak-faults.js';

const INTERVAL = '1m' satisfies Interval;
/** Faults the Bybit side takes: every common one (a forced 403 would be a real ban: never). */

type Consume = (
  name: SoakVenueReport['provider'],
  provider: BybitProvider,
  symbolCount: number,
  sim: Simulator,
  dataDir: string,
  signal: AbortSignal,
  log: (line: string) => void,
) => Promise<SoakVenueReport>;

/** Runs the Bybit leg until `signal`; faults are counted into `faults` as `bybit:<fault>`. */
export async function bybitSoakLeg(
  leg: {
    sim: Simulator;
    symbols: string[];
    resilience: Record<string, number>;
    dataDir: string;
    options: SoakOptions;
    consume: Consume;
    faults?: Record<string, number>;
  },
  signal: AbortSignal,
): Promise<SoakVenueReport> {
  const log = leg.options.log ?? (() => {});
  const provider = new BybitProvider({
    symbols: leg.symbols,
    interval: INTERVAL,
    restBaseUrl: leg.sim.bybit.restUrl,
    wsBaseUrl: leg.sim.bybit.wsUrl,
    ...leg.resilience,
  });
  const faults = leg.faults ?? {};
  const faultLoop = injectBybitFaults(
    leg.sim,
    leg.options.faultEveryMs ?? 3000,
    (leg.options.seed ?? 42) + 1,
    faults,
    signal,
    log,
  );
  const report = await leg.consume(
    'bybit',
    provider,
    leg.symbols.length,
    leg.sim,
    leg.dataDir,
    signal,
    log,
  );
  await faultLoop;
  log(`bybit faults: ${JSON.stringify(faults)}`);
  return report;
}

function injectBybitFaults(
  sim: Simulator,
  meanEveryMs: number,
  seed: number,
  counts: Record<string, number>,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  return faultSchedule(seed, meanEveryMs, signal, (random) => {
    const fault = COMMON_FAULTS[Math.floor(random() * COMMON_FAULTS.length)] ?? 'drop';
    counts[`bybit:${fault}`] = (counts[`bybit:${fault}`] ?? 0) + 1;
    log(`fault: ${fault} on bybit`);
    injectCommonFault(sim, fault, 'bybit', random, 1);
  });
}
