import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MarketDataError } from '../core/errors.js';

/**
 * A fresh temporary name beside `finalPath` (same directory, so the final rename is atomic).
 * Starts with a dot so directory listings and globs like `*.parquet` skip it.
 */
export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${randomUUID()}.tmp`);
}

/**
 * Makes a fully written `tempPath` appear as `finalPath` in one step: fsync the data, rename over
 * the old file, fsync the directory. Readers see the old file or the new one, never a partial one.
 */
export async function publishFile(tempPath: string, finalPath: string): Promise<void> {
  const file = await open(tempPath, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tempPath, finalPath);
  await syncDirectory(dirname(finalPath));
}

/** Removes a temporary file if it exists; never throws (it runs on error paths). */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

// The rename itself is durable only once the directory entry is synced. Some platforms (Windows)
// cannot open a directory; the rename is still atomic there, so that failure is ignored.
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort, see above
  }
}

/**
 * DuckDB expands `*`, `?` and `[` in file names given to `read_parquet` (even as a bound
 * parameter), so a directory called `data[1]` would match other files. Each becomes a one-character
 * class, which matches only itself.
 */
export function escapeGlob(path: string): string {
  return path.replace(/[[*?]/g, (char) => `[${char}]`);
}

/**
 * Makes sure `finalPath` can be written, before a download spends any request: creates its
 * directory one level at a time (Node's recursive mkdir loops for ever under `/proc`), refuses
 * a path whose directory is a file or whose name is a directory, and proves the directory
 * writable with a temporary file that is removed again. Throws a fatal `WRITER` error naming
 * the location. Resolves to `undo`, which removes the directories it created while they are
 * still empty: a download that then fails leaves nothing behind.
 */
export async function prepareOutputLocation(finalPath: string): Promise<{ undo(): Promise<void> }> {
  const directory = resolve(dirname(finalPath));
  const fail = (problem: string, cause?: unknown): MarketDataError =>
    new MarketDataError(
      'WRITER',
      `cannot write to the data directory ${directory}: ${problem}; choose a writable directory`,
      { fatal: true, ...(cause === undefined ? {} : { cause }) },
    );
  const created: string[] = [];
  const undo = async () => {
    for (const dir of created.slice().reverse()) await rmdir(dir).catch(() => {});
  };
  const problem = await makeDirectory(directory, created);
  if (problem !== undefined) {
    await undo();
    throw fail(problem.text, problem.cause);
  }
  const existing = await stat(finalPath).catch(() => undefined);
  if (existing?.isDirectory()) throw fail(`${basename(finalPath)} there is a directory`);
  const probe = tempPathFor(finalPath);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
  } catch (error) {
    await removeQuietly(probe);
    await undo();
    throw fail(`a file cannot be created there (${reasonOf(error)})`, error);
  }
  await removeQuietly(probe);
  return { undo };
}

// Creates `directory` and its missing parents; the reason it cannot, or undefined.
async function makeDirectory(
  directory: string,
  created: string[],
): Promise<{ text: string; cause?: unknown } | undefined> {
  const missing: string[] = [];
  let current = directory;
  // Walk up to the nearest existing ancestor; it must be a directory.
  while (true) {
    const info = await stat(current).catch((error: NodeJS.ErrnoException) => error);
    if (!(info instanceof Error)) {
      if (!info.isDirectory()) return { text: `${current} is not a directory` };
      break;
    }
    if (info.code !== 'ENOENT') return { text: `${current}: ${reasonOf(info)}`, cause: info };
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
      created.push(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      return { text: `${dir} cannot be created (${reasonOf(error)})`, cause: error };
    }
  }
  return undefined;
}

function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code ?? (error instanceof Error ? error.message : String(error));
}
