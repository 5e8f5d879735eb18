import { readFile } from 'node:fs/promises';
import {
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
} from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { ConfigError, MarketDataError, registerSecret } from '../core/errors.js';
import type { StatusDetail, StatusListener } from '../core/types.js';

/** How a bus client reaches the cluster; credentials may sit in the URLs or beside them. */
export interface BusConnectionOptions {
  /** `nats://[user:pass@]host:port`, as a list or comma-separated. */
  servers: string | string[];
  /** A token (instead of user/password). */
  token?: string;
  /** Path of a NATS `.creds` file (JWT + nkey seed). */
  credsFile?: string;
}

/** Servers without credentials, and the credentials apart (registered as secrets). */
export interface ParsedServers {
  /** `nats://host:port` each, safe to print. */
  urls: string[];
  user?: string;
  pass?: string;
  token?: string;
}

const SCHEMES = new Set(['nats:', 'tls:', 'ws:', 'wss:']);

/**
 * Splits `servers` into printable URLs and credentials. Every credential is registered with
 * `registerSecret`, so no error text, log line or status detail can carry it afterwards.
 */
export function parseServers(servers: string | string[], field = 'servers'): ParsedServers {
  const list = (Array.isArray(servers) ? servers : String(servers).split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0) {
    throw new ConfigError(field, 'give at least one NATS server, e.g. nats://127.0.0.1:4222');
  }
  const parsed: ParsedServers = { urls: [] };
  list.forEach((text, index) => {
    let url: URL;
    try {
      url = new URL(text.includes('://') ? text : `nats://${text}`);
    } catch (error) {
      // The text may hold a password: name the position, never echo it.
      throw new ConfigError(
        `${field}.${index}`,
        `server ${index + 1} is not a URL; write nats://host:4222`,
        { cause: error },
      );
    }
    if (!SCHEMES.has(url.protocol) || url.hostname === '') {
      throw new ConfigError(
        `${field}.${index}`,
        `server ${index + 1} must be nats://host:port (or tls://, ws://, wss://)`,
      );
    }
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    registerSecret(user);
    registerSecret(pass);
    if (user && pass) {
      parsed.user = user;
      parsed.pass = pass;
    } else if (user) {
      parsed.token = user; // nats://TOKEN@host: NATS reads a lone user part as a token.
    }
    parsed.urls.push(`${url.protocol}//${url.host}`);
  });
  return parsed;
}

/** The NATS client options for `options`, credentials in their own fields, never in URLs. */
export async function natsOptions(
  options: BusConnectionOptions,
  name: string,
): Promise<ConnectionOptions> {
  const parsed = parseServers(options.servers);
  registerSecret(options.token);
  const token = options.token ?? parsed.token;
  const connection: ConnectionOptions = {
    servers: parsed.urls,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    pingInterval: 5000,
    maxPingOut: 3,
    ...(parsed.user !== undefined ? { user: parsed.user, pass: parsed.pass } : {}),
    ...(token !== undefined ? { token } : {}),
  };
  if (options.credsFile) {
    let creds: Uint8Array;
    try {
      creds = await readFile(options.credsFile);
    } catch (error) {
      throw new ConfigError('credsFile', `cannot read the NATS creds file: ${errorText(error)}`, {
        cause: error,
      });
    }
    connection.authenticator = credsAuthenticator(creds);
  }
  return connection;
}

/** `user:pass@`-free text of a foreign error, for our messages. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/:\/\/[^\s/@]*@/g, '://***@');
}

/** Connects once; a failure becomes a NETWORK (or AUTH_FAILED) error naming the servers. */
export async function connectBus(options: ConnectionOptions): Promise<NatsConnection> {
  try {
    return await connect(options);
  } catch (error) {
    const servers = [options.servers ?? []].flat().join(',');
    const auth = /authoriz|authentic/i.test(errorText(error));
    throw new MarketDataError(
      auth ? 'AUTH_FAILED' : 'NETWORK',
      auth
        ? `NATS at ${servers} refused the credentials; check the user/password, token or creds file`
        : `cannot reach NATS at ${servers}: ${errorText(error)}; is the cluster up?`,
      { fatal: auth, cause: error },
    );
  }
}

/**
 * Forwards the NATS connection's status to a provider's status listener until the connection
 * closes; resolves then. `detail.connection` names the server without credentials.
 */
export async function forwardStatus(
  nc: NatsConnection,
  symbols: string[],
  listener: () => StatusListener | undefined,
): Promise<void> {
  const detail = (server: string | undefined, reason?: string): StatusDetail => ({
    connection: `nats:${server ?? 'cluster'}`,
    symbols,
    ...(reason ? { reason } : {}),
  });
  let attempt = 0;
  for await (const status of nc.status()) {
    const cb = listener();
    if (status.type === 'disconnect') {
      attempt = 0;
      cb?.('reconnecting', { ...detail(status.server, 'NATS connection lost'), attempt: 1 });
    } else if (status.type === 'reconnecting') {
      attempt++;
      cb?.('reconnecting', { ...detail(undefined), attempt });
    } else if (status.type === 'reconnect') {
      attempt = 0;
      cb?.('connected', detail(status.server));
    }
  }
}
