// Shared by the CLI metrics tests: collect a child's stderr and wait for its `metrics:` URL.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { expect } from 'vitest';

/** Everything the child wrote to stderr so far (kept growing). */
export function collectStderr(child: ChildProcessWithoutNullStreams): { text: string } {
  const out = { text: '' };
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    out.text += chunk;
  });
  return out;
}

/** Resolves with the `/metrics` URL once stderr names it (text or JSON format). */
export function metricsUrl(
  stderr: { text: string },
  child: ChildProcessWithoutNullStreams,
  timeoutMs = 15_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = /metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stderr.text);
      if (!match?.[1]) return false;
      clearTimeout(timer);
      child.stderr.off('data', check);
      resolve(match[1]);
      return true;
    };
    const timer = setTimeout(() => {
      child.stderr.off('data', check);
      reject(new Error(`no metrics line: ${stderr.text}`));
    }, timeoutMs);
    // Listen after collectStderr's listener, so the text already holds the chunk.
    if (!check()) child.stderr.on('data', check);
  });
}

/** Every non-empty stderr line is one JSON object with level, time, event and msg. */
export function expectJsonLines(text: string): Record<string, unknown>[] {
  const lines = text.split('\n').filter((l) => l.length > 0);
  expect(lines.length).toBeGreaterThan(0);
  return lines.map((line) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: expect.any(String),
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      event: expect.any(String),
      msg: expect.any(String),
    });
    return entry;
  });
}
