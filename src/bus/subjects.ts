import { BUS_SYMBOL_PATTERN, BUS_VENUE_PATTERN } from '../config/schemas.js';
import { ConfigError, MarketDataError } from '../core/errors.js';
import { isInterval } from '../core/intervals.js';
import type { Interval, MarketData } from '../core/types.js';

/** DESIGN §9: the one stream every collector publishes into. */
export const STREAM_NAME = 'ARGO_BARS';
/** DESIGN §9: subject prefix; a bar goes to `argo.bars.<venue>.<interval>.<SYMBOL>`. */
export const SUBJECT_PREFIX = 'argo.bars';
/** DESIGN §9: the stream's subjects. */
export const STREAM_SUBJECTS = `${SUBJECT_PREFIX}.>`;

// DESIGN §9: the symbol token percent-encodes what NATS subjects reserve.
const RESERVED = /[.*> \t\r\n%]/g;

/** Refuses a venue that cannot be a subject token. */
export function checkVenue(venue: unknown, field = 'venue'): string {
  if (typeof venue !== 'string' || !BUS_VENUE_PATTERN.test(venue)) {
    throw new ConfigError(
      field,
      `venue must be a provider name such as 'binance' (lower-case letters, digits, '-'), got ${JSON.stringify(venue)}`,
    );
  }
  return venue;
}

/** Refuses a symbol that could change the meaning of a subject. */
export function checkBusSymbol(symbol: unknown, field = 'symbol'): string {
  if (typeof symbol !== 'string' || !BUS_SYMBOL_PATTERN.test(symbol)) {
    throw new ConfigError(
      field,
      `symbol ${JSON.stringify(symbol)} cannot go on the bus: use letters, digits, '.', '-' or '_' (no '..', spaces, wildcards, '/ @ ? & # %')`,
      { code: 'INVALID_SYMBOL' },
    );
  }
  return symbol;
}

function checkInterval(interval: unknown): Interval {
  if (!isInterval(interval)) {
    throw new ConfigError('interval', `unknown interval ${JSON.stringify(interval)}`, {
      code: 'INVALID_INTERVAL',
    });
  }
  return interval;
}

/** `BRK.B` → `BRK%2EB`: one subject token, reversible with {@link decodeSymbolToken}. */
export function encodeSymbolToken(symbol: string): string {
  return checkBusSymbol(symbol).replace(
    RESERVED,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** Inverse of {@link encodeSymbolToken}. */
export function decodeSymbolToken(token: string): string {
  return token.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** `argo.bars.<venue>.<interval>.<SYMBOL>`, from validated parts only. */
export function barSubject(venue: string, interval: Interval, symbol: string): string {
  return `${SUBJECT_PREFIX}.${checkVenue(venue)}.${checkInterval(interval)}.${encodeSymbolToken(symbol)}`;
}

/** Every symbol of a venue and interval: `argo.bars.<venue>.<interval>.*`. */
export function intervalSubjects(venue: string, interval: Interval): string {
  return `${SUBJECT_PREFIX}.${checkVenue(venue)}.${checkInterval(interval)}.*`;
}

/** DESIGN §9 `Nats-Msg-Id`: `<venue>:<interval>:<SYMBOL>:<openTimeMs>`. */
export function barMessageId(venue: string, interval: Interval, bar: MarketData): string {
  return `${venue}:${interval}:${bar.symbol}:${bar.time.getTime()}`;
}

/** DESIGN §9 payload, keys in the contract's order. */
export function encodeBar(venue: string, interval: Interval, bar: MarketData): string {
  return JSON.stringify({
    venue,
    interval,
    symbol: bar.symbol,
    time: bar.time.toISOString(),
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
    id: bar.id,
  });
}

interface WireBar {
  venue: unknown;
  interval: unknown;
  symbol: unknown;
  time: unknown;
  open: unknown;
  high: unknown;
  low: unknown;
  close: unknown;
  volume: unknown;
  id: unknown;
}

const finite = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/** A payload back into a bar, or a PROTOCOL error (as a value: this runs per message). */
export function decodeBar(text: string): MarketData | MarketDataError {
  let wire: WireBar;
  try {
    wire = JSON.parse(text) as WireBar;
  } catch (error) {
    return new MarketDataError('PROTOCOL', 'bus message is not JSON; skipped', {
      fatal: false,
      cause: error,
    });
  }
  const timeMs = typeof wire?.time === 'string' ? Date.parse(wire.time) : Number.NaN;
  if (
    typeof wire.symbol !== 'string' ||
    Number.isNaN(timeMs) ||
    !finite(wire.open) ||
    !finite(wire.high) ||
    !finite(wire.low) ||
    !finite(wire.close) ||
    !finite(wire.volume)
  ) {
    return new MarketDataError('PROTOCOL', 'bus message is not a bar (DESIGN §9); skipped', {
      fatal: false,
    });
  }
  return {
    id: typeof wire.id === 'string' ? wire.id : `${wire.symbol}:${timeMs}`,
    symbol: wire.symbol,
    time: new Date(timeMs),
    open: wire.open,
    high: wire.high,
    low: wire.low,
    close: wire.close,
    volume: wire.volume,
  };
}
