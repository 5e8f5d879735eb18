import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { on, once } from 'node:events';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { readParquetBars } from '../../src/writers/parquet-reader.js';
import { StreamingDuckDBWriter } from '../../src/writers/streaming-duckdb-writer.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../fixtures/stream-writer-child.mjs', import.meta.url));
const PRELOAD_ROWS = 10_000;
const KILL_AFTER_ACKS = 50;

// The child runs plain Node, so it needs the writer as JavaScript. It is compiled from src/ (not
// taken from dist/, which may be stale) into a directory inside the repository, so that the child
// resolves @duckdb/node-api from our node_modules.
let buildDir = '';
let childModule = '';

beforeAll(async () => {
  await mkdir(join(ROOT, '.vitest-tmp'), { recursive: true });
  buildDir = await mkdtemp(join(ROOT, '.vitest-tmp', 'writers-'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(
    process.execPath,
    [
      tsc,
      '--outDir',
      buildDir,
      '--rootDir',
      join(ROOT, 'src'),
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      '--types',
      'node',
      join(ROOT, 'src', 'writers', 'streaming-duckdb-writer.ts'),
    ],
    { cwd: ROOT },
  );
  childModule = join(buildDir, 'writers', 'streaming-duckdb-writer.js');
}, 60_000);

afterAll(async () => {
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

describe('StreamingDuckDBWriter under kill -9', () => {
  it.each([
    ['one write at a time', 1],
    ['50 concurrent writes sharing group commits', 50],
  ])(
    'loses no acknowledged write and leaves a readable Parquet file (%s)',
    async (_, concurrency) => {
      const dir = await tempDir();
      const args = [CHILD, childModule, dir, String(PRELOAD_ROWS), String(concurrency)];
      const child = spawn(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      onTestFinished(() => killQuietly(child));
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
      });

      const lastAcked = await killDuringExport(child, dir, KILL_AFTER_ACKS * concurrency, 10_000);
      expect(lastAcked, stderr).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

      // Whatever the kill interrupted, the Parquet file on disk is complete and readable.
      const parquetPath = join(dir, 'stream_data_binance_1s.parquet');
      const onDisk = await readParquetBars(parquetPath);
      for (const stored of onDisk) expect(stored.id).toBe(`${stored.symbol}-${idOf(stored.time)}`);

      // A new run recovers every acknowledged bar from the store.
      const writer = new StreamingDuckDBWriter(dir, 'binance', '1s');
      onTestFinished(() => writer.close());
      await writer.initialize();
      await writer.close();
      const recovered = await readParquetBars(parquetPath);
      const streamed = recovered.filter((b) => b.symbol === 'BTCUSDT').map((b) => idOf(b.time));
      const acked = Array.from({ length: lastAcked + 1 }, (_, i) => i);
      expect(streamed.slice(0, acked.length)).toEqual(acked);
      expect(recovered.filter((b) => b.symbol === 'PRELOAD')).toHaveLength(PRELOAD_ROWS);
      expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    },
  );
});

const BASE_MS = Date.UTC(2024, 0, 1);
function idOf(time: Date): number {
  return (time.getTime() - BASE_MS) / 1000;
}

/**
 * Reads "acked N" lines until the `count`-th, then waits until the writer creates its next
 * temporary export file and kills the child with SIGKILL right then, mid-export. Returns the last
 * N read (every bar up to it was acknowledged). `timeoutMs` bounds the whole wait.
 */
async function killDuringExport(
  child: ChildProcess,
  dir: string,
  count: number,
  timeoutMs: number,
) {
  const exited = once(child, 'exit');
  const timer = setTimeout(() => killQuietly(child), timeoutMs);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let lastAcked = -1;
  try {
    for await (const line of lines) {
      const match = /^acked (\d+)$/.exec(line);
      if (!match) continue;
      lastAcked = Number(match[1]);
      if (lastAcked >= count) break;
    }
    const watcher = watch(dir);
    try {
      for await (const event of on(watcher, 'change', { signal: AbortSignal.timeout(timeoutMs) })) {
        if (String(event[1]).endsWith('.tmp')) break;
      }
    } finally {
      watcher.close();
    }
    child.kill('SIGKILL');
    await exited;
  } finally {
    clearTimeout(timer);
    lines.close();
  }
  return lastAcked;
}

function killQuietly(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
