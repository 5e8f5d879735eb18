import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { expect, it, onTestFailed, onTestFinished } from 'vitest';
import { JetStreamProvider } from '../../src/bus/jetstream-provider.js';
import { ensureBarStream } from '../../src/bus/stream-setup.js';
import { STREAM_NAME } from '../../src/bus/subjects.js';
import type { MarketData } from '../../src/core/types.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { readParquetBars } from '../../src/writers/parquet-reader.js';
import { MemoryWriter } from '../helpers/memory-writer.js';
import { startNatsCluster } from '../helpers/nats-cluster.js';
import { spawnCli } from '../helpers/run-cli.js';

const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const COLLECTOR = fileURLToPath(new URL('../fixtures/collector-child.mjs', import.meta.url));
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];

// What happened when, printed if the test fails: phases, statuses, the children's stderr.
const T0 = Date.now();
const timeline: string[] = [];
const mark = (what: string) => timeline.push(`${((Date.now() - T0) / 1000).toFixed(2)}s ${what}`);

/** Lines of a child's stdout as they arrive (its stderr lines too, marked, and in the timeline). */
function lines(child: ChildProcess, name: string): string[] {
  const out: string[] = [];
  child.stderr?.on('data', (chunk: string) => mark(`${name}: ${String(chunk).trim()}`));
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      out.push(line);
      if (out.length % 20 === 0) mark(`${name}: ${out.length} lines, last ${line}`);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    out.push(
      ...chunk
        .split('\n')
        .filter(Boolean)
        .map((line) => `stderr: ${line}`),
    );
  });
  return out;
}

async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

const steps = (bars: MarketData[]) =>
  bars.slice(1).map((bar, i) => bar.time.getTime() - (bars[i] as MarketData).time.getTime());

