// The `argo-market-data/simulator` entry: a local Binance Spot + Polygon exchange (DESIGN.md §6).

import { randomBytes } from 'node:crypto';
import { ConfigError } from '../core/errors.js';
import type { FloodOptions } from './binance/flood.js';
import { binanceRest } from './binance/http.js';
import {
  DEFAULT_WEIGHT_LIMIT,
  NEW_CONNECTION_WINDOW_MS,
  NEW_CONNECTIONS_PER_WINDOW,
} from './binance/protocol.js';
import { startBinanceWs } from './binance/ws.js';
import { type BybitRequestLimit, bybitRest, DEFAULT_BYBIT_LIMIT } from './bybit/http.js';
import { startBybitWs } from './bybit/ws.js';
import {
  DEFAULT_BINANCE_SYMBOLS,
  DEFAULT_POLYGON_TICKERS,
  generatedBinanceSymbols,
} from './catalog.js';
import { createClock, type SimClock } from './clock.js';
import { Faults, type SimFaults } from './faults.js';
import { startVenueServer, type VenueServer } from './http-server.js';
import { Market, type SimMarket, type SimOutage } from './market.js';
import { type OkxRequestLimits, okxRest } from './okx/http.js';
import {
  DEFAULT_OKX_LIMITS,
  IDLE_CLOSE_MS,
  NEW_CONNECTIONS_PER_SECOND,
  okxInstruments,
} from './okx/protocol.js';
import { startOkxWs } from './okx/ws.js';
import { polygonRest } from './polygon/http.js';
import { startPolygonWs } from './polygon/ws.js';
import { type SimStats, Stats } from './stats.js';

export type { FloodOptions } from './binance/flood.js';
export type { BybitRequestLimit } from './bybit/http.js';
export type { SimClock } from './clock.js';
export type { FailStatus, SimFaults } from './faults.js';
export type { SimBar, SimMarket, SimOutage } from './market.js';
export type { OkxRequestLimits } from './okx/http.js';
export type { SimStats, Venue } from './stats.js';

/** Our choice (PROTOCOLS.md §2.3: the real `auth_timeout` is undocumented): a few seconds. */
const DEFAULT_POLYGON_AUTH_TIMEOUT_MS = 5000;

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /** Market seed; the same seed serves the same bars (default 1). */
  seed?: number;
  /** Clock speed factor: 60 closes a 1m bar every real second (default 1). */
  speed?: number;
  /** Simulated start time (default: now). */
  start?: Date | number;
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** Binance REST + WS port (default 0 = ephemeral). */
  binancePort?: number;
  /** Polygon REST + WS port (default 0 = ephemeral). */
  polygonPort?: number;
  /**
   * Symbols `exchangeInfo` lists and the streams serve (default BTCUSDT, ETHUSDT, BNBBTC, …, the
   * Unicode 这是测试币456, and XMRUSDT `BREAK` / HALTUSDT `HALT`: listed, history up to the
   * pause, silent streams).
   */
  binanceSymbols?: string[];
  /** Adds `SIM0000USDT` … `SIM<n-1>USDT` to the Binance symbols (for benchmarks). */
  generatedBinanceSymbols?: number;
  /** Tickers Polygon serves (default AAPL, MSFT, GOOGL, TSLA, AMZN, NVDA, META, SPY). */
  polygonTickers?: string[];
  /** The only Polygon key accepted (default: a random 32-character key). */
  polygonApiKey?: string;
  /**
   * Real ms a new Polygon socket may wait before authenticating; then the server sends
   * `auth_timeout` and closes it (PROTOCOLS.md §2.3; the real timeout is undocumented).
   * Default 5000.
   */
  polygonAuthTimeoutMs?: number;
  /**
   * Polygon tickers with no trades outside the regular session (09:30–16:00 ET), on REST and
   * WebSocket alike: after the close such a ticker's feed is silent, as a thin stock's is.
   */
  polygonQuietAfterHours?: string[];
  /** Binance REQUEST_WEIGHT budget per (simulated) minute (default 6000). */
  binanceWeightLimit?: number;
  /**
   * Binance's limit on new WebSocket connections, counted in real time over every client
   * (default 300 per 5 minutes, as the real one per IP); the connection past it gets HTTP 429.
   */
  binanceConnectionLimit?: { connections: number; windowMs: number };
  /**
   * Binance: real ms between a stream's in-progress (`x:false`) updates at least (default 50).
   * They come every 2 s of simulated time (PROTOCOLS.md §1.6), so at high speed 2,000 streams
   * would send tens of thousands of frames per second; 2000 gives the real venue's rate in real
   * time (scale tests that are about REST, not the socket).
   */
  binanceUpdateFloorMs?: number;
  /** Binance flood mode for benchmarks (see {@link FloodOptions}); off by default. */
  binanceFlood?: FloodOptions;
  /** Venue outages: bars opening inside one are never served (gaps a dataset must report). */
  outages?: SimOutage[];
  /** Bybit REST + WS port (default 0 = ephemeral). */
  bybitPort?: number;
  /**
   * Bybit's REST limit, counted in real time over every client (default 600 per 5 s, then a 403
   * ban of 10 minutes, as PROTOCOLS.md §5.2); Bybit serves the Binance symbols' market.
   */
  bybitRequestLimit?: BybitRequestLimit;
  /** OKX REST + WS port (default 0 = ephemeral). */
  okxPort?: number;
  /**
   * OKX's REST limits per endpoint, counted in real time over every client (default
   * PROTOCOLS.md §6.2: candles 40 / 2 s, history-candles 20 / 2 s, instruments 20 / 2 s, time
   * 10 / 2 s; the excess gets HTTP 429 code 50011). OKX serves the Binance symbols' market as
   * instruments `BASE-QUOTE` (BTCUSDT → BTC-USDT); a paused pair is `suspend`, a delisted one
   * is not listed.
   */
  okxRequestLimits?: Partial<OkxRequestLimits>;
  /**
   * Real ms an OKX socket may go without traffic either way (no push, no client `ping`) before
   * the server closes it with 4004 (PROTOCOLS.md §6.3; default 30000).
   */
  okxIdleCloseMs?: number;
  /** OKX's limit on new WebSocket connections, in real time (default 3 per second). */
  okxConnectionLimit?: { connections: number; windowMs: number };
  /** Log sink (default silent). */
  log?: (line: string) => void;
}

