// Inclusive ranges of open times, `[fromMs, toMs]`: what a series has been checked against the
// venue for, and what is still missing.

/** An inclusive range of open times, ms. */
export type TimeRange = readonly [fromMs: number, toMs: number];

/** The ranges sorted and merged (touching or overlapping ranges become one). */
export function mergeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = ranges.filter(([from, to]) => to >= from).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [from, to] of sorted) {
    const last = out.at(-1);
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** The parts of `[fromMs, toMs]` that none of `covered` contains, in order. */
export function subtractRanges(
  fromMs: number,
  toMs: number,
  covered: readonly TimeRange[],
): TimeRange[] {
  const out: TimeRange[] = [];
  let cursorMs = fromMs;
  for (const [from, to] of mergeRanges(covered)) {
    if (to < cursorMs) continue;
    if (from > toMs) break;
    if (from > cursorMs) out.push([cursorMs, from - 1]);
    cursorMs = Math.max(cursorMs, to + 1);
    if (cursorMs > toMs) return out;
  }
  if (cursorMs <= toMs) out.push([cursorMs, toMs]);
  return out;
}

/** The ranges cut to `[fromMs, toMs]`, empty parts dropped. */
export function clipRanges(
  ranges: readonly TimeRange[],
  fromMs: number,
  toMs: number,
): TimeRange[] {
  const out: TimeRange[] = [];
  for (const [from, to] of ranges) {
    const clippedFrom = Math.max(from, fromMs);
    const clippedTo = Math.min(to, toMs);
    if (clippedTo >= clippedFrom) out.push([clippedFrom, clippedTo]);
  }
  return out;
}

/** True when `ranges` is a well-formed list of `[fromMs, toMs]` integer pairs. */
export function isRangeList(value: unknown): value is TimeRange[] {
  return (
    Array.isArray(value) &&
    value.every(
      (range) =>
        Array.isArray(range) &&
        range.length === 2 &&
        Number.isSafeInteger(range[0]) &&
        Number.isSafeInteger(range[1]) &&
        range[1] >= range[0],
    )
  );
}
