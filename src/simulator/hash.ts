// Stateless hashing and value noise: every number of the market model is a pure function of
// (seed, symbol, channel, index), so any time range is served without generating from the epoch.

/** FNV-1a of a string, as an unsigned 32-bit integer. */
export function stringHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** An unsigned 32-bit hash of four integers (murmur3-style mixing). */
export function hash4(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ (d | 0), 0x165667b1);
  // Indices above 2^32 (far-future seconds) still differ through the high part.
  h = Math.imul(h ^ (h >>> 13) ^ Math.floor(d / 4294967296), 0x85ebca6b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) from {@link hash4}. */
export function unit(a: number, b: number, c: number, d: number): number {
  return hash4(a, b, c, d) / 4294967296;
}

/** Smoothly interpolated value noise in [-1, 1] at `x` (lattice spacing 1). */
export function valueNoise(a: number, b: number, channel: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const s = f * f * (3 - 2 * f);
  const v0 = unit(a, b, channel, i) * 2 - 1;
  const v1 = unit(a, b, channel, i + 1) * 2 - 1;
  return v0 + (v1 - v0) * s;
}
