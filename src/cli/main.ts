#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { INTERVALS } from '../core/intervals.js';
import { chartCommand } from './chart.js';
import type { CliIo } from './context.js';
import { downloadCommand } from './download.js';
import { describeFailure, EXIT_OK, EXIT_USAGE } from './exit.js';
import { providersCommand, schemaCommand } from './info.js';
import { simulateCommand } from './simulate.js';
import { storeCommand } from './store.js';
import { streamCommand } from './stream.js';

function buildProgram(io: CliIo): Command {
  const program = new Command('argo-market')
    .description(
      'Market data from Binance Spot and Polygon.io: download bars to Parquet, stream live bars',
    )
    .option('--verbose', 'print error causes and status reasons')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)');

  const dataCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .requiredOption('--provider <name>', 'binance or polygon')
      .option('--api-key <key>', 'Polygon API key (default: env POLYGON_API_KEY)')
      .option('--simulate', 'run against the embedded exchange simulator (no network, no key)')
      .option('--speed <factor>', 'simulator clock speed with --simulate', '1')
      .option('--seed <n>', 'simulator seed with --simulate', '1')
      .addOption(new Option('--verbose', 'print error causes and status reasons').hideHelp());

  dataCommand('download', 'download historical bars into one Parquet file and print its path')
    .requiredOption('--ticker <symbol>', 'e.g. BTCUSDT or AAPL')
    .requiredOption('--start <date>', 'first bar: YYYY-MM-DD or RFC 3339 (UTC)')
    .option('--end <date>', 'last bar: YYYY-MM-DD or RFC 3339 (default: today)')
    .requiredOption('--interval <interval>', `one of ${INTERVALS.join(' ')}`)
    .option('--data <dir>', 'output directory', 'data')
    .action(async (options) => downloadCommand({ ...program.opts(), ...options }, io));

  dataCommand('stream', 'print one line per closed bar until Ctrl-C')
    .requiredOption('--symbols <list>', 'comma-separated, e.g. BTCUSDT,ETHUSDT')
    .requiredOption('--interval <interval>', `one of ${INTERVALS.join(' ')}`)
    .option('--out <dir>', 'also persist bars to {dir}/stream_data_{provider}_{interval}.parquet')
    .option('--json', 'one JSON object per line instead of the text format')
    // NATS JetStream bus (DESIGN §9): collector (--publish) and consumer (--provider jetstream).
    .option(
      '--publish <servers>',
      'also publish every bar to JetStream: nats://h1:4222,nats://h2:4222',
    )
    .option('--replicas <n>', 'replicas of ARGO_BARS when --publish creates it: 1 or 3')
    .option('--servers <list>', 'with --provider jetstream: the NATS servers to read from')
    .option('--venue <name>', 'with --provider jetstream: whose bars (binance, polygon)')
    .option('--durable <name>', 'with --provider jetstream: resume where this name stopped')
    .option('--from <date>', 'with --provider jetstream: start at this bar time')
    .option('--nats-token <token>', 'NATS token (default: env NATS_TOKEN)')
    .option('--nats-creds <file>', 'NATS .creds file (default: env NATS_CREDS)')
    .action(async (options) => streamCommand({ ...program.opts(), ...options }, io));

  program
    .command('store')
    .description('store the bus bars of a venue and interval into Parquet (acked once durable)')
    .requiredOption('--servers <list>', 'NATS servers, e.g. nats://h1:4222,nats://h2:4222')
    .requiredOption('--venue <name>', 'whose bars (binance, polygon)')
    .requiredOption('--interval <interval>', `one of ${INTERVALS.join(' ')}`)
    .option('--symbols <list>', 'only these symbols (default: all)')
    .requiredOption('--out <dir>', 'directory of stream_data_{venue}_{interval}.parquet')
    .option('--durable <name>', 'durable consumer name (default argo-store-{venue}-{interval})')
    .option('--from <date>', 'a new durable starts at this bar time (default: new bars)')
    .option('--nats-token <token>', 'NATS token (default: env NATS_TOKEN)')
    .option('--nats-creds <file>', 'NATS .creds file (default: env NATS_CREDS)')
    .action(async (options) => storeCommand({ ...program.opts(), ...options }, io));

  program
    .command('chart')
    .description('serve a live candlestick chart page on 127.0.0.1 (or draw a Parquet file)')
    .option('--provider <name>', 'binance or polygon')
    .option('--symbols <list>', 'comma-separated, e.g. BTCUSDT,ETHUSDT')
    .option('--interval <interval>', `one of ${INTERVALS.join(' ')}`)
    .option('--history <bars>', 'closed bars of history to draw first', '300')
    .option('--file <path>', 'draw this Parquet file (a download or a stream store) instead')
    .option('--port <port>', 'port on 127.0.0.1 (default: a free one)')
    .option('--api-key <key>', 'Polygon API key (default: env POLYGON_API_KEY)')
    .option('--simulate', 'run against the embedded exchange simulator (no network, no key)')
    .option('--speed <factor>', 'simulator clock speed with --simulate', '1')
    .option('--seed <n>', 'simulator seed with --simulate', '1')
    .addHelpText(
      'after',
      '\nExamples:\n  argo-market chart --provider binance --symbols BTCUSDT,ETHUSDT --interval 1m --simulate --speed 60\n  argo-market chart --file data/BTCUSDT_2024-01-01_2024-01-31_1_hour.parquet\n',
    )
    .action(async (options) => chartCommand({ ...program.opts(), ...options }, io));

  program
    .command('providers')
    .description('list the providers')
    .action(() => providersCommand(io));

  program
    .command('schema')
    .description("print the JSON Schema of a provider's stream (or download) config")
    .argument('<provider>', 'binance or polygon')
    .option('--download', 'the download config instead of the stream config')
    .action((provider: string, options: { download?: boolean }) =>
      schemaCommand(provider, options, io),
    );

  program
    .command('simulate')
    .description('run the local exchange simulator (Binance + Polygon) until Ctrl-C')
    .option('--port <port>', 'Binance port (Polygon uses port + 1); default: ephemeral')
    .option('--speed <factor>', 'clock speed (60: a 1m bar closes every second)', '1')
    .option('--seed <n>', 'market seed', '1')
    .action(async (options) => simulateCommand(options, io));

  return program;
}

/** Runs `argo-market` with `argv` (without node and script) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse mistake (unknown option, missing value) is usage.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const failure = describeFailure(error, verbose);
    io.stderr.write(`${failure.line}\n`);
    return failure.code;
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  process.exitCode = await runCli(process.argv.slice(2), io);
}
