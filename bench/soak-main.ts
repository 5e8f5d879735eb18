import { runOkxSoak, runSoak } from './soak.js';

// `npm run soak [-- --minutes N]`: exit 1 on any lost, duplicated or wrong bar.
const minutesArg = process.argv.indexOf('--minutes');
const minutes = minutesArg >= 0 ? Number(process.argv[minutesArg + 1]) : 5;
const symbolsArg = process.argv.indexOf('--symbols');
const symbols = symbolsArg >= 0 ? Number(process.argv[symbolsArg + 1]) : 50;
if (!(minutes > 0) || !(Number.isInteger(symbols) && symbols > 0)) {
  process.stderr.write('usage: npm run soak -- [--minutes N] [--symbols S] (N > 0, S ≥ 1)\n');
  process.exit(2);
}
process.stdout.write(
  `soak: ${minutes} min, Binance ${symbols} symbols (combined, weight limit 6000/min), Polygon ${Math.min(symbols, 500)} tickers, clock ${symbols > 200 ? 60 : 300}x, random faults every ~3 s (reconnect storms included)\n`,
);
const report = await runSoak({
  durationMs: minutes * 60_000,
  symbols,
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`faults injected: ${JSON.stringify(report.faults)}\n`);
for (const v of report.venues) {
  process.stdout.write(
    `${v.provider}: bars ${v.bars}, stored ${v.stored}, lost ${v.lost}, duplicated ${v.duplicated}, symbols without a bar ${v.silentSymbols}, wrong values ${v.wrongValues}, out of order ${v.outOfOrder}, reconnects ${v.reconnects}, non-fatal errors ${v.nonFatalErrors}${v.fatalError ? `, FATAL ${v.fatalError}` : ''}\n`,
  );
}
process.stdout.write(
  `Binance weight limit: ${report.rateLimited.status429} × 429, ${report.rateLimited.status418} × 418\n`,
);
process.stdout.write(`Bybit request limit: ${report.bybitBans ?? 0} × 403 ban\n`);
process.stdout.write(`peak RSS ${report.peakRssMb} MB\n${report.ok ? 'PASS' : 'FAIL'}\n`);
process.exitCode = report.ok ? 0 : 1;

// The OKX leg (issue 20): the same duration and instrument count on the simulator's OKX venue.
const okx = await runOkxSoak({
  durationMs: minutes * 60_000,
  symbols: Math.min(symbols, 300),
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`okx faults injected: ${JSON.stringify(okx.faults)}\n`);
process.stdout.write(
  `okx: bars ${okx.bars}, stored ${okx.stored}, lost ${okx.lost}, duplicated ${okx.duplicated}, wrong values ${okx.wrongValues}, out of order ${okx.outOfOrder}, reconnects ${okx.reconnects}, non-fatal errors ${okx.nonFatalErrors}${okx.fatalError ? `, FATAL ${okx.fatalError}` : ''}\n`,
);
process.stdout.write(
  `OKX request limits: ${okx.rateLimited} × 50011\n${okx.ok ? 'PASS' : 'FAIL'} (okx)\n`,
);
if (!okx.ok) process.exitCode = 1;