it('simulator → two collectors (R3) → consumer + store: kill -9 a collector, lose a node, restart the store; every bar once, in order', async () => {
  onTestFailed(() => console.error(`timeline:\n${timeline.join('\n')}`));
  const sim = await startSimulator({ seed: 11, speed: 300 });
  onTestFinished(() => sim.close());
  const cluster = await startNatsCluster();
  onTestFinished(() => cluster.close());
  const out = await mkdtemp(join(tmpdir(), 'argo-e2e-'));
  onTestFinished(() => rm(out, { recursive: true, force: true }));
  const children: ChildProcess[] = [];
  onTestFinished(() => Promise.all(children.map(killHard)).then(() => {}));

  // The bar stream as the first collector would create it; then the store service and the
  // consumer subscribe before any bar is published.
  const admin = await connect({ servers: cluster.urls });
  onTestFinished(() => admin.close());
  const jsm0 = await jetstreamManager(admin);
  await ensureBarStream(jsm0, 3, new AbortController().signal);
  // `--from` now: the store's durable takes every bar published from here on, even those
  // published before its process has subscribed.
  const storeArgs = [
    'store',
    '--servers',
    cluster.servers,
    '--venue',
    'binance',
    '--interval',
    '1m',
    '--out',
    out,
    '--from',
    new Date().toISOString(),
  ];
  const storeRuns: string[][] = [];
  const startStore = () => {
    const child = spawnCli(storeArgs);
    children.push(child);
    const run = { child, out: lines(child, `store${storeRuns.length}`) };
    storeRuns.push(run.out);
    return run;
  };
  let store = startStore();
  const ac = new AbortController();
  const consumer = new JetStreamProvider({
    servers: cluster.urls,
    venue: 'binance',
    symbols: SYMBOLS,
    interval: '1m',
  });
  const statuses: string[] = [];
  consumer.setOnStatusChange((status, d) => {
    statuses.push(status);
    mark(`consumer ${status} ${d.connection}`);
  });
  const received: MarketData[] = [];
  const errors: string[] = [];
  const consuming = (async () => {
    for await (const [bar, err] of consumer.stream(ac.signal)) {
      if (err) {
        errors.push(`${new Date().toISOString()} ${err.code} ${err.message}`);
        expect(err.fatal, err.message).toBe(false);
        continue;
      }
      received.push(bar);
      if (received.length % 10 === 0) mark(`consumer has ${received.length} bars`);
    }
  })();
  await expect.poll(() => statuses.includes('connected'), { timeout: 15_000 }).toBe(true);

  const startCollector = () => {
    const child = spawn(
      process.execPath,
      [
        COLLECTOR,
        DIST_INDEX,
        cluster.servers,
        sim.binance.restUrl,
        sim.binance.wsUrl,
        SYMBOLS.join(','),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    return { child, out: lines(child, `coll${children.length}`) };
  };
  const collectorA = startCollector();
  const collectorB = startCollector();

  // On a failure: where the store's durable and the stream stand, and the timeline.
  const diagnose = async (label: string) => {
    const durable = await jsm0.consumers
      .info(STREAM_NAME, 'argo-store-binance-1m')
      .then(
        (ci) =>
          `pending ${ci.num_pending}, ack pending ${ci.num_ack_pending}, acked to ${ci.ack_floor.stream_seq}`,
      )
      .catch((error: unknown) => String(error));
    const bus = await jsm0.streams
      .info(STREAM_NAME)
      .then((si) => `${si.state.messages} messages, leader ${si.cluster?.leader}`)
      .catch((error: unknown) => String(error));
    console.error(
      `${label}: consumer has ${received.length}, stream ${bus}, store durable ${durable}\nconsumer errors:\n${errors.join('\n')}\ntimeline:\n${timeline.join('\n')}`,
    );
  };
  // `count` bars in all, half of them for each symbol: a symbol's lane waits for the new stream
  // leader on its own (up to ~10 s on a loaded machine), so the total alone says little.
  const fewest = () =>
    Math.min(...SYMBOLS.map((symbol) => received.filter((bar) => bar.symbol === symbol).length));
  const until = async (count: number) => {
    try {
      await expect
        .poll(() => fewest(), { timeout: 20_000, interval: 20 })
        .toBeGreaterThanOrEqual(count / 2);
    } catch (error) {
      await diagnose(`fewer than ${count} bars`);
      throw error;
    }
  };

  await until(10);
  mark('await until(10);');
  await killHard(collectorA.child); // kill -9 one collector
  await until(20);
  mark('await until(20);');
  const leader = (await jsm0.streams.info(STREAM_NAME)).cluster?.leader ?? 'n1';
  const leaderIndex = Number(leader.slice(1)) - 1;
  mark(`stopping ${leader}`);
  await cluster.stopNode(leaderIndex, true); // lose the stream leader's node
  await until(30);
  mark('await until(30);');
  await killHard(store.child); // kill -9 the store service …
  store = startStore(); // … and start it again
  // Up before the run ends: a store stopped while still starting (SIGTERM before its signal
  // handlers and bus connection exist) would never refresh the Parquet file the test reads.
  const restarted = store.out;
  await expect
    .poll(() => restarted.some((line) => line.startsWith('stderr: reading ARGO_BARS as durable')), {
      timeout: 20_000,
      interval: 20,
    })
    .toBe(true);
  mark('restarted store reading');
  await until(40);
  mark('await until(40);');
  await cluster.startNode(leaderIndex);
  await until(60);
  mark('await until(60);');
  await stopGracefully(collectorB.child);

  // Everything the bus holds now must reach the consumer and the store.
  const info = await jsm0.streams.info(STREAM_NAME);
  const total = info.state.messages;
  await expect.poll(() => received.length, { timeout: 20_000 }).toBe(total);
  // The store acks a bar only once it is durable, so its durable consumer having every
  // message of the stream acked is the signal that it has them all. (Its `stored` lines are
  // not: a kill -9 between the ack and the print drops one while the bar is stored.)
  const caughtUp = async () => {
    const ci = await jsm0.consumers.info(STREAM_NAME, 'argo-store-binance-1m');
    return (
      ci.num_pending === 0 &&
      ci.num_ack_pending === 0 &&
      ci.ack_floor.stream_seq >= info.state.last_seq
    );
  };
  await expect
    .poll(() => caughtUp().catch(() => false), { timeout: 20_000, interval: 100 })
    .toBe(true)
    .catch(async (error: unknown) => {
      await diagnose('store not caught up');
      throw error;
    });
  ac.abort();
  await consuming;
  await stopGracefully(store.child);
  // A clean exit is the store's final Parquet refresh (a signal death would leave it stale).
  expect({ code: store.child.exitCode, signal: store.child.signalCode }).toEqual({
    code: 0,
    signal: null,
  });

  // Exactly once, in order, no gap, per symbol — at the consumer and in the Parquet file.
  const parquet = await readParquetBars(join(out, 'stream_data_binance_1m.parquet'));
  const counts: Record<string, number> = {};
  const filedCounts: Record<string, number> = {};
  for (const symbol of SYMBOLS) {
    const mine = received.filter((bar) => bar.symbol === symbol);
    const filed = parquet.filter((bar) => bar.symbol === symbol);
    counts[symbol] = mine.length;
    filedCounts[symbol] = filed.length;
    expect(mine.length).toBeGreaterThan(10);
    expect(steps(mine)).toEqual(mine.slice(1).map(() => 60_000));
    expect(filed.map((bar) => bar.time.getTime())).toEqual(mine.map((bar) => bar.time.getTime()));
    // They are the simulator's bars: the same as its REST klines for the range.
    const writer = new MemoryWriter(join(out, `${symbol}.json`));
    const rest = new BinanceProvider({
      symbols: [symbol],
      interval: '1m',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
    });
    rest.configWriter(writer);
    await rest.download({
      ticker: symbol,
      startDate: (mine[0] as MarketData).time,
      endDate: (mine.at(-1) as MarketData).time,
      multiplier: 1,
      timespan: 'minute',
    });
    expect(writer.rows.map((bar) => [bar.time.getTime(), bar.close])).toEqual(
      mine.map((bar) => [bar.time.getTime(), bar.close]),
    );
    expect(filed.map((bar) => bar.close)).toEqual(mine.map((bar) => bar.close));
  }
  expect(received.length).toBe(total);
  console.log(
    `e2e: ${JSON.stringify(counts)} bars at the consumer, ${JSON.stringify(filedCounts)} in the Parquet file, ${total} on the bus, stream leader ${leader} stopped`,
  );
}, 60_000);
