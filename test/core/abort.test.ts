import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { linkedAbort } from '../../src/core/abort.js';

describe('linkedAbort', () => {
  it('follows its parent, with the parent’s reason', () => {
    const parent = new AbortController();
    const link = linkedAbort(parent.signal);
    parent.abort('stop');
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toBe('stop');
    link.release();
  });

  it('aborts on its own without touching the parent', () => {
    const parent = new AbortController();
    const link = linkedAbort(parent.signal);
    link.abort('timeout');
    expect([link.signal.aborted, parent.signal.aborted]).toEqual([true, false]);
    link.release();
  });

  it('release() removes its only listener from the parent', () => {
    const parent = new AbortController();
    const links = Array.from({ length: 100 }, () => linkedAbort(parent.signal));
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(100);
    for (const link of links) link.release();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    parent.abort();
    expect(links.some((link) => link.signal.aborted)).toBe(false);
  });

  it('starts aborted under an aborted parent, and works without one', () => {
    expect(linkedAbort(AbortSignal.abort('gone')).signal.reason).toBe('gone');
    const alone = linkedAbort(undefined);
    alone.abort();
    expect(alone.signal.aborted).toBe(true);
  });
});
