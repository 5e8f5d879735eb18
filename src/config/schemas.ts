import { z } from 'zod';
import { INTERVALS } from '../core/intervals.js';
import type { Interval } from '../core/types.js';
import { dayEndMs, dayStartMs, type VenueCalendar } from '../core/venue-calendar.js';
import {
  BINANCE_SYMBOL_PATTERN,
  foldSymbol,
  POLYGON_TICKER_PATTERN,
  type SymbolVenue,
  symbolProblem,
} from './symbols.js';

export { BINANCE_SYMBOL_PATTERN, POLYGON_TICKER_PATTERN } from './symbols.js';

// JSON Schema patterns are ECMA-262 with the `u` flag (draft 2020-12), so `\p{L}` carries over.
const SYMBOL_PATTERNS = { binance: BINANCE_SYMBOL_PATTERN, polygon: POLYGON_TICKER_PATTERN };

/** One symbol of `venue`, checked by {@link symbolProblem} and folded to the venue's spelling. */
function symbolSchema(venue: SymbolVenue, example: string) {
  return z
    .string()
    .superRefine((s, ctx) => {
      const problem = symbolProblem(venue, s);
      if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} ${problem}` });
    })
    .transform((s) => foldSymbol(venue, s))
    .meta({ description: `Symbol, e.g. ${example}`, pattern: SYMBOL_PATTERNS[venue].source });
}

const intervalSchema = z.enum(INTERVALS as [Interval, ...Interval[]]).meta({
  description: `Bar size: one of ${INTERVALS.join(', ')}`,
});

function symbolList(venue: SymbolVenue, example: string) {
  return z
    .array(symbolSchema(venue, example))
    .min(1, 'give at least one symbol')
    .max(5000, 'at most 5000 symbols per provider')
    .transform((symbols) => [...new Set(symbols)])
    .meta({ description: `Symbols to stream, e.g. ["${example}"]; duplicates are folded` });
}

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');
const wsUrl = z
  .string()
  .url()
  .refine((u) => /^wss?:\/\//.test(u), 'must be a ws:// or wss:// URL');

/** Engine tunables shared by every provider's stream; every field has a default. */
export const resilienceShape = {
  reconnectInitialDelayMs: z
    .number()
    .int()
    .min(1)
    .max(600_000)
    .default(500)
    .meta({ description: 'First reconnect delay; doubles per failed attempt (full jitter)' }),
  reconnectMaxDelayMs: z
    .number()
    .int()
    .min(1)
    .max(3_600_000)
    .default(30_000)
    .meta({ description: 'Cap on the reconnect delay' }),
  maxReconnectAttempts: z.number().int().min(1).optional().meta({
    description:
      'Consecutive failed reconnects before the stream ends with RECONNECT_EXHAUSTED; unlimited when omitted',
  }),
  silenceTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(60_000)
    .meta({ description: 'A socket with no frame (data, ping or pong) for this long is dead' }),
  pingIntervalMs: z
    .number()
    .int()
    .min(50)
    .max(600_000)
    .default(20_000)
    .meta({ description: 'How often the client pings the server to prove the socket is alive' }),
  maxConnectionAgeMs: z.number().int().min(1000).optional().meta({
    description:
      "Reconnect proactively once a connection is this old in exchange time (Binance: 23 h 50 min, before the exchange's 24 h cut)",
  }),
  connectTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(10_000)
    .meta({ description: 'Deadline of one WebSocket connect + handshake' }),
  bufferSize: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(1024)
    .meta({ description: 'Bars buffered for a slow consumer before socket reads pause' }),
};

const downloadShape = {
  downloadConcurrency: z
    .number()
    .int()
    .min(1)
    .max(32)
    .default(4)
    .meta({ description: 'REST pages fetched at once during a download' }),
  requestTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(30_000)
    .meta({ description: 'Timeout of one REST request' }),
  maxRetries: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(5)
    .meta({ description: 'Retries of one REST request on network errors, 5xx and 429' }),
};

/** Binance stream config (constructor options of BinanceProvider). */
export const binanceStreamSchema = z
  .object({
    symbols: symbolList('binance', 'BTCUSDT'),
    interval: intervalSchema,
    restBaseUrl: httpUrl.optional().meta({ description: 'REST base; default api.binance.com' }),
    wsBaseUrl: wsUrl
      .optional()
      .meta({ description: 'WebSocket base; default wss://stream.binance.com:9443' }),
    testnet: z.boolean().default(false).meta({ description: 'Use the Spot testnet endpoints' }),
    connection: z
      .enum(['per-symbol', 'combined'])
      .default('per-symbol')
      .meta({ description: 'One socket per symbol, or combined sockets of up to 1024 streams' }),
    // PROTOCOLS.md §1.6 limits: 300 new connections per 5 minutes per IP.
    maxNewConnections: z.number().int().min(1).max(10_000).default(300).meta({
      description:
        "New WebSocket connections started per newConnectionWindowMs, shared by every stream of the process to the same host (Binance's limit: 300 per 5 minutes per IP)",
    }),
    newConnectionWindowMs: z
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(300_000)
      .meta({ description: 'The window of maxNewConnections' }),
    ...resilienceShape,
    ...downloadShape,
  })
  .strict();

/** Polygon stream config (constructor options of PolygonProvider). */
export const polygonStreamSchema = z
  .object({
    symbols: symbolList('polygon', 'AAPL'),
    interval: intervalSchema,
    apiKey: z
      .string({ error: 'the Polygon API key is required (apiKey, or POLYGON_API_KEY for the CLI)' })
      .min(1, 'the Polygon API key is required (apiKey, or POLYGON_API_KEY for the CLI)')
      .regex(/^\S+$/, 'must not contain spaces')
      .meta({ description: 'Polygon.io / Massive API key', keychain: true }),
    feed: z
      .enum(['realtime', 'delayed'])
      .default('realtime')
      .meta({ description: 'Real-time or 15-minute delayed WebSocket host' }),
    restBaseUrl: httpUrl.optional().meta({ description: 'REST base; default api.polygon.io' }),
    wsBaseUrl: wsUrl.optional().meta({ description: 'WebSocket base; default per feed' }),
    ...resilienceShape,
    ...downloadShape,
  })
  .strict();

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A download bound: an RFC 3339 instant stays exact; a `YYYY-MM-DD` day string means the whole
 * day in the venue's `calendar` (DESIGN.md §4), so a start day is its first millisecond and an
 * end day its last. Anything else, or an impossible date, is rejected.
 */
export function dateInput(calendar: VenueCalendar, edge: 'start' | 'end') {
  return z
    .string()
    .refine((s) => DATE_ONLY.test(s) || RFC3339.test(s), 'must be YYYY-MM-DD or RFC 3339')
    .transform((s, ctx) => {
      const day = DATE_ONLY.test(s);
      const ms = day
        ? edge === 'start'
          ? dayStartMs(s, calendar)
          : dayEndMs(s, calendar)
        : Date.parse(s);
      if (Number.isNaN(ms)) {
        ctx.addIssue({ code: 'custom', message: `'${s}' is not a real calendar date` });
        return z.NEVER;
      }
      // Exchanges count time in ms since 1970 (Binance rejects negative times; no venue has bars
      // before then), so an earlier date is a typo, not a request for 2,000 years of bars.
      if ((day ? dayStartMs(s, calendar) : ms) < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `'${s}' is before 1970-01-01; no exchange has bars then`,
        });
        return z.NEVER;
      }
      return new Date(ms);
    });
}

function downloadBase(calendar: VenueCalendar) {
  const days = calendar === 'UTC' ? 'UTC days' : 'New York (US trading) days';
  return z.object({
    startDate: dateInput(calendar, 'start').meta({
      description: `First bar open time: RFC 3339, or YYYY-MM-DD for the whole day (${days})`,
    }),
    endDate: dateInput(calendar, 'end').meta({
      description: `Last bar open time: RFC 3339, or YYYY-MM-DD for the whole day, included (${days})`,
    }),
    interval: intervalSchema,
  });
}

function checkDateRange(
  value: { startDate: Date; endDate: Date },
  ctx: z.core.$RefinementCtx,
): void {
  // Runs even when a date failed to parse; only compare real dates.
  const { startDate, endDate } = value;
  if (startDate instanceof Date && startDate.getTime() > Date.now()) {
    // No bar of a range that starts later has closed yet: the download could only be empty.
    ctx.addIssue({
      code: 'custom',
      path: ['startDate'],
      message: 'is in the future; no bar in the range has closed yet',
    });
  }
  if (!(startDate instanceof Date) || !(endDate instanceof Date)) return;
  if (endDate.getTime() < startDate.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'must not be before startDate' });
  }
}

/** Binance download config. */
export const binanceDownloadSchema = downloadBase('UTC')
  .extend({
    ticker: symbolSchema('binance', 'BTCUSDT').meta({
      description: 'Symbol to download, e.g. BTCUSDT (Unicode letters and digits)',
    }),
  })
  .strict()
  .superRefine(checkDateRange);

/** Polygon download config. */
export const polygonDownloadSchema = downloadBase('America/New_York')
  .extend({
    ticker: symbolSchema('polygon', 'AAPL').meta({
      description: 'Ticker to download, e.g. AAPL, BRK.B, AMpB',
    }),
    apiKey: polygonStreamSchema.shape.apiKey,
  })
  .strict()
  .superRefine(checkDateRange);

/** Validated Binance stream config, defaults applied. */
export type BinanceStreamConfig = z.output<typeof binanceStreamSchema>;
/** Binance stream config as a user writes it. */
export type BinanceStreamOptions = z.input<typeof binanceStreamSchema>;
/** Validated Polygon stream config, defaults applied. */
export type PolygonStreamConfig = z.output<typeof polygonStreamSchema>;
/** Polygon stream config as a user writes it. */
export type PolygonStreamOptions = z.input<typeof polygonStreamSchema>;
/** Validated Binance download config. */
export type BinanceDownloadConfig = z.output<typeof binanceDownloadSchema>;
/** Validated Polygon download config. */
export type PolygonDownloadConfig = z.output<typeof polygonDownloadSchema>;
/** Engine tunables after defaults. */
export type ResilienceConfig = z.output<z.ZodObject<typeof resilienceShape>>;

// --- Bybit v5 Spot (DESIGN §12) -----------------------------------------------------------

/** PROTOCOLS.md §5.3: the intervals Bybit serves (no `1s`, `8h`, `3d`). */
export const BYBIT_INTERVALS = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '12h',
  '1d',
  '1w',
  '1M',
] as const satisfies readonly Interval[];

const bybitIntervalSchema = z
  .enum(BYBIT_INTERVALS, {
    error: `Bybit serves only ${BYBIT_INTERVALS.join(', ')} (no 1s, 8h or 3d)`,
  })
  .meta({ description: `Bar size: one of ${BYBIT_INTERVALS.join(', ')}` });

/** Bybit stream config (constructor options of BybitProvider). */
export const bybitStreamSchema = z
  .object({
    symbols: symbolList('binance', 'BTCUSDT'),
    interval: bybitIntervalSchema,
    restBaseUrl: httpUrl.optional().meta({ description: 'REST base; default api.bybit.com' }),
    wsBaseUrl: wsUrl
      .optional()
      .meta({ description: 'WebSocket base; default wss://stream.bybit.com' }),
    testnet: z.boolean().default(false).meta({ description: 'Use the testnet endpoints' }),
    // PROTOCOLS.md §5.3: ≤ 500 new connections per 5 minutes per domain.
    maxNewConnections: z.number().int().min(1).max(10_000).default(500).meta({
      description:
        "New WebSocket connections started per newConnectionWindowMs, shared by every stream of the process to the same host (Bybit's limit: 500 per 5 minutes)",
    }),
    newConnectionWindowMs: z
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(300_000)
      .meta({ description: 'The window of maxNewConnections' }),
    ...resilienceShape,
    ...downloadShape,
  })
  .strict();

/** Bybit download config. */
export const bybitDownloadSchema = downloadBase('UTC')
  .extend({
    ticker: symbolSchema('binance', 'BTCUSDT').meta({
      description: 'Symbol to download, e.g. BTCUSDT',
    }),
    interval: bybitIntervalSchema,
  })
  .strict()
  .superRefine(checkDateRange);

/** Validated Bybit stream config, defaults applied. */
export type BybitStreamConfig = z.output<typeof bybitStreamSchema>;
/** Bybit stream config as a user writes it. */
export type BybitStreamOptions = z.input<typeof bybitStreamSchema>;
/** Validated Bybit download config. */
export type BybitDownloadConfig = z.output<typeof bybitDownloadSchema>;

// --- JetStream bus (DESIGN §9) -------------------------------------------------------------

/** A venue on the bus: a provider's registry name (`binance`, `polygon`, …). */
export const BUS_VENUE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
// DESIGN §4: real instruments (Unicode on Binance, `BRK.B` on Polygon); nothing that could change
// a subject, URL or path (`/ @ ? & # %`, whitespace, control characters, `..`, NATS wildcards).
/** A symbol that may become a NATS subject token: letters, digits, `.`, `-`, `_`; no `..`. */
export const BUS_SYMBOL_PATTERN = /^(?!.*\.\.)[\p{L}\p{N}._-]{1,40}$/u;

const busConnectionShape = {
  servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).meta({
    description:
      'NATS servers: nats://[user:pass@]host:4222, a list or comma-separated; credentials are never printed',
  }),
  token: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'NATS token (instead of user:pass in the URL)', keychain: true }),
  credsFile: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Path of a NATS .creds file (JWT and nkey seed)' }),
  venue: z
    .string()
    .regex(BUS_VENUE_PATTERN, "must be a provider name such as 'binance'")
    .meta({ description: 'Venue whose bars to read: the collector’s provider name' }),
};

