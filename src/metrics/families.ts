import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Our choice: per-symbol series stop here so cardinality stays bounded (issue 21 point 2). */
export const DEFAULT_MAX_SYMBOL_SERIES = 1000;
/** The `symbol` label of every symbol past the cap. */
export const OTHER_SYMBOLS = '_other';

/**
 * Our choice: commit and publish latency buckets in seconds, from a WAL fsync (~1 ms) to a
 * JetStream leader election (2–3 s, DESIGN §9).
 */
export const LATENCY_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Adds to a counter's values at scrape time; one per source sharing the family. */
export type CounterSource<L extends string> = (counter: Counter<L>) => void;

const counterSources = new WeakMap<Counter, Set<CounterSource<string>>>();

/**
 * The counter `name` of `registry`, created on first use: two streams or writers sharing one
 * registry share the family (prom-client refuses a second registration of a name). A `source`
 * is called at each scrape to add what it counted since the last one ({@link LocalCount}), so a
 * hot path increments a plain number instead of hashing labels per event.
 */
export function counterIn<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  source?: CounterSource<L>,
): Counter<L> {
  let counter = registry.getSingleMetric(name) as Counter<L> | undefined;
  if (!(counter instanceof Counter)) {
    const set = new Set<CounterSource<string>>();
    counter = new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const s of set) s(this as Counter<string>);
      },
    });
    counterSources.set(counter as Counter, set);
  }
  if (source !== undefined)
    counterSources.get(counter as Counter)?.add(source as CounterSource<string>);
  return counter;
}

/** A counter series kept as a plain number on the hot path and added to its family at scrape. */
export class LocalCount<L extends string> {
  count = 0;
  #reported = 0;

  constructor(readonly labels: Partial<Record<L, string>>) {}

  /** Adds what was counted since the last scrape to `counter`. */
  flush(counter: Counter<L>): void {
    const delta = this.count - this.#reported;
    if (delta > 0) counter.inc(this.labels, delta);
    this.#reported = this.count;
  }
}

/** The histogram `name` of `registry` (seconds, {@link LATENCY_BUCKETS_S}), created on first use. */
export function histogramIn<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Histogram) return existing as Histogram<L>;
  return new Histogram<L>({
    name,
    help,
    labelNames,
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
}

/** Sets a gauge's values at scrape time; one per source sharing the family. */
export type GaugeSource<L extends string> = (gauge: Gauge<L>) => void;

const sources = new WeakMap<Gauge, Set<GaugeSource<string>>>();

/**
 * Adds `source` to the gauge `name` of `registry` (created on first use): at each scrape every
 * source of the family sets its values, so a gauge costs nothing between scrapes.
 */
export function gaugeIn<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  source: GaugeSource<L>,
): Gauge<L> {
  let gauge = registry.getSingleMetric(name) as Gauge<L> | undefined;
  if (!(gauge instanceof Gauge)) {
    const set = new Set<GaugeSource<string>>();
    gauge = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const s of set) s(this as Gauge<string>);
      },
    });
    sources.set(gauge as Gauge, set);
  }
  sources.get(gauge as Gauge)?.add(source as GaugeSource<string>);
  return gauge;
}

/**
 * The `symbol` label values of one family: the first `max` symbols keep their own, later ones
 * share {@link OTHER_SYMBOLS}, so a venue with 3,000 tickers still makes at most `max` + 1 series.
 */
export class SymbolLabels {
  readonly #labels = new Map<string, string>();
  #own = 0;

  constructor(readonly max: number = DEFAULT_MAX_SYMBOL_SERIES) {}

  /** The label for `symbol`: itself while under the cap (or already seen), else `_other`. */
  of(symbol: string): string {
    const known = this.#labels.get(symbol);
    if (known !== undefined) return known;
    const label = this.#own < this.max ? symbol : OTHER_SYMBOLS;
    if (label === symbol) this.#own += 1;
    this.#labels.set(symbol, label);
    return label;
  }
}
