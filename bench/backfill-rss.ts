// Issue 14 point 3: memory stays bounded during a long backfill. A `1s` stream of 200 symbols
// loses its sockets for two venue hours (the simulator's clock makes that 30 real seconds), then
// backfills 1.44M bars over REST while live bars are held; its peak RSS is compared with the
// same stream over the same two venue hours without the outage (the same bars, all live).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { schedulerHost, sharedRestScheduler } from '../src/http/rest-scheduler.js';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import { createClock } from '../src/simulator/clock.js';
import type { Bench, BenchRow } from './report.js';
import { forkSimulator } from './sim-process.js';

const MB = 2 ** 20;
const SYMBOLS = 200;
/** Our choice: two venue hours in 30 real seconds. */
const SPEED = 240;
const OUTAGE_VENUE_MS = 2 * 3_600_000;
const START_MS = Date.UTC(2024, 5, 3);
/** Our choice: a run that has not recovered by then is reported as such, not waited for. */
const CASE_TIMEOUT_MS = 420_000;
/**
 * Our choice: the heap cap of the bounded run. Uncapped, V8 lets garbage pile up to most of a
 * gigabyte at this allocation rate before a full collection, so peak RSS alone cannot tell
 * retention from slack; a backfill that completes under this cap holds less than it.
 */
const HEAP_CAP_MB = 256;

interface BackfillCase {
  outage: boolean;
}

interface BackfillResult {
  peakRssMb: number;
  /** Peak V8 heap in use: what is retained, where RSS also holds the collector's slack. */
  peakHeapMb: number;
  baseRssMb: number;
  bars: number;
  /** Real seconds from the outage (or the same moment) until every symbol passed its end. */
  recoverySeconds: number;
  recovered: boolean;
  /** Why the child process failed (e.g. out of memory under the cap), if it did. */
  failed?: string;
}

function rssMb(): number {
  return process.memoryUsage().rss / MB;
}

/** Runs one case in a fresh Node process, so earlier benchmarks do not inflate its RSS. */
async function inChild(backfillCase: BackfillCase, heapCapMb?: number): Promise<BackfillResult> {
  const script = fileURLToPath(import.meta.url);
  const cap = heapCapMb === undefined ? [] : [`--max-old-space-size=${heapCapMb}`];
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', ...cap, script, JSON.stringify(backfillCase)],
      { maxBuffer: 1 << 20 },
    );
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as BackfillResult;
  } catch (error) {
    // An out-of-memory under the cap is a result of this bench, not a reason to stop the run.
    const reason = /out of memory/i.test(String((error as { stderr?: unknown }).stderr))
      ? 'out of memory'
      : String((error as Error).message).slice(0, 120);
    const nan = Number.NaN;
    return {
      peakRssMb: nan,
      peakHeapMb: nan,
      baseRssMb: nan,
      bars: 0,
      recoverySeconds: nan,
      recovered: false,
      failed: reason,
    };
  }
}

/**
 * Streams 200 symbols' `1s` bars until each has yielded one, then (with `outage`) drops every
 * socket and refuses reconnects for two venue hours; ends once every symbol has yielded a bar
 * from past those two hours. The simulator runs in another process: the RSS is the client's.
 */