/** JetStream consumer config (constructor options of JetStreamProvider). */
export const jetstreamStreamSchema = z
  .object({
    ...busConnectionShape,
    symbols: z
      .array(
        z
          .string()
          .regex(BUS_SYMBOL_PATTERN, 'must be a symbol such as BTCUSDT or BRK.B (no wildcards)'),
      )
      .min(1, 'give at least one symbol')
      .max(5000, 'at most 5000 symbols')
      .transform((symbols) => [...new Set(symbols)])
      .meta({ description: 'Symbols to read, as the collector publishes them' }),
    interval: intervalSchema,
    durable: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (1–64)')
      .optional()
      .meta({
        description:
          'Durable consumer name: a restart resumes after the last bar this consumer took',
      }),
    from: dateInput('UTC', 'start').optional().meta({
      description:
        'Start at this bar open time (YYYY-MM-DD or RFC 3339) instead of new bars only; a new durable starts there too',
    }),
    bufferSize: resilienceShape.bufferSize,
  })
  .strict();

/** JetStream download config: replay a range of one symbol from the bus. */
export const jetstreamDownloadSchema = downloadBase('UTC')
  .extend({
    ...busConnectionShape,
    ticker: z
      .string()
      .regex(BUS_SYMBOL_PATTERN, 'must be a symbol such as BTCUSDT or BRK.B')
      .meta({ description: 'Symbol to replay' }),
  })
  .strict()
  .superRefine(checkDateRange);

