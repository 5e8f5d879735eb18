#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { INTERVALS } from '../core/intervals.js';
import { chartCommand } from './chart.js';
import { type CliIo, SIMULATED_DIR } from './context.js';
import { downloadCommand } from './download.js';
import { describeFailure, EXIT_OK, EXIT_USAGE } from './exit.js';
import { providersCommand, schemaCommand } from './info.js';
import { lsCommand } from './ls.js';
import {
  ioForLogFormat,
  logFormatOption,
  maxSymbolsOption,
  withMetricsOptions,
} from './metrics.js';
import { singleOption, withExamples } from './options.js';
import { simulateCommand } from './simulate.js';
import { storeCommand } from './store.js';
import { streamCommand } from './stream.js';
import { syncCommand } from './sync.js';

/** What every command block gets: the program, the IO, and the repeat guard of its options. */
interface Registry {
  program: Command;
  io: CliIo;
  /** `singleOption(flags, description)`: an option that may be given once. */
  single: (flags: string, description: string, key?: string) => Option;
  /** A command with the options every data command shares (provider, key, simulator, URLs). */
  dataCommand: (name: string, description: string) => Command;
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

function buildProgram(io: CliIo): Command {
  const program = new Command('argo-market')
    .description(
      'Market data from Binance Spot and Polygon.io: download bars to Parquet, stream live bars',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .option('--verbose', 'print error causes and status reasons')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)');
  withExamples(
    program,
    'argo-market stream --provider binance --symbols BTCUSDT,ETHUSDT --interval 1m',
    'argo-market download --provider binance --symbols BTCUSDT --start 2024-01-01 --end 2024-01-31 --interval 1h',
  );
  const seen = new Map<string, string>();
  const single = (flags: string, description: string, key?: string) =>
    singleOption(flags, description, seen, key);
  const dataCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .addOption(single('--provider <name>', 'binance, polygon or bybit').makeOptionMandatory())
      .addOption(single('--api-key <key>', 'Polygon API key (default: env POLYGON_API_KEY)'))
      .option(
        '--simulate',
        `run against the embedded exchange simulator (no network, no key); files go to ${SIMULATED_DIR}/ under the output directory`,
      )
      .addOption(single('--speed <factor>', 'simulator clock speed with --simulate').default('1'))
      .addOption(single('--seed <n>', 'simulator seed with --simulate').default('1'))
      .addOption(
        single(
          '--binance-url <url>',
          `a Binance venue serving REST and WebSocket on one URL, e.g. the one \`argo-market simulate\` prints (files go to ${SIMULATED_DIR}/)`,
        ),
      )
      .addOption(single('--polygon-url <url>', 'the same for Polygon (with its --api-key)'))
      .addOption(single('--bybit-url <url>', 'the same for Bybit'))
      .addOption(single('--okx-url <url>', 'the same for OKX (--provider okx)'))
      .addOption(
        single(
          '--retries <n>',
          'retries of one REST request on network errors, 5xx and 429 (default 5)',
        ),
      )
      .addOption(new Option('--verbose', 'print error causes and status reasons').hideHelp());

  const registry: Registry = { program, io, single, dataCommand };
  for (const register of COMMANDS) register(registry);
  return program;
}

// One block per command; a new command is one function here and one line in COMMANDS.

function registerDownload({ program, io, single, dataCommand }: Registry): void {
  const command = dataCommand(
    'download',
    'download historical bars into one Parquet file per symbol and print each path',
  )
    .addOption(
      single(
        '--symbols <list>',
        'comma-separated, e.g. BTCUSDT,ETHUSDT: one file each, one after another',
        'symbols',
      ),
    )
    .addOption(single('--ticker <symbol>', 'the same as --symbols (one symbol)', 'symbols'))
    .addOption(
      single('--start <date>', 'first bar: YYYY-MM-DD or RFC 3339 (UTC)').makeOptionMandatory(),
    )
    .addOption(single('--end <date>', 'last bar: YYYY-MM-DD or RFC 3339 (default: today)'))
    .addOption(
      single('--interval <interval>', `one of ${INTERVALS.join(' ')}`).makeOptionMandatory(),
    )
    .addOption(single('--data <dir>', 'output directory').default('data'))
    .option('--force', 'replace a file that already exists (default: keep it and say so)')
    .action(async (options) => downloadCommand({ ...program.opts(), ...options }, io));
  withExamples(
    command,
    'argo-market download --provider binance --symbols BTCUSDT,ETHUSDT --start 2024-01-01 --end 2024-01-31 --interval 1h',
    'argo-market download --provider polygon --ticker AAPL --start 2024-03-04 --interval 1d --simulate',
  );
}

function registerStream({ program, io, single, dataCommand }: Registry): void {
  const command = dataCommand(
    'stream',
    'print one line per closed bar (open time UTC, symbol, OHLCV) until Ctrl-C or a closed pipe',
  )
    .addOption(
      single('--symbols <list>', 'comma-separated, e.g. BTCUSDT,ETHUSDT').makeOptionMandatory(),
    )
    .addOption(
      single('--interval <interval>', `one of ${INTERVALS.join(' ')}`).makeOptionMandatory(),
    )
    .addOption(
      single(
        '--out <dir>',
        'also persist bars to {dir}/stream_data_{provider}_{interval}.parquet; the .duckdb file beside it is the durable store every bar is committed to first (it survives kill -9 and is reopened next run); the .parquet is exported from it and complete on exit',
      ),
    )
    .option('--json', 'one JSON object per line instead of the text format')
    .option('--metrics-port <port>', 'serve /metrics and /healthz on this port (0: a free one)')
    .option('--metrics-host <host>', 'address for --metrics-port', '127.0.0.1')
    .addOption(logFormatOption())
    .addOption(maxSymbolsOption())
    .option('--dataset <dir>', 'append closed bars to a sync dataset (syncing its gap first)')
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
  withExamples(
    command,
    'argo-market stream --provider binance --symbols BTCUSDT,ETHUSDT --interval 1m',
    'argo-market stream --provider binance --symbols BTCUSDT --interval 1s --simulate --speed 10 | head -3',
    'POLYGON_API_KEY=… argo-market stream --provider polygon --symbols AAPL --interval 5m --out data --json',
  );
}

function registerSync({ program, io, single, dataCommand }: Registry): void {
  const command = dataCommand(
    'sync',
    'bring a dataset DIR/<provider>/<interval>/<SYMBOL>/<YYYY>-<MM>.parquet up to date',
  )
    .addOption(
      single('--symbols <list>', 'comma-separated, e.g. BTCUSDT,ETHUSDT').makeOptionMandatory(),
    )
    .addOption(
      single('--interval <interval>', `one of ${INTERVALS.join(' ')}`).makeOptionMandatory(),
    )
    .addOption(
      single(
        '--from <date>',
        "first bar: YYYY-MM-DD (the venue's calendar) or RFC 3339",
      ).makeOptionMandatory(),
    )
    .addOption(single('--to <date>', 'last bar: YYYY-MM-DD (whole day) or RFC 3339 (default: now)'))
    .addOption(single('--data <dir>', 'dataset directory').default('data'))
    .option('--json', 'print the summary as JSON')
    .action(async (options) => syncCommand({ ...program.opts(), ...options }, io));
  withExamples(
    command,
    'argo-market sync --provider binance --symbols BTCUSDT,ETHUSDT --interval 1m --from 2024-01-01 --data data',
    'argo-market sync --provider polygon --symbols AAPL --interval 1d --from 2024-01-01 --simulate',
  );
}

function registerLs({ program, io, single }: Registry): void {
  const command = program
    .command('ls')
    .description('list a dataset: per series the first/last bar, count and gaps')
    .addOption(single('--data <dir>', 'dataset directory').default('data'))
    .option('--json', 'print JSON')
    .action(async (options) => lsCommand(options, io));
  withExamples(command, 'argo-market ls --data data', 'argo-market ls --data data --json');
}

function registerStore({ program, io }: Registry): void {
  const command = program
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
    .addOption(logFormatOption())
    .addOption(maxSymbolsOption());
  withMetricsOptions(command).action(async (options) =>
    storeCommand({ ...program.opts(), ...options }, io),
  );
  withExamples(
    command,
    'argo-market store --servers nats://h1:4222,nats://h2:4222,nats://h3:4222 --venue binance --interval 1m --out data',
  );
}

function registerChart({ program, io }: Registry): void {
  const command = program
    .command('chart')
    .description('serve a live candlestick chart page on 127.0.0.1 (or draw a Parquet file)')
    .option('--provider <name>', 'binance or polygon')
    .option('--symbols <list>', 'comma-separated, e.g. BTCUSDT,ETHUSDT')
    .option('--interval <interval>', `one of ${INTERVALS.join(' ')}`)
    .option('--history <bars>', 'closed bars of history to draw first', '300')
    .option('--file <path>', 'draw this Parquet file (a download or a stream store) instead')
    .option('--data <dir>', 'draw the history from this sync dataset (the venue fills the rest)')
    .option('--port <port>', 'port on 127.0.0.1 (default: a free one)')
    .option('--api-key <key>', 'Polygon API key (default: env POLYGON_API_KEY)')
    .option('--simulate', 'run against the embedded exchange simulator (no network, no key)')
    .option('--speed <factor>', 'simulator clock speed with --simulate', '1')
    .option('--seed <n>', 'simulator seed with --simulate', '1')
    .action(async (options) => chartCommand({ ...program.opts(), ...options }, io));
  withExamples(
    command,
    'argo-market chart --provider binance --symbols BTCUSDT,ETHUSDT --interval 1m --simulate --speed 60',
    'argo-market chart --file data/BTCUSDT_2024-01-01_2024-01-31_1_hour.parquet',
  );
}

function registerProviders({ program, io }: Registry): void {
  const command = program
    .command('providers')
    .description('list the providers')
    .action(() => providersCommand(io));
  withExamples(command, 'argo-market providers');
}

function registerSchema({ program, io }: Registry): void {
  const command = program
    .command('schema')
    .description("print the JSON Schema of a provider's stream (or download) config")
    .argument('<provider>', 'binance or polygon')
    .option('--download', 'the download config instead of the stream config')
    .action((provider: string, options: { download?: boolean }) =>
      schemaCommand(provider, options, io),
    );
  withExamples(command, 'argo-market schema polygon', 'argo-market schema binance --download');
}

function registerSimulate({ program, io, single }: Registry): void {
  const command = program
    .command('simulate')
    .description('run the local exchange simulator (Binance + Polygon) until Ctrl-C')
    .addOption(single('--port <port>', 'Binance port (Polygon uses port + 1); default: ephemeral'))
    .addOption(
      single('--speed <factor>', 'clock speed (60: a 1m bar closes every second)').default('1'),
    )
    .addOption(single('--seed <n>', 'market seed').default('1'))
    .addOption(logFormatOption());
  withMetricsOptions(command).action(async (options) => simulateCommand(options, io));
  withExamples(
    command,
    'argo-market simulate --speed 60',
    'argo-market stream --provider binance --binance-url http://127.0.0.1:PORT --symbols BTCUSDT --interval 1m',
  );
}

const COMMANDS: ((registry: Registry) => void)[] = [
  registerDownload,
  registerStream,
  registerProviders,
  registerSchema,
  registerSimulate,
  registerChart,
  registerSync,
  registerLs,
  registerStore,
];

/** Runs `argo-market` with `argv` (without node and script) and resolves to the exit code. */
export async function runCli(argv: string[], cliIo: CliIo): Promise<number> {
  // `--log-format json`: every stderr line, the final error's too, is one JSON object.
  const io = ioForLogFormat(argv, cliIo);
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
