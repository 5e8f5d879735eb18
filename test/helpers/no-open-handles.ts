import { afterAll } from 'vitest';

// Sockets, servers and timers a test file leaves open would keep a user's process alive.
// After every file, wait (bounded) for them to go, then fail the file if any remain.
const LEAKY = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'Immediate', 'TLSWrap']);

function openHandles(): string[] {
  return process.getActiveResourcesInfo().filter((name) => LEAKY.has(name));
}

afterAll(async () => {
  const deadlineMs = Date.now() + 2000;
  let remaining = openHandles();
  while (remaining.length > 0 && Date.now() < deadlineMs) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    remaining = openHandles();
    if (remaining.length > 0) await new Promise<void>((resolve) => setTimeout(resolve, 20).unref());
  }
  if (remaining.length > 0) {
    throw new Error(`open handles left after this file: ${remaining.join(', ')}`);
  }
});
