import { once } from 'node:events';
import { startSimulator } from '../simulator/index.js';
import { abortOnSignals, type CliIo, numberOption } from './context.js';

export interface SimulateOptions {
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
  });
  const controller = new AbortController();
  const removeSignals = abortOnSignals(controller, io);
  try {
    io.stdout.write(
      [
        `binance REST  ${simulator.binance.restUrl}`,
        `binance WS    ${simulator.binance.wsUrl}`,
        `polygon REST  ${simulator.polygon.restUrl}`,
        `polygon WS    ${simulator.polygon.wsUrl}`,
        `polygon key   ${simulator.polygon.apiKey}`,
        'press Ctrl-C to stop',
        '',
      ].join('\n'),
    );
    await once(controller.signal, 'abort');
  } finally {
    removeSignals();
    await simulator.close();
  }
}
