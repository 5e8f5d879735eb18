import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// Tests that spawn the CLI or import the package by name run the built dist/; build it first so
// they never run stale code (npm ci builds too, via prepare).
export async function setup(): Promise<void> {
  const tsc = new URL('../../node_modules/typescript/bin/tsc', import.meta.url);
  await promisify(execFile)(process.execPath, [tsc.pathname, '-p', 'tsconfig.build.json'], {
    cwd: new URL('../..', import.meta.url),
  });
}
