/** One row of `npm run bench`: a measurement and the baseline it is compared with in the same run. */
export interface BenchRow {
  /** Short name, e.g. `storage: DuckDBWriter.writeBatch`. */
  name: string;
  /** What was measured, in words (sizes, counts, injected latency …). */
  workload: string;
  value: number;
  /** Baseline measured in the same run, e.g. `one INSERT per row`. */
  baseline: string;
  baselineValue: number;
  unit: string;
  /** value / baselineValue, or its inverse when lower is better (say so in `ratioMeaning`). */
  ratio: number;
  ratioMeaning: string;
}

/** A benchmark module: runs its workloads and returns its rows. */
export type Bench = () => Promise<BenchRow[]>;

/** Formats rows as a fixed-width table. */
export function formatTable(rows: BenchRow[]): string {
  const header = ['benchmark', 'value', 'baseline', 'ratio', 'workload'];
  const lines = rows.map((row) => [
    row.name,
    `${fmt(row.value)} ${row.unit}`,
    `${fmt(row.baselineValue)} ${row.unit} (${row.baseline})`,
    `${row.ratio.toFixed(2)}x ${row.ratioMeaning}`,
    row.workload,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const render = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)].join(
    '\n',
  );
}

function fmt(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

/**
 * The same rows as a Markdown table (the README's figures table is this, pasted from one full
 * run): `node dist-bench/bench/report-md.js` prints it from bench/results.json.
 */
export function formatMarkdown(rows: BenchRow[]): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|');
  return [
    '| benchmark | ours | baseline (same run) | ratio | workload |',
    '|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${cell(row.name)} | ${fmt(row.value)} ${row.unit} | ${fmt(row.baselineValue)} ${row.unit} (${cell(row.baseline)}) | ${row.ratio.toFixed(2)}× ${cell(row.ratioMeaning.replace(/^x /, ''))} | ${cell(row.workload)} |`,
    ),
  ].join('\n');
}
