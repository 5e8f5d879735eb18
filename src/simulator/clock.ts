/** The simulator's only source of "now": simulated epoch ms running `speed` times real time. */
export interface SimClock {
  /** Simulated epoch ms. */
  now(): number;
  /** Clock speed factor (60 => one simulated minute per real second). */
  readonly speed: number;
  /** Real milliseconds that `simMs` simulated milliseconds take. */
  realMsFor(simMs: number): number;
  /** Resolves once `now() >= simTimeMs`; rejects with the signal's reason on abort. */
  until(simTimeMs: number, signal?: AbortSignal): Promise<void>;
}

/** The clock plus what only the simulator itself may call. */
export interface OwnedClock extends SimClock {
  /** Settles every pending `until()` (resolved) and clears its timers. */
  dispose(): void;
}

/** A clock that starts at `startMs` (simulated) now and runs `speed` times real time. */
export function createClock(startMs: number, speed: number): OwnedClock {
  const realStartMs = performance.now();
  const pending = new Set<() => void>();
  const now = (): number => Math.floor(startMs + (performance.now() - realStartMs) * speed);
  const realMsFor = (simMs: number): number => Math.max(0, simMs / speed);
  return {
    now,
    speed,
    realMsFor,
    until(simTimeMs, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        let timer: NodeJS.Timeout | undefined;
        const finish = (): void => {
          if (timer) clearTimeout(timer);
          pending.delete(finish);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          if (timer) clearTimeout(timer);
          pending.delete(finish);
          reject(signal?.reason);
        };
        const check = (): void => {
          const leftMs = simTimeMs - now();
          if (leftMs <= 0) finish();
          else timer = setTimeout(check, Math.ceil(realMsFor(leftMs)));
        };
        pending.add(finish);
        signal?.addEventListener('abort', onAbort, { once: true });
        check();
      });
    },
    dispose() {
      for (const finish of [...pending]) finish();
    },
  };
}
