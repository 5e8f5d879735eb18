// OKX instrument checks (PROTOCOLS.md §6.2 `public/instruments`): listed, `live`, tick sizes.

import { MarketDataError } from '../../core/errors.js';
import { LIVE_STATE, type OkxInstrument } from './protocol.js';
import type { OkxRest } from './rest.js';

/**
 * Throws a fatal `INVALID_SYMBOL` naming every instrument OKX does not list (51001, or
 * missing from the list) and every listed one whose state is not `live` (`suspend`: its
 * channel pushes nothing). Few symbols are asked one by one, many with one full list.
 */
export async function validateInstruments(
  rest: OkxRest,
  symbols: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  const listed = new Map<string, OkxInstrument>();
  if (symbols.length <= 10) {
    for (const symbol of symbols) {
      for (const i of await rest.instruments(symbol, signal)) listed.set(i.instId, i);
    }
  } else {
    for (const i of await rest.instruments(undefined, signal)) listed.set(i.instId, i);
  }
  const unknown = symbols.filter((s) => !listed.has(s));
  const notLive = symbols
    .map((s) => listed.get(s))
    .filter((i): i is OkxInstrument => i !== undefined && i.state !== LIVE_STATE)
    .map((i) => `${i.instId} (${i.state})`);
  const problems: string[] = [];
  if (unknown.length > 0) {
    problems.push(
      `OKX does not list ${unknown.join(', ')} (code 51001): check the instrument id (BASE-QUOTE, e.g. BTC-USDT) and that it trades on OKX Spot`,
    );
  }
  if (notLive.length > 0) {
    problems.push(
      `OKX lists ${notLive.join(', ')} but does not trade it now (suspend/preopen): its candle channel sends nothing; download the history instead`,
    );
  }
  if (problems.length > 0) {
    throw new MarketDataError('INVALID_SYMBOL', problems.join('; '), { fatal: true });
  }
}

/** Decimal places of each instrument's `tickSz`. */
export async function instrumentPriceDecimals(
  rest: OkxRest,
  symbols: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const wanted = new Set(symbols);
  const out = new Map<string, number>();
  for (const i of await rest.instruments(symbols.length === 1 ? symbols[0] : undefined, signal)) {
    const tick = i.tickSz;
    if (!wanted.has(i.instId) || tick === undefined || !/^\d+(\.\d+)?$/.test(tick)) continue;
    out.set(i.instId, (tick.split('.')[1] ?? '').replace(/0+$/, '').length);
  }
  return out;
}
