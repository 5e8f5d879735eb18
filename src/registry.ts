import type { z } from 'zod';
import { keychainFields, toJsonSchemaString } from './config/json-schema.js';
import { parseWithSchema } from './config/parse.js';
import {
  type BinanceDownloadConfig,
  type BinanceStreamConfig,
  type BinanceStreamOptions,
  type BybitDownloadConfig,
  type BybitStreamConfig,
  type BybitStreamOptions,
  binanceDownloadSchema,
  binanceStreamSchema,
  bybitDownloadSchema,
  bybitStreamSchema,
  type JetStreamDownloadConfig,
  type JetStreamStreamConfig,
  type JetStreamStreamOptions,
  jetstreamDownloadSchema,
  jetstreamStreamSchema,
  type OkxDownloadConfig,
  type OkxStreamConfig,
  type OkxStreamOptions,
  okxDownloadSchema,
  okxStreamSchema,
  type PolygonDownloadConfig,
  type PolygonStreamConfig,
  type PolygonStreamOptions,
  polygonDownloadSchema,
  polygonStreamSchema,
} from './config/schemas.js';

/** Validated stream config of each provider. */
export interface StreamConfigs {
  binance: BinanceStreamConfig;
  polygon: PolygonStreamConfig;
  jetstream: JetStreamStreamConfig;
  bybit: BybitStreamConfig;
  okx: OkxStreamConfig;
}
/** Validated download config of each provider. */
export interface DownloadConfigs {
  binance: BinanceDownloadConfig;
  polygon: PolygonDownloadConfig;
  jetstream: JetStreamDownloadConfig;
  bybit: BybitDownloadConfig;
  okx: OkxDownloadConfig;
}

import { JetStreamProvider } from './bus/jetstream-provider.js';
import { ConfigError } from './core/errors.js';
import type { Provider } from './core/types.js';
import { BinanceProvider } from './providers/binance/provider.js';
import { BybitProvider } from './providers/bybit/provider.js';
import { OkxProvider } from './providers/okx/provider.js';
import { PolygonProvider } from './providers/polygon/provider.js';

/** Names accepted by the registry functions and `createProvider`. */
export type ProviderName = 'binance' | 'polygon' | 'jetstream' | 'bybit' | 'okx';

/** What a UI or the CLI shows about a provider. */
export interface ProviderInfo {
  name: ProviderName;
  displayName: string;
  description: string;
  /** True when an API key is needed (see the keychain fields). */
  requiresAuth: boolean;
}

interface RegistryEntry {
  info: ProviderInfo;
  streamSchema: z.ZodType;
  downloadSchema: z.ZodType;
  /** Builds the provider; its constructor validates `config` against `streamSchema`. */
  create(config: unknown): Provider;
}

// The one table every registry function reads; a new provider is one new row.
const REGISTRY: Record<ProviderName, RegistryEntry> = {
  binance: {
    info: {
      name: 'binance',
      displayName: 'Binance Spot',
      description: 'Cryptocurrency spot pairs (e.g. BTCUSDT); public market data, no key',
      requiresAuth: false,
    },
    streamSchema: binanceStreamSchema,
    downloadSchema: binanceDownloadSchema,
    create: (config) => new BinanceProvider(config as BinanceStreamOptions),
  },
  polygon: {
    info: {
      name: 'polygon',
      displayName: 'Polygon.io (Massive)',
      description: 'US stocks (e.g. AAPL); needs an API key',
      requiresAuth: true,
    },
    streamSchema: polygonStreamSchema,
    downloadSchema: polygonDownloadSchema,
    create: (config) => new PolygonProvider(config as PolygonStreamOptions),
  },
  jetstream: {
    info: {
      name: 'jetstream',
      displayName: 'NATS JetStream bus',
      description:
        'Bars that collectors published to a NATS JetStream cluster (ARGO_BARS); any venue',
      requiresAuth: false,
    },
    streamSchema: jetstreamStreamSchema,
    downloadSchema: jetstreamDownloadSchema,
    create: (config) => new JetStreamProvider(config as JetStreamStreamOptions),
  },
  bybit: {
    info: {
      name: 'bybit',
      displayName: 'Bybit Spot',
      description:
        'Cryptocurrency spot pairs on Bybit v5 (e.g. BTCUSDT); public market data, no key',
      requiresAuth: false,
    },
    streamSchema: bybitStreamSchema,
    downloadSchema: bybitDownloadSchema,
    create: (config) => new BybitProvider(config as BybitStreamOptions),
  },
  okx: {
    info: {
      name: 'okx',
      displayName: 'OKX Spot',
      description: 'Cryptocurrency spot instruments (e.g. BTC-USDT); public market data, no key',
      requiresAuth: false,
    },
    streamSchema: okxStreamSchema,
    downloadSchema: okxDownloadSchema,
    create: (config) => new OkxProvider(config as OkxStreamOptions),
  },
};

