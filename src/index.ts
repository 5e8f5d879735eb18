export {
  type BusConnectionOptions,
  parseServers,
} from './bus/connection.js';
export { JetStreamProvider } from './bus/jetstream-provider.js';
export type { PublishBacklog } from './bus/publish.js';
export { type PublishOptions, type PublishSummary, publishStream } from './bus/publish.js';
export type { PublishOutcome } from './bus/publish-lane.js';
export {
  runStoreService,
  type StoreServiceOptions,
  type StoreServiceSummary,
  storeDurableName,
} from './bus/store-service.js';
export type { Replicas } from './bus/stream-setup.js';
export {
  barMessageId,
  barSubject,
  decodeSymbolToken,
  encodeSymbolToken,
  STREAM_NAME,
} from './bus/subjects.js';
export {
  type ClientDownloadParams,
  MarketDataClient,
  type MarketDataClientConfig,
} from './client.js';
// Bybit v5 Spot (DESIGN §12).
export {
  BINANCE_SYMBOL_PATTERN,
  type BinanceDownloadConfig,
  type BinanceStreamConfig,
  type BinanceStreamOptions,
  BUS_SYMBOL_PATTERN,
  BYBIT_INTERVALS,
  type BybitDownloadConfig,
  type BybitStreamConfig,
  type BybitStreamOptions,
  type JetStreamDownloadConfig,
  type JetStreamStreamConfig,
  type JetStreamStreamOptions,
  OKX_INST_ID_PATTERN,
  OKX_INTERVALS,
  type OkxDownloadConfig,
  type OkxStreamConfig,
  type OkxStreamOptions,
  POLYGON_TICKER_PATTERN,
  type PolygonDownloadConfig,
  type PolygonStreamConfig,
  type PolygonStreamOptions,
} from './config/schemas.js';
export { abortError, sleep } from './core/abort.js';
export {
  ConfigError,
  ERROR_CODES,
  type ErrorCode,
  MarketDataError,
  redactSecrets,
  redactUrl,
} from './core/errors.js';
export {
  bucketCloseMs,
  bucketStartMs,
  INTERVALS,
  intervalMs,
  intervalToTimespan,
  isInterval,
  nextBucketStartMs,
  TIMESPANS,
  timespanToInterval,
} from './core/intervals.js';
export type {
  BatchWriter,
  ConnectionStatus,
  DownloadParams,
  FormingBarListener,
  Interval,
  MarketData,
  MarketDataWriter,
  Provider,
  StatusDetail,
  StatusListener,
  StreamResult,
  Timespan,
} from './core/types.js';
export { isBatchWriter } from './core/types.js';
export type { Gap, SeriesSummary } from './dataset/coverage.js';
export type { DatasetProvider } from './dataset/layout.js';
export { type Dataset, type DatasetReadParams, openDataset } from './dataset/read.js';
export {
  type SymbolSyncResult,
  type SyncOptions,
  type SyncProgress,
  type SyncSummary,
  syncDataset,
} from './dataset/sync.js';
// Unattended operation (issue 21): metrics in a registry the caller owns, /metrics + /healthz.
export {
  type BusMetricsOption,
  PublishMetrics,
  StoreMetrics,
} from './metrics/bus-metrics.js';
export { DEFAULT_MAX_SYMBOL_SERIES, LATENCY_BUCKETS_S, OTHER_SYMBOLS } from './metrics/families.js';
export {
  type ConnectionHealth,
  combinedReport,
  type HealthReport,
  HealthTracker,
} from './metrics/health.js';
export type { MetricsOption } from './metrics/option.js';
export { observeRestScheduler } from './metrics/rest-metrics.js';
export {
  type MetricsServer,
  type MetricsServerOptions,
  startMetricsServer,
} from './metrics/server.js';
export { StreamMetrics, type StreamMetricsOptions } from './metrics/stream-metrics.js';
export { WriterMetrics, type WriterMetricsOption } from './metrics/writer-metrics.js';
export { BinanceProvider } from './providers/binance/provider.js';
export { BybitProvider } from './providers/bybit/provider.js';
export { OkxProvider } from './providers/okx/provider.js';
export { PolygonProvider } from './providers/polygon/provider.js';
export {
  createProvider,
  type DownloadConfigs,
  getDownloadConfigSchema,
  getDownloadKeychainFields,
  getProviderInfo,
  getStreamConfigSchema,
  getStreamKeychainFields,
  getSupportedProviders,
  type ProviderInfo,
  type ProviderName,
  parseDownloadConfig,
  parseStreamConfig,
  type StreamConfigs,
} from './registry.js';
export { DuckDBWriter } from './writers/duckdb-writer.js';
export { lastBarTimes, readParquetBars } from './writers/parquet-reader.js';
export {
  DEFAULT_REFRESH_INTERVAL_MS,
  StreamingDuckDBWriter,
  type StreamingDuckDBWriterOptions,
  streamFilePaths,
} from './writers/streaming-duckdb-writer.js';
