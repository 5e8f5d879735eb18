import { runSoak } from './soak.js';

// `npm run soak [-- --minutes N]`: exit 1 on any lost, duplicated or wrong bar.
const minutesArg = process.argv.indexOf('--minutes');
const minutes = minutesArg >= 0 ? Number(process.argv[minutesArg + 1]) : 5;
if (!(minutes > 0)) {
  process.stderr.write('usage: npm run soak -- [--minutes N] (N > 0)\n');
  process.exit(2);
}
process.stdout.write(`soak: ${minutes} min, 2 providers x 50 symbols, random faults every ~3 s\n`);
const report = await runSoak({
  durationMs: minutes * 60_000,
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`faults injected: ${JSON.stringify(report.faults)}\n`);
for (const v of report.venues) {
  process.stdout.write(
    `${v.provider}: bars ${v.bars}, stored ${v.stored}, lost ${v.lost}, duplicated ${v.duplicated}, wrong values ${v.wrongValues}, out of order ${v.outOfOrder}, reconnects ${v.reconnects}, non-fatal errors ${v.nonFatalErrors}${v.fatalError ? `, FATAL ${v.fatalError}` : ''}\n`,
  );
}
process.stdout.write(`peak RSS ${report.peakRssMb} MB\n${report.ok ? 'PASS' : 'FAIL'}\n`);
process.exitCode = report.ok ? 0 : 1;
