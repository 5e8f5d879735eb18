// The simulator in its own Node process, so a bench measures the client alone (its CPU for the
// stream rows, its RSS for the scale rows). `forkSimulator` starts bench/sim-process.js as a child
// that runs `startSimulator(options)`, reports the Binance URLs over IPC and closes on request.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type FloodSendStats, floodSendStats } from '../src/simulator/binance/flood.js';
import { type SimulatorOptions, startSimulator } from '../src/simulator/index.js';

const READY_TIMEOUT_MS = 30_000;

interface Ready {
  restUrl: string;
  wsUrl: string;
  /** The child's Bybit URLs (bench/venues.ts). */
  bybit?: { restUrl: string; wsUrl: string };
}

/** A simulator running in a child process. */
export interface ForkedSimulator {
  binance: Ready;
  /** The child's Bybit side. */
  bybit: { restUrl: string; wsUrl: string };
  /** The child's pid (for its RSS, if a bench wants it). */
  pid: number | undefined;
  /** What the child's Binance flood has sent so far (its own clock). */
  floodStats(): Promise<FloodSendStats>;
  /** Sets the child's injected Binance REST latency (`faults.setRestLatency`). */
  setBinanceRestLatency(ms: number): Promise<void>;
  /** The child's count of Binance answers refused with `status` (`stats.rateLimitRefusals`). */
  binanceRefusals(status: 429 | 418): Promise<number>;
  /** Closes the simulator and waits for the child to exit. */
  close(): Promise<void>;
  /**
   * A Binance outage of `realMs` in the child: every socket dropped and reconnects refused
   * meanwhile (REST stays up). Resolves once the child has applied it.
   */
  outage(realMs: number): Promise<void>;
}

/** The parent's fault command to the child (see {@link ForkedSimulator.outage}). */
interface OutageCommand {
  outage: number;
}

/** Starts the simulator with `options` in a child process; resolves once it serves. */
export async function forkSimulator(options: SimulatorOptions): Promise<ForkedSimulator> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // A heap cap given to the client (a memory bench) is the client's, not the simulator's.
    execArgv: process.execArgv.filter((arg) => !arg.startsWith('--max-old-space-size')),
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('simulator child did not start within 30 s'));
    }, READY_TIMEOUT_MS);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as Ready);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator child exited (${code}) before it served`));
    });
  });
  return {
    binance: ready,
    bybit: ready.bybit ?? { restUrl: '', wsUrl: '' },
    pid: child.pid,
    async outage(realMs: number) {
      const applied = once(child, 'message');
      child.send({ outage: realMs } satisfies OutageCommand);
      await applied;
    },
    floodStats() {
      return ask<FloodSendStats>(child, 'floodStats');
    },
    async setBinanceRestLatency(ms: number) {
      await ask(child, { op: 'latency', ms });
    },
    binanceRefusals(status: 429 | 418) {
      return ask<number>(child, { op: 'refusals', status });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.send('close');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** One request to the child and its answer (requests are answered in order). */
function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise<T>((resolve) => {
    child.once('message', (answer) => resolve(answer as T));
    child.send(message as string);
  });
}

// As the child: `node sim-process.js '<options JSON>'`.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] && process.send) {
  const sim = await startSimulator(JSON.parse(process.argv[2]) as SimulatorOptions);
  process.on('message', (message) => {
    const command = message as Partial<OutageCommand> | null;
    if (typeof command === 'object' && command !== null && typeof command.outage === 'number') {
      sim.faults.refuseConnections(command.outage, 'binance');
      sim.faults.dropConnections('binance');
      process.send?.('outage');
      return;
    }
    if (message === 'floodStats') process.send?.(floodSendStats());
    const op = message as { op?: string; ms?: number; status?: 429 | 418 };
    if (op.op === 'latency') {
      sim.faults.setRestLatency(op.ms ?? 0, 'binance');
      process.send?.(true);
    }
    if (op.op === 'refusals')
      process.send?.(sim.stats.rateLimitRefusals(op.status ?? 429, 'binance'));
    if (message !== 'close') return;
    void sim.close().finally(() => process.exit(0));
  });
  process.on('disconnect', () => {
    void sim.close().finally(() => process.exit(0));
  });
  process.send({
    restUrl: sim.binance.restUrl,
    wsUrl: sim.binance.wsUrl,
    bybit: sim.bybit,
  } satisfies Ready);
}
