import type { ChartBar } from '../../src/chart/series.js';

declare global {
  /** What the chart page exposes for tests (chart-page/app.js), as `window.argoChart`. */
  var argoChart: {
    status(): {
      feed: 'open' | 'closed';
      mode: 'live' | 'file' | undefined;
      connections: { connection: string; symbols: string[]; state: string }[];
      log: { connection: string; state: string }[];
      errors: { code: string; message: string; fatal: boolean }[];
    };
    bars(symbol: string): ChartBar[];
    forming(symbol: string): ChartBar | undefined;
  };
}
