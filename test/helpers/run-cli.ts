import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built CLI, as `npm ci` (prepare → build) leaves it. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns `argo-market` as a user would. */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI_PATH, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: 'pipe',
  });
}

/** Runs the CLI to completion (bounded by `timeoutMs`, then killed). */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 10_000,
): Promise<CliResult> {
  const child = spawnCli(args, env);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the collected stdout once it holds `count` lines (bounded by `timeoutMs`). */
export function untilLines(
  child: ChildProcessWithoutNullStreams,
  count: number,
  timeoutMs = 10_000,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${count} lines; got: ${buffered}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n').filter((line) => line.length > 0);
      if (lines.length >= count) {
        cleanup();
        resolve(lines);
      }
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`process ended before ${count} lines; got: ${buffered}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('close', onClose);
    };
    child.stdout.on('data', onData);
    child.on('close', onClose);
  });
}

/** A 127.0.0.1 port nothing listens on (bound, then closed): a venue that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolves with stderr so far once it matches `pattern` (bounded by `timeoutMs`). */
export function untilStderr(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${pattern} on stderr; got: ${buffered}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      if (pattern.test(buffered)) {
        cleanup();
        resolve(buffered);
      }
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`process ended before ${pattern} on stderr; got: ${buffered}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stderr.off('data', onData);
      child.off('close', onClose);
    };
    child.stderr.on('data', onData);
    child.on('close', onClose);
  });
}

/** Collects a running child's stderr from now on; read `.text` after it closed. */
export function collectStderr(child: ChildProcessWithoutNullStreams): { text: string } {
  const sink = { text: '' };
  child.stderr.on('data', (chunk: Buffer) => {
    sink.text += chunk.toString('utf8');
  });
  return sink;
}

/** Sends `signal` and resolves to the exit code (bounded: SIGKILL after `timeoutMs`). */
export async function stopCli(
  child: ChildProcessWithoutNullStreams,
  signal: NodeJS.Signals,
  timeoutMs = 10_000,
): Promise<number | null> {
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code] = await closed;
    return code;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `script` in bash with `pipefail` (a real shell pipe), bounded by `timeoutMs`. */
export async function runShell(script: string, timeoutMs = 15_000): Promise<CliResult> {
  const child = spawn('bash', ['-c', `set -o pipefail; ${script}`], {
    env: { PATH: process.env.PATH },
    stdio: 'pipe',
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
