import {
  getDownloadConfigSchema,
  getProviderInfo,
  getStreamConfigSchema,
  getSupportedProviders,
} from '../registry.js';
import type { CliIo } from './context.js';
import { providerName } from './context.js';

/** `argo-market providers`: a table of name, description and whether a key is needed. */
export function providersCommand(io: CliIo): void {
  const rows = getSupportedProviders().map((name) => {
    const info = getProviderInfo(name);
    return [info.name, info.displayName, info.requiresAuth ? 'yes' : 'no', info.description];
  });
  const header = ['NAME', 'DISPLAY NAME', 'KEY', 'DESCRIPTION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    io.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

/** `argo-market schema <provider> [--download]`: the JSON Schema of its config. */
export function schemaCommand(provider: string, options: { download?: boolean }, io: CliIo): void {
  const name = providerName(provider);
  const schema = options.download ? getDownloadConfigSchema(name) : getStreamConfigSchema(name);
  io.stdout.write(`${schema}\n`);
}
