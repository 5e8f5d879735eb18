import { formatSummaryLines } from '../dataset/coverage.js';
import { listDataset } from '../dataset/read.js';
import type { CliIo } from './context.js';

/** `argo-market ls --data DIR [--json]`: per series the first/last bar, count, gaps, problems. */
export async function lsCommand(
  options: { data: string; json?: boolean },
  io: CliIo,
): Promise<void> {
  const series = await listDataset(options.data);
  if (options.json) {
    io.stdout.write(`${JSON.stringify(series)}\n`);
    return;
  }
  if (series.length === 0) io.stdout.write(`no series in ${options.data}\n`);
  for (const summary of series) {
    for (const line of formatSummaryLines(summary)) io.stdout.write(`${line}\n`);
  }
}
