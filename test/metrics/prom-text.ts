// Reading Prometheus text exposition in tests: line syntax and summed counters.
import { expect } from 'vitest';

/** One Prometheus text-format line: a comment, or `name{labels} value`. */
export const PROM_LINE =
  /^(#( (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*)?|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf))$/;

/** Every non-empty line of `text` parses as Prometheus text. */
export function expectPromText(text: string): void {
  const lines = text.split('\n').filter((l) => l.length > 0);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(PROM_LINE);
}

/** The sum of every series of `name` (optionally only those whose labels contain `filter`). */
export function counterValue(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(filter)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}
