/**
 * Last yielded open time per symbol. A bar is new only when its open time is strictly later,
 * which gives both guarantees of a stream at once: no bar twice, and `time` increasing per
 * symbol. One number per symbol, not a history, so memory does not grow with the run.
 */
export class OpenTimeDedup {
  private readonly lastOpenMs = new Map<string, number>();

  /** The last accepted open time of `symbol`, if any. */
  last(symbol: string): number | undefined {
    return this.lastOpenMs.get(symbol);
  }

  /** True (and remembered) when `openMs` is later than the last accepted one of `symbol`. */
  accept(symbol: string, openMs: number): boolean {
    const last = this.lastOpenMs.get(symbol);
    if (last !== undefined && openMs <= last) return false;
    this.lastOpenMs.set(symbol, openMs);
    return true;
  }
}
