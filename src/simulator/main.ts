#!/usr/bin/env node
// Standalone start: `node dist/simulator/main.js [--seed 1] [--speed 1] [--binance-port 0]
// [--polygon-port 0] [--polygon-key KEY] [--host 127.0.0.1]`. Logs the URLs and the Polygon key;
// Ctrl-C closes it. The CLI's `argo-market simulate` calls startSimulator() the same way.

import { parseArgs } from 'node:util';
import { startSimulator } from './index.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    speed: { type: 'string' },
    host: { type: 'string' },
    'binance-port': { type: 'string' },
    'polygon-port': { type: 'string' },
    'polygon-key': { type: 'string' },
    'okx-port': { type: 'string' },
  },
});

const sim = await startSimulator({
  seed: Number(values.seed ?? 1),
  speed: Number(values.speed ?? 1),
  host: values.host ?? '127.0.0.1',
  binancePort: Number(values['binance-port'] ?? 0),
  polygonPort: Number(values['polygon-port'] ?? 0),
  okxPort: Number(values['okx-port'] ?? 0),
  ...(values['polygon-key'] ? { polygonApiKey: values['polygon-key'] } : {}),
  log: (line) => process.stdout.write(`${line}\n`),
});

const stop = (): void => {
  sim.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`simulator: close failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
