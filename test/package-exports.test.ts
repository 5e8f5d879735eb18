import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url);

// Imports the built package by its own name, through the `exports` map, as a user's code would.
async function importNames(specifier: string): Promise<string[]> {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).sort()));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
  });
  return JSON.parse(stdout) as string[];
}

describe('package exports', () => {
  it('exposes the public API from the package root', async () => {
    const names = await importNames('argo-market-data');
    expect(names).toEqual(
      expect.arrayContaining([
        'BinanceProvider',
        'PolygonProvider',
        'BybitProvider',
        'createProvider',
        'MarketDataClient',
        'DuckDBWriter',
        'StreamingDuckDBWriter',
        'MarketDataError',
        'ConfigError',
        'getSupportedProviders',
        'getProviderInfo',
        'getStreamConfigSchema',
        'getDownloadConfigSchema',
        'getStreamKeychainFields',
        'getDownloadKeychainFields',
        'parseStreamConfig',
        'parseDownloadConfig',
      ]),
    );
  });

  it('exposes the simulator as its own entry', async () => {
    expect(await importNames('argo-market-data/simulator')).toContain('startSimulator');
  });

  it('declares types for every entry and the CLI binary', async () => {
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8'));
    expect(pkg.exports['.'].types).toBe('./dist/index.d.ts');
    expect(pkg.exports['./simulator'].types).toBe('./dist/simulator/index.d.ts');
    expect(pkg.bin['argo-market']).toBe('./dist/cli/main.js');
    expect(pkg.type).toBe('module');
  });
});
