// The soak's random faults, shared by every venue's leg (soak.ts, soak-bybit.ts, soak-okx.ts).
import { sleep } from '../src/core/abort.js';
import type { Simulator } from '../src/simulator/index.js';
import type { Venue } from '../src/simulator/stats.js';

/** The faults every venue's leg injects (Binance adds `rotate`, a reconnect storm). */
export const COMMON_FAULTS = [
  'drop',
  'refuse',
  'silence',
  'malformed',
  'http429',
  'http5xx',
] as const;
export type CommonFault = (typeof COMMON_FAULTS)[number];

/**
 * Calls `inject(random)` at random moments, 0.5–1.5× `meanEveryMs` apart, until `signal` aborts.
 * `random` is xorshift32 from `seed`, and the wait draws from it too, so a seed gives the same
 * schedule and the same faults.
 */
export async function faultSchedule(
  seed: number,
  meanEveryMs: number,
  signal: AbortSignal,
  inject: (random: () => number) => void,
): Promise<void> {
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  while (!signal.aborted) {
    try {
      await sleep(meanEveryMs * (0.5 + random()), signal);
    } catch {
      return;
    }
    inject(random);
  }
}

/** Injects one of the common faults on `venue`; `retryAfterSec` goes with the 429 if given. */
export function injectCommonFault(
  sim: Simulator,
  fault: CommonFault,
  venue: Venue,
  random: () => number,
  retryAfterSec?: number,
): void {
  switch (fault) {
    case 'drop':
      sim.faults.dropConnections(venue);
      break;
    case 'refuse':
      sim.faults.refuseConnections(800, venue);
      sim.faults.dropConnections(venue);
      break;
    case 'silence':
      sim.faults.goSilent(venue);
      break;
    case 'malformed':
      sim.faults.sendMalformed(3, venue);
      break;
    case 'http429':
      sim.faults.failHttp(2, 429, { ...(retryAfterSec ? { retryAfterSec } : {}), venue });
      break;
    case 'http5xx':
      sim.faults.failHttp(2, random() < 0.5 ? 500 : 503, { venue });
      break;
  }
}
