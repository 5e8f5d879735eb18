import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