/** A running simulator. */
export interface Simulator {
  /** `wsUrl` is a base: `${wsUrl}/ws/<stream>`, `${wsUrl}/ws`, `${wsUrl}/stream?streams=a/b`. */
  binance: { restUrl: string; wsUrl: string };
  /** Stocks socket at `${wsUrl}/stocks`; `apiKey` is the only key accepted. */
  polygon: { restUrl: string; wsUrl: string; apiKey: string };
  /** Bybit v5: REST `${restUrl}/v5/market/kline`, spot socket `${wsUrl}/v5/public/spot`. */
  bybit: { restUrl: string; wsUrl: string };
  /** OKX v5: REST `${restUrl}/api/v5/market/candles`, candles socket `${wsUrl}/ws/v5/business`. */
  okx: {
    restUrl: string;
    wsUrl: string;
    /** Resolves once `count` text `ping`s reached the OKX socket server in total. */
    untilPings(count: number, timeoutMs?: number): Promise<void>;
  };
  clock: SimClock;
  faults: SimFaults;
  /** Ground truth for tests: the bars the venues serve. */
  market: SimMarket;
  stats: SimStats;
  /** Ends every socket, server and timer so the process can exit. */
  close(): Promise<void>;
}

/**
 * Starts a local Binance Spot + Polygon exchange on 127.0.0.1 speaking the wire protocols of
 * PROTOCOLS.md, with a deterministic market, an accelerated clock and injectable faults.
 *
 * @example
 * ```ts
 * const sim = await startSimulator({ seed: 7, speed: 60 });
 * try {
 *   const res = await fetch(`${sim.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m`);
 *   console.log(await res.json());
 * } finally {
 *   await sim.close();
 * }
 * ```
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed)) {
    throw new ConfigError('speed', `simulator speed must be a positive number, got ${speed}`);
  }
  const startMs = options.start === undefined ? Date.now() : new Date(options.start).getTime();
  if (!Number.isFinite(startMs)) {
    throw new ConfigError('start', `simulator start is not a valid time: ${String(options.start)}`);
  }
  const limit = options.binanceConnectionLimit;
  if (
    limit !== undefined &&
    !(Number.isInteger(limit.connections) && limit.connections > 0 && limit.windowMs > 0)
  ) {
    throw new ConfigError(
      'binanceConnectionLimit',
      'simulator binanceConnectionLimit needs a positive integer `connections` and a positive `windowMs`',
    );
  }
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const clock = createClock(startMs, speed);
  const market = new Market(
    options.seed ?? 1,
    clock,
    new Set(options.polygonQuietAfterHours),
    options.outages ?? [],
  );
  const faults = new Faults();
  const stats = new Stats();
  const symbols = new Set([
    ...(options.binanceSymbols ?? DEFAULT_BINANCE_SYMBOLS),
    ...generatedBinanceSymbols(options.generatedBinanceSymbols ?? 0),
  ]);
  const tickers = new Set(options.polygonTickers ?? DEFAULT_POLYGON_TICKERS);
  const apiKey = options.polygonApiKey ?? randomBytes(16).toString('hex');

  const binanceWs = startBinanceWs({
    clock,
    market,
    symbols,
    faults,
    stats,
    connectionLimit: options.binanceConnectionLimit ?? {
      connections: NEW_CONNECTIONS_PER_WINDOW,
      windowMs: NEW_CONNECTION_WINDOW_MS,
    },
    ...(options.binanceFlood ? { flood: options.binanceFlood } : {}),
    ...(options.binanceUpdateFloorMs === undefined
      ? {}
      : { updateFloorRealMs: options.binanceUpdateFloorMs }),
  });
  const polygonWs = startPolygonWs({
    clock,
    market,
    tickers,
    faults,
    stats,
    apiKey,
    authTimeoutMs: options.polygonAuthTimeoutMs ?? DEFAULT_POLYGON_AUTH_TIMEOUT_MS,
  });
  const bybitWs = startBybitWs({ clock, market, symbols, faults, stats });
  const okxInstrumentMap = okxInstruments(symbols);
  const okxWs = startOkxWs({
    clock,
    market,
    instruments: okxInstrumentMap,
    faults,
    stats,
    idleCloseMs: options.okxIdleCloseMs ?? IDLE_CLOSE_MS,
    connectionLimit: options.okxConnectionLimit
      ? {
          requests: options.okxConnectionLimit.connections,
          windowMs: options.okxConnectionLimit.windowMs,
        }
      : { requests: NEW_CONNECTIONS_PER_SECOND, windowMs: 1000 },
  });
  const servers: VenueServer[] = [];
  const stopAll = async (): Promise<void> => {
    bybitWs.close();
    okxWs.close();
    binanceWs.close();
    polygonWs.close();
    await Promise.all(servers.map((s) => s.close()));
    clock.dispose();
  };
  try {
    const binanceRestHandlers = binanceRest({
      clock,
      market,
      symbols,
      weightLimit: options.binanceWeightLimit ?? DEFAULT_WEIGHT_LIMIT,
      stats,
    });
    servers.push(
      await startVenueServer(
        'binance',
        host,
        options.binancePort ?? 0,
        { ...binanceRestHandlers, upgrade: binanceWs.upgrade },
        faults,
        stats,
      ),
    );
    const polygonServer = await startVenueServer(
      'polygon',
      host,
      options.polygonPort ?? 0,
      {
        ...polygonRest({ clock, market, tickers, apiKey, baseUrl: () => polygonServer.httpUrl }),
        upgrade: polygonWs.upgrade,
      },
      faults,
      stats,
    );
    servers.push(polygonServer);
    servers.push(
      await startVenueServer(
        'bybit',
        host,
        options.bybitPort ?? 0,
        {
          ...bybitRest({
            clock,
            market,
            symbols,
            limit: options.bybitRequestLimit ?? DEFAULT_BYBIT_LIMIT,
            stats,
          }),
          upgrade: bybitWs.upgrade,
        },
        faults,
        stats,
      ),
    );
    servers.push(
      await startVenueServer(
        'okx',
        host,
        options.okxPort ?? 0,
        {
          ...okxRest({
            clock,
            market,
            instruments: okxInstrumentMap,
            limits: { ...DEFAULT_OKX_LIMITS, ...options.okxRequestLimits },
            stats,
          }),
          upgrade: okxWs.upgrade,
        },
        faults,
        stats,
      ),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
  const [binanceServer, polygonServer, bybitServer] = servers as [
    VenueServer,
    VenueServer,
    VenueServer,
  ];
  log(`binance REST ${binanceServer.httpUrl}  WS ${binanceServer.wsUrl}/ws/<stream>`);
  log(`polygon REST ${polygonServer.httpUrl}  WS ${polygonServer.wsUrl}/stocks  key ${apiKey}`);
  log(`bybit REST ${bybitServer.httpUrl}  WS ${bybitServer.wsUrl}/v5/public/spot`);
  const okxServer = servers[3] as VenueServer;
  log(`okx REST ${okxServer.httpUrl}  WS ${okxServer.wsUrl}/ws/v5/business`);
  let closing: Promise<void> | undefined;
  return {
    binance: { restUrl: binanceServer.httpUrl, wsUrl: binanceServer.wsUrl },
    polygon: { restUrl: polygonServer.httpUrl, wsUrl: polygonServer.wsUrl, apiKey },
    bybit: { restUrl: bybitServer.httpUrl, wsUrl: bybitServer.wsUrl },
    okx: { restUrl: okxServer.httpUrl, wsUrl: okxServer.wsUrl, untilPings: okxWs.untilPings },
    clock,
    faults,
    market,
    stats,
    close() {
      closing ??= stopAll();
      return closing;
    },
  };
}