export async function backfillCase(backfillCase: BackfillCase): Promise<BackfillResult> {
  const sim = await forkSimulator({
    seed: 12,
    speed: SPEED,
    start: START_MS,
    binanceSymbols: [],
    generatedBinanceSymbols: SYMBOLS,
    binanceUpdateFloorMs: 1000,
  });
  // The venue counts its weight minute on its accelerated clock: so does the scheduler (its
  // offset is corrected by the server-time read of each reconnect).
  const clock = createClock(START_MS, SPEED);
  sharedRestScheduler(schedulerHost(sim.binance.restUrl), {
    windows: [{ limit: 6000, windowMs: 60_000 }],
    clock,
  });
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `SIM${String(i).padStart(4, '0')}USDT`);
  const provider = new BinanceProvider({
    symbols,
    interval: '1s',
    connection: 'combined',
    restBaseUrl: sim.binance.restUrl,
    wsBaseUrl: sim.binance.wsUrl,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 500,
  });
  globalThis.gc?.();
  const baseRssMb = rssMb();
  let peakRssMb = baseRssMb;
  let peakHeapMb = 0;
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, rssMb());
    peakHeapMb = Math.max(peakHeapMb, process.memoryUsage().heapUsed / MB);
  }, 100);
  const seen = new Set<string>();
  let targetMs: number | undefined;
  let markedAt = 0;
  let pending = SYMBOLS;
  let newestMs = 0;
  let bars = 0;
  let recovered = false;
  try {
    for await (const [bar, err] of provider.stream(AbortSignal.timeout(CASE_TIMEOUT_MS))) {
      if (err) {
        if (err.fatal) throw err;
        continue;
      }
      bars++;
      const openMs = bar.time.getTime();
      if (openMs > newestMs) newestMs = openMs;
      if (targetMs === undefined) {
        seen.add(bar.symbol);
        if (seen.size < SYMBOLS) continue;
        targetMs = newestMs + OUTAGE_VENUE_MS;
        markedAt = performance.now();
        seen.clear();
        if (backfillCase.outage) await sim.outage(clock.realMsFor(OUTAGE_VENUE_MS));
        continue;
      }
      if (openMs < targetMs || seen.has(bar.symbol)) continue;
      seen.add(bar.symbol);
      pending--;
      if (pending === 0) {
        recovered = true;
        break;
      }
    }
  } finally {
    clearInterval(sampler);
    clock.dispose();
    await sim.close();
  }
  return {
    peakRssMb: Math.max(peakRssMb, rssMb()),
    peakHeapMb,
    baseRssMb,
    bars,
    recoverySeconds: (performance.now() - markedAt) / 1000,
    recovered,
  };
}

/** The bench row: peak RSS after a 2-hour outage next to the same stream without it. */
export const backfillRssBench: Bench = async () => {
  const live = await inChild({ outage: false });
  const outage = await inChild({ outage: true });
  const capped = await inChild({ outage: true }, HEAP_CAP_MB);
  const note = (r: BackfillResult): string =>
    r.failed !== undefined
      ? `FAILED: ${r.failed}`
      : `${r.recovered ? `${r.bars} bars in ${r.recoverySeconds.toFixed(0)} s` : 'DID NOT RECOVER'}, peak heap ${r.peakHeapMb.toFixed(0)} MB`;
  const rows: BenchRow[] = [
    {
      name: 'scale: RSS, 1s stream of 200 symbols after a 2-hour outage',
      workload: `Binance combined 1s bars at ${SPEED}x; every socket dropped and refused for 2 venue hours (${OUTAGE_VENUE_MS / SPEED / 1000} s), then 1.44M bars backfilled over REST at the 6,000/min weight limit while live bars are held (${note(outage)}); without the outage the same 2 hours stream live (${note(live)}); peak RSS of a fresh client process (simulator in another process)`,
      value: outage.peakRssMb,
      baseline: 'same stream, no outage',
      baselineValue: live.peakRssMb,
      unit: 'MB',
      ratio: outage.peakRssMb / live.peakRssMb,
      ratioMeaning: 'of the no-outage RSS',
    },
    {
      name: `scale: RSS, the same backfill with the heap capped at ${HEAP_CAP_MB} MB`,
      workload: `as above with --max-old-space-size=${HEAP_CAP_MB} in the client (${note(capped)}): no out-of-memory means what the backfill retains fits the cap; the uncapped peak is mostly the collector's slack`,
      value: capped.peakRssMb,
      baseline: 'uncapped backfill',
      baselineValue: outage.peakRssMb,
      unit: 'MB',
      ratio: capped.peakRssMb / outage.peakRssMb,
      ratioMeaning: 'of the uncapped RSS',
    },
  ];
  return rows;
};

// As a child of backfillRssBench: `node backfill-rss.js '{"outage":true}'` prints one JSON line.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  const result = await backfillCase(JSON.parse(process.argv[2]) as BackfillCase);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
