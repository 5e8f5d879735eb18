// Symbol rules shared by config validation and the providers (DESIGN.md §4): real instruments
// pass (Binance's Unicode symbols, Polygon's class and preferred suffixes), while anything that
// could change the meaning of a stream name, URL, subject or file path is refused.

/**
 * Binance Spot symbol: 2–20 Unicode letters or digits (the venue lists non-ASCII symbols such as
 * `这是测试币456`, PROTOCOLS.md §1.5); ASCII letters are folded to upper case.
 */
export const BINANCE_SYMBOL_PATTERN = /^[\p{L}\p{N}]{2,20}$/u;

/**
 * Polygon stock ticker: an upper-case letter, then letters and digits (a lower-case letter marks
 * a preferred or warrant series: `AMpB`), and one optional `.` class suffix (`BRK.B`).
 */
export const POLYGON_TICKER_PATTERN = /^[A-Z][A-Za-z0-9]{0,9}(?:\.[A-Za-z0-9]{1,4})?$/;

/** Which venue's symbol rules apply. */
export type SymbolVenue = 'binance' | 'polygon';

const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  [/[\u0000-\u001f\u007f-\u009f]/u, 'a control character'],
  [/\s/u, 'whitespace'],
  [/\.\./u, "'..'"],
  [/[/\\@?&#%]/u, 'one of / \\ @ ? & # %'],
];

/**
 * Why `symbol` is not a valid `venue` symbol, or undefined when it is. The reason names the
 * offending part, so the user sees what to fix.
 */
export function symbolProblem(venue: SymbolVenue, symbol: unknown): string | undefined {
  if (typeof symbol !== 'string') return 'must be a string';
  if (symbol === '') return 'must not be empty';
  for (const [pattern, what] of FORBIDDEN) {
    if (pattern.test(symbol)) {
      return `contains ${what}, which could change a URL, stream name or file path`;
    }
  }
  if (venue === 'binance') {
    return BINANCE_SYMBOL_PATTERN.test(symbol)
      ? undefined
      : 'must be 2–20 letters or digits, e.g. BTCUSDT';
  }
  return POLYGON_TICKER_PATTERN.test(symbol)
    ? undefined
    : 'must look like AAPL, BRK.B or AMpB (upper-case letters and digits, a lower-case series letter, one optional .class suffix)';
}

/** A symbol as the venue spells it: Binance symbols in upper case, Polygon tickers as given. */
export function foldSymbol(venue: SymbolVenue, symbol: string): string {
  return venue === 'binance' ? symbol.toUpperCase() : symbol;
}
