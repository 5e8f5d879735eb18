import { ConfigError } from './errors.js';

/**
 * The `[startMs, endMs]` of a download, or a ConfigError naming the field: each must be a valid
 * Date, not before 1970 (venues count ms since the epoch and have no earlier bars), and the end
 * not before the start.
 */
export function downloadRangeMs(params: { startDate: unknown; endDate: unknown }): {
  startMs: number;
  endMs: number;
} {
  const startMs = dateMs(params.startDate, 'startDate');
  const endMs = dateMs(params.endDate, 'endDate');
  if (endMs < startMs) throw new ConfigError('endDate', 'endDate must not be before startDate');
  return { startMs, endMs };
}

function dateMs(date: unknown, field: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new ConfigError(field, `${field} must be a valid Date`);
  if (ms < 0) throw new ConfigError(field, `${field} must not be before 1970-01-01`);
  return ms;
}
