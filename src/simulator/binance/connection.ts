// One Binance WebSocket connection: its subscriptions, limits and the control messages of
// PROTOCOLS.md §1.6 (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY).

import type { WebSocket } from 'ws';
import type { Interval } from '../../core/types.js';
import type { FaultTarget } from '../faults.js';
import { malformedFrame } from '../faults.js';
import type { Profile } from '../model.js';
import {
  MAX_INCOMING_PER_SECOND,
  MAX_STREAMS,
  SILENT_STREAM_PATTERN,
  STREAM_PATTERN,
  wrongTypesKline,
} from './protocol.js';

/** One subscribed stream of one connection. */
export interface Subscription {
  name: string;
  /** Upper-case symbol; undefined for accepted-but-silent streams. */
  symbol?: string;
  profile?: Profile;
  interval?: Interval;
  /** Open time of the bar whose final (`x:true`) event is still to come. */
  nextFinalOpenMs: number;
  lastUpdateSimMs: number;
  lastUpdateRealMs: number;
  /** Flood mode: next open time to send and bars left. */
  floodNextOpenMs: number;
  floodLeft: number;
}

/** Parses a stream name: a kline stream, a silent well-formed one, or undefined if invalid. */
export function parseStream(
  name: string,
): { symbol: string; interval: Interval } | { silent: true } | undefined {
  const match = STREAM_PATTERN.exec(name);
  if (match) return { symbol: (match[1] as string).toUpperCase(), interval: match[2] as Interval };
  return SILENT_STREAM_PATTERN.test(name) ? { silent: true } : undefined;
}

/** Hooks from the venue: how to build a subscription and what "now" is. */
export interface ConnectionHooks {
  makeSubscription(name: string): Subscription | undefined;
  simNow(): number;
}

const error = (code: number, msg: string, id: unknown): string =>
  JSON.stringify({ error: { code, msg }, id: id === undefined ? null : id });

const ID_STRING = /^[A-Za-z0-9]{1,36}$/;
const METHODS = 'SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY';

/** A Binance stream connection. */
export class BinanceConnection implements FaultTarget {
  readonly ws: WebSocket;
  silent = false;
  malformedLeft = 0;
  combined: boolean;
  readonly streams = new Map<string, Subscription>();
  readonly openedSimMs: number;
  lastPingSimMs: number;
  lastPingRealMs: number;
  lastPongSimMs: number;
  lastPongRealMs: number;
  pingPayload = '';
  flooding = false;
  shutdown?: () => void;
  #malformedSent = 0;
  #incomingRealMs: number[] = [];
  readonly #hooks: ConnectionHooks;

  constructor(ws: WebSocket, combined: boolean, hooks: ConnectionHooks) {
    this.ws = ws;
    this.combined = combined;
    this.#hooks = hooks;
    const nowMs = hooks.simNow();
    const realMs = performance.now();
    this.openedSimMs = nowMs;
    this.lastPingSimMs = nowMs;
    this.lastPingRealMs = realMs;
    this.lastPongSimMs = nowMs;
    this.lastPongRealMs = realMs;
  }

  /** Sends a data frame (subject to the silence and malformed faults). */
  sendData(frame: string, symbol: string, eventTimeMs: number, done?: (err?: Error) => void): void {
    if (this.silent) {
      done?.();
      return;
    }
    if (this.malformedLeft > 0) {
      this.malformedLeft--;
      this.ws.send(
        malformedFrame(frame, this.#malformedSent++, wrongTypesKline(symbol, eventTimeMs)),
        done,
      );
      return;
    }
    this.ws.send(frame, done);
  }

  /** Sends a control reply (silenced too: a silent server says nothing). */
  reply(text: string): void {
    if (!this.silent) this.ws.send(text);
  }

  /** Counts one incoming frame; false (and the connection is closed) past the rate limit. */
  countIncoming(): boolean {
    const realMs = performance.now();
    while ((this.#incomingRealMs[0] ?? realMs) <= realMs - 1000) this.#incomingRealMs.shift();
    this.#incomingRealMs.push(realMs);
    if (this.#incomingRealMs.length <= MAX_INCOMING_PER_SECOND) return true;
    this.ws.close(1008, 'Too many requests');
    return false;
  }

  /** Adds streams given in the URL; false if any name is invalid. */
  subscribeAll(names: string[]): boolean {
    for (const name of names) {
      if (!parseStream(name)) return false;
    }
    for (const name of names) this.#add(name);
    return true;
  }

  #add(name: string): void {
    if (this.streams.has(name)) return;
    const sub = this.#hooks.makeSubscription(name);
    if (sub) this.streams.set(name, sub);
  }

  /** Handles one text frame from the client. */
  handleMessage(text: string): void {
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.reply(error(3, 'Invalid JSON: expected value at line 1 column 1', null));
      return;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      this.reply(error(2, 'Invalid request: expected an object', null));
      return;
    }
    const { method, params, id } = request as { method?: unknown; params?: unknown; id?: unknown };
    const idOk =
      id === undefined ||
      id === null ||
      (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) ||
      (typeof id === 'string' && ID_STRING.test(id));
    if (!idOk) {
      this.reply(error(2, 'Invalid request: request ID must be an unsigned integer', null));
      return;
    }
    const replyId = id ?? null;
    if (method === undefined) {
      this.reply(error(2, 'Invalid request: missing field `method`', replyId));
      return;
    }
    const ok = (result: unknown): void => this.reply(JSON.stringify({ result, id: replyId }));
    switch (method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!Array.isArray(params) || params.some((p) => typeof p !== 'string')) {
          this.reply(error(2, 'Invalid request: invalid stream', replyId));
          return;
        }
        const names = params as string[];
        if (names.some((name) => !parseStream(name))) {
          this.reply(error(2, 'Invalid request: invalid stream', replyId));
          return;
        }
        if (method === 'SUBSCRIBE') {
          const added = names.filter((name) => !this.streams.has(name));
          if (this.streams.size + new Set(added).size > MAX_STREAMS) {
            this.reply(error(2, 'Invalid request: too many parameters', replyId));
            return;
          }
          for (const name of names) this.#add(name);
        } else {
          for (const name of names) this.streams.delete(name);
        }
        ok(null);
        return;
      }
      case 'LIST_SUBSCRIPTIONS':
        ok([...this.streams.keys()]);
        return;
      case 'SET_PROPERTY':
      case 'GET_PROPERTY': {
        const list = Array.isArray(params) ? params : [];
        if (list[0] !== 'combined') {
          this.reply(error(0, 'Unknown property', replyId));
          return;
        }
        if (method === 'GET_PROPERTY') {
          ok(this.combined);
          return;
        }
        if (typeof list[1] !== 'boolean') {
          this.reply(error(1, 'Invalid value type: expected Boolean', replyId));
          return;
        }
        this.combined = list[1];
        ok(null);
        return;
      }
      default:
        this.reply(
          error(
            2,
            `Invalid request: unknown variant \`${String(method)}\`, expected one of ${METHODS}`,
            replyId,
          ),
        );
    }
  }
}
