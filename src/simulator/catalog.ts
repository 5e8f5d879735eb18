// Symbols the simulated venues list, with a plausible starting price for each.

/** exchangeInfo `status` values the simulator uses (PROTOCOLS.md §1.5). */
export type BinanceStatus = 'TRADING' | 'BREAK' | 'HALT';

/** A Binance symbol's assets and the price level its market model wanders around. */
export interface BinanceListing {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  price: number;
  /** `BREAK` (delisted) and `HALT` (paused) pairs stay listed (PROTOCOLS.md §1.5). */
  status: BinanceStatus;
  /** For a pair not trading: its klines end before this instant and its streams are silent. */
  tradingEndMs?: number;
}

/**
 * Pairs listed but not trading (PROTOCOLS.md §1.5: delisted or paused pairs stay in exchangeInfo,
 * their klines hold history up to the pause, their streams send nothing). XMRUSDT was delisted on
 * 2024-02-20 03:00 UTC; HALTUSDT is a simulator-only paused pair.
 */
const NOT_TRADING_BINANCE: Record<string, { status: BinanceStatus; sinceMs: number }> = {
  XMRUSDT: { status: 'BREAK', sinceMs: Date.UTC(2024, 1, 20, 3) },
  HALTUSDT: { status: 'HALT', sinceMs: Date.UTC(2024, 5, 1) },
};

/** Non-ASCII symbols (PROTOCOLS.md §1.5: the testnet lists 这是测试币456, base 这是测试币, quote 456). */
const UNICODE_BINANCE: Record<string, { baseAsset: string; quoteAsset: string }> = {
  这是测试币456: { baseAsset: '这是测试币', quoteAsset: '456' },
};

const KNOWN_BINANCE: Record<string, number> = {
  BTCUSDT: 60_000,
  ETHUSDT: 3_000,
  BNBUSDT: 600,
  SOLUSDT: 150,
  XRPUSDT: 0.6,
  ADAUSDT: 0.45,
  DOGEUSDT: 0.15,
  LTCUSDT: 80,
  ETHBTC: 0.05,
  BNBBTC: 0.01,
  LTCBTC: 0.0013,
  XMRUSDT: 120,
  HALTUSDT: 2,
  这是测试币456: 1,
};

/** Symbols `exchangeInfo` lists when no `binanceSymbols` option is given. */
export const DEFAULT_BINANCE_SYMBOLS = Object.keys(KNOWN_BINANCE);

const QUOTES = ['USDT', 'FDUSD', 'USDC', 'BTC', 'ETH', 'BNB', 'TRY', 'EUR'];

const KNOWN_POLYGON: Record<string, number> = {
  AAPL: 190,
  MSFT: 420,
  GOOGL: 170,
  TSLA: 250,
  AMZN: 185,
  NVDA: 120,
  META: 500,
  SPY: 550,
};

/** Tickers the Polygon side serves when no `polygonTickers` option is given. */
export const DEFAULT_POLYGON_TICKERS = Object.keys(KNOWN_POLYGON);

function hashedPrice(name: string, low: number, high: number): number {
  let h = 7;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 1_000_003;
  return Math.round(low * (high / low) ** (h / 1_000_003) * 100) / 100;
}

/** Listing details for a Binance symbol (unknown names get a hashed price). */
export function binanceListing(symbol: string): BinanceListing {
  const quoteAsset =
    UNICODE_BINANCE[symbol]?.quoteAsset ??
    QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length) ??
    'USDT';
  const baseAsset =
    UNICODE_BINANCE[symbol]?.baseAsset ??
    (symbol.endsWith(quoteAsset) ? symbol.slice(0, -quoteAsset.length) : symbol);
  const price = KNOWN_BINANCE[symbol] ?? hashedPrice(symbol, 0.5, 500);
  const paused = NOT_TRADING_BINANCE[symbol];
  return paused
    ? { symbol, baseAsset, quoteAsset, price, status: paused.status, tradingEndMs: paused.sinceMs }
    : { symbol, baseAsset, quoteAsset, price, status: 'TRADING' };
}

/** Price level of a Polygon ticker. */
export function polygonPrice(ticker: string): number {
  return KNOWN_POLYGON[ticker] ?? hashedPrice(ticker, 5, 400);
}

/** `count` generated Binance symbols for benchmarks: `SIM0000USDT`, `SIM0001USDT`, … */
export function generatedBinanceSymbols(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `SIM${String(i).padStart(4, '0')}USDT`);
}