/** Validated JetStream consumer config. */
export type JetStreamStreamConfig = z.output<typeof jetstreamStreamSchema>;
/** JetStream consumer config as a user writes it. */
export type JetStreamStreamOptions = z.input<typeof jetstreamStreamSchema>;
/** Validated JetStream download config. */
export type JetStreamDownloadConfig = z.output<typeof jetstreamDownloadSchema>;

// --- OKX v5 Spot (DESIGN §12) ----------------------------------------------------------------

/**
 * OKX instrument id (PROTOCOLS.md §6.1): base and quote, letters and digits, joined by a dash
 * (`BTC-USDT`); folded to upper case. Nothing else can reach a URL, channel or file name.
 */
export const OKX_INST_ID_PATTERN = /^[A-Z0-9]{1,15}-[A-Z0-9]{1,15}$/;

/** PROTOCOLS.md §6.3: the intervals OKX has (no `8h`); ≥ 6h are served by the `…utc` names. */
export const OKX_INTERVALS: readonly Interval[] = INTERVALS.filter((i) => i !== '8h');

const okxIntervalSchema = z
  .enum(OKX_INTERVALS as [Interval, ...Interval[]], {
    error: (issue) =>
      `OKX has no ${JSON.stringify(issue.input)} bars; it has ${OKX_INTERVALS.join(', ')}`,
  })
  .meta({ description: `Bar size: one of ${OKX_INTERVALS.join(', ')}` });