/** Names of every provider, in a stable order. */
export function getSupportedProviders(): ProviderName[] {
  return Object.keys(REGISTRY) as ProviderName[];
}

function entry(name: string): RegistryEntry {
  if (Object.hasOwn(REGISTRY, name)) return REGISTRY[name as ProviderName];
  throw new ConfigError(
    'provider',
    `unknown provider '${name}': use one of ${getSupportedProviders().join(', ')}`,
  );
}

/** Name, display name, description and whether a key is needed. */
export function getProviderInfo(name: string): ProviderInfo {
  return { ...entry(name).info };
}

/** JSON Schema (string) of the provider's stream config. */
export function getStreamConfigSchema(name: string): string {
  return toJsonSchemaString(entry(name).streamSchema);
}

/** JSON Schema (string) of the provider's download config. */
export function getDownloadConfigSchema(name: string): string {
  return toJsonSchemaString(entry(name).downloadSchema);
}

/** Stream config fields that hold secrets (e.g. `['apiKey']` for polygon). */
export function getStreamKeychainFields(name: string): string[] {
  return keychainFields(entry(name).streamSchema);
}

/** Download config fields that hold secrets. */
export function getDownloadKeychainFields(name: string): string[] {
  return keychainFields(entry(name).downloadSchema);
}

function parseJson(json: unknown): unknown {
  if (typeof json !== 'string') return json;
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new ConfigError('(root)', `config is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Validate a stream config (object or JSON text); defaults applied, or a ConfigError naming the field. */
export function parseStreamConfig<N extends ProviderName>(name: N, json: unknown): StreamConfigs[N];
export function parseStreamConfig(name: string, json: unknown): StreamConfigs[ProviderName];
export function parseStreamConfig(name: string, json: unknown): StreamConfigs[ProviderName] {
  const schema = entry(name).streamSchema;
  return parseWithSchema(
    schema,
    parseJson(json),
    `${name} stream config`,
  ) as StreamConfigs[ProviderName];
}

/** Validate a download config (object or JSON text); dates become `Date`s. */
export function parseDownloadConfig<N extends ProviderName>(
  name: N,
  json: unknown,
): DownloadConfigs[N];
export function parseDownloadConfig(name: string, json: unknown): DownloadConfigs[ProviderName];
export function parseDownloadConfig(name: string, json: unknown): DownloadConfigs[ProviderName] {
  const schema = entry(name).downloadSchema;
  return parseWithSchema(
    schema,
    parseJson(json),
    `${name} download config`,
  ) as DownloadConfigs[ProviderName];
}

/**
 * Builds a provider by name from an untrusted config (object or JSON text): unknown names and
 * bad configs are ConfigErrors naming the field.
 *
 * @example
 * const provider = createProvider('binance', { symbols: ['BTCUSDT'], interval: '1m' });
 */
export function createProvider(name: string, config: unknown): Provider {
  const row = entry(name);
  const parsed = parseJson(config);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('(root)', `${name} config must be an object, got ${describe(parsed)}`);
  }
  return row.create(parsed);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
