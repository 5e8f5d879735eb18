import { once } from 'node:events';
import { observeSimulator } from '../metrics/sim-metrics.js';
import { startSimulator } from '../simulator/index.js';
import { abortOnSignals, type CliIo, numberOption } from './context.js';
import { cliRegistry, type MetricsCliOptions, startCliMetrics } from './metrics.js';

export interface SimulateOptions extends MetricsCliOptions {
  port?: string;
  speed?: string;
  seed?: string;
}

/** `argo-market simulate`: runs the exchange simulator until Ctrl-C, printing its URLs and key. */
export async function simulateCommand(options: SimulateOptions, io: CliIo): Promise<void> {
  const port = options.port === undefined ? 0 : numberOption('port', options.port, 0);
  const simulator = await startSimulator({
    speed: numberOption('speed', options.speed, 1),
    seed: numberOption('seed', options.seed, 1),
    binancePort: port,
    polygonPort: port === 0 ? 0 : port + 1,
    okxPort: port === 0 ? 0 : port + 3,
  });
  const controller = new AbortController();
  const removeSignals = abortOnSignals(controller, io);
  const registry = cliRegistry(options);
  if (registry) observeSimulator(registry, simulator.stats, simulator.clock);
  let metricsServer: Awaited<ReturnType<typeof startCliMetrics>>;
  try {
    // /healthz is 200 while the simulator serves.
    metricsServer = await startCliMetrics(options, registry, undefined, io);
    io.stdout.write(
      [
        `binance REST  ${simulator.binance.restUrl}`,
        `binance WS    ${simulator.binance.wsUrl}`,
        `polygon REST  ${simulator.polygon.restUrl}`,
        `polygon WS    ${simulator.polygon.wsUrl}`,
        `polygon key   ${simulator.polygon.apiKey}`,
        `bybit REST    ${simulator.bybit.restUrl}`,
        `bybit WS      ${simulator.bybit.wsUrl}`,
        `okx REST      ${simulator.okx.restUrl}`,
        `okx WS        ${simulator.okx.wsUrl}/ws/v5/business`,
        'use it from the CLI (in another terminal):',
        `  argo-market stream --provider binance --binance-url ${simulator.binance.restUrl} --symbols BTCUSDT --interval 1m`,
        `  argo-market stream --provider polygon --polygon-url ${simulator.polygon.restUrl} --api-key ${simulator.polygon.apiKey} --symbols AAPL --interval 1m`,
        `  argo-market stream --provider bybit --bybit-url ${simulator.bybit.restUrl} --symbols BTCUSDT --interval 1m`,
        `  argo-market stream --provider okx --okx-url ${simulator.okx.restUrl} --symbols BTC-USDT --interval 1m`,
        'press Ctrl-C to stop',
        '',
      ].join('\n'),
    );
    await once(controller.signal, 'abort');
  } finally {
    removeSignals();
    await metricsServer?.close();
    await simulator.close();
  }
}