const okxInstIdSchema = z
  .string()
  .transform((s) => s.toUpperCase())
  .refine((s) => OKX_INST_ID_PATTERN.test(s), {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not an OKX instrument id: BASE-QUOTE letters and digits, e.g. BTC-USDT`,
  })
  .meta({
    description: 'Instrument id, e.g. BTC-USDT',
    pattern: '^[A-Za-z0-9]{1,15}-[A-Za-z0-9]{1,15}$',
  });

/** OKX stream config (constructor options of OkxProvider). */
export const okxStreamSchema = z
  .object({
    symbols: z
      .array(okxInstIdSchema)
      .min(1, 'give at least one instrument id')
      .max(5000, 'at most 5000 symbols per provider')
      .transform((symbols) => [...new Set(symbols)])
      .meta({ description: 'Instrument ids to stream, e.g. ["BTC-USDT"]; duplicates are folded' }),
    interval: okxIntervalSchema,
    restBaseUrl: httpUrl.optional().meta({ description: 'REST base; default https://www.okx.com' }),
    wsBaseUrl: wsUrl.optional().meta({
      description: 'WebSocket base; default wss://ws.okx.com:8443 (path /ws/v5/business)',
    }),
    demo: z.boolean().default(false).meta({
      description: 'Demo trading: header x-simulated-trading: 1 and wss://wspap.okx.com:8443',
    }),
    ...resilienceShape,
    // PROTOCOLS.md §6.3: the server closes a socket after 30 s without traffic.
    pingIntervalMs: z.number().int().min(50).max(29_000).default(20_000).meta({
      description:
        "How often the client sends the text 'ping' (OKX closes a socket after 30 s without traffic)",
    }),
    ...downloadShape,
  })
  .strict();

/** OKX download config. */
export const okxDownloadSchema = downloadBase('UTC')
  .extend({
    ticker: okxInstIdSchema.meta({ description: 'Instrument id to download, e.g. BTC-USDT' }),
    interval: okxIntervalSchema,
  })
  .strict()
  .superRefine(checkDateRange);

/** Validated OKX stream config, defaults applied. */
export type OkxStreamConfig = z.output<typeof okxStreamSchema>;
/** OKX stream config as a user writes it. */
export type OkxStreamOptions = z.input<typeof okxStreamSchema>;
/** Validated OKX download config. */
export type OkxDownloadConfig = z.output<typeof okxDownloadSchema>;
