import type { ConnectionStatus, StatusDetail } from '../core/types.js';

/** One connection as /healthz reports it. */
export interface ConnectionHealth {
  connection: string;
  up: boolean;
  /** ISO time of the last change. */
  since: string;
  symbols: string[];
  reason?: string;
}

/** The body of /healthz. */
export interface HealthReport {
  ok: boolean;
  connections: ConnectionHealth[];
  /** Symbols more than two intervals behind the newest bar of the stream (the venue's clock). */
  behind: { symbol: string; lastOpen: string; since: string }[];
  /** Why not ok, one line per problem; empty when ok. */
  reasons: string[];
}

/**
 * Health of one stream from its status events and bar times: healthy while every connection is
 * up and no symbol is more than two intervals behind. "Behind" is measured against the newest
 * bar of any symbol (the venue's own clock), so a closed market or an accelerated simulator
 * clock never reads as stale.
 */
export class HealthTracker {
  private readonly states = new Map<string, ConnectionHealth>();
  private readonly behindSince = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly lastOpenTimes: () => Map<string, number>,
  ) {}

  status(status: ConnectionStatus, detail: StatusDetail): void {
    const up = status === 'connected';
    const previous = this.states.get(detail.connection);
    if (previous !== undefined && previous.up === up && !up) {
      // Still down: keep "since" at the first moment of the outage.
      if (detail.reason) previous.reason = detail.reason;
      return;
    }
    this.states.set(detail.connection, {
      connection: detail.connection,
      up,
      since: new Date().toISOString(),
      symbols: [...detail.symbols],
      ...(detail.reason && !up ? { reason: detail.reason } : {}),
    });
  }

  connections(): ConnectionHealth[] {
    return [...this.states.values()];
  }

  report(): HealthReport {
    const reasons: string[] = [];
    const connections = this.connections();
    if (connections.length === 0) reasons.push('no connection has opened yet');
    for (const c of connections) {
      if (!c.up) {
        reasons.push(`connection ${c.connection} down since ${c.since}: ${c.reason ?? 'unknown'}`);
      }
    }
    const times = this.lastOpenTimes();
    let newestMs = -1;
    for (const openMs of times.values()) if (openMs > newestMs) newestMs = openMs;
    const behind: HealthReport['behind'] = [];
    const nowMs = Date.now();
    for (const [symbol, openMs] of times) {
      if (openMs >= 0 && newestMs - openMs > 2 * this.intervalMs) {
        const sinceMs = this.behindSince.get(symbol) ?? nowMs;
        this.behindSince.set(symbol, sinceMs);
        behind.push({
          symbol,
          lastOpen: new Date(openMs).toISOString(),
          since: new Date(sinceMs).toISOString(),
        });
      } else {
        this.behindSince.delete(symbol);
      }
    }
    if (behind.length > 0) {
      reasons.push(
        `${behind.length} symbol(s) more than two intervals behind: ${behind
          .slice(0, 20)
          .map((b) => b.symbol)
          .join(',')}`,
      );
    }
    return { ok: reasons.length === 0, connections, behind, reasons };
  }
}

/** One report from several (a collector: the venue's stream and the NATS connection). */
export function combinedReport(reports: HealthReport[]): HealthReport {
  const reasons = reports.flatMap((r) => r.reasons);
  return {
    ok: reasons.length === 0,
    connections: reports.flatMap((r) => r.connections),
    behind: reports.flatMap((r) => r.behind),
    reasons,
  };
}
