/**
 * Stable error codes. Branch on these, never on message text; they are never renamed.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'INVALID_SYMBOL',
  'INVALID_INTERVAL',
  'AUTH_FAILED',
  'RATE_LIMITED',
  'IP_BANNED',
  'NETWORK',
  'HTTP',
  'PROTOCOL',
  'DISCONNECTED',
  'RECONNECT_EXHAUSTED',
  'WRITER',
  'WRITER_NOT_CONFIGURED',
  'ABORTED',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

const BRAND = Symbol.for('argo-market-data.MarketDataError');

/**
 * The one error type of this library. `code` is stable; `fatal` says whether retrying the same
 * thing can help (false: the stream recovers by itself; true: fix the input or give up).
 */
export class MarketDataError extends Error {
  readonly code: ErrorCode;
  readonly fatal: boolean;

  constructor(code: ErrorCode, message: string, options: { fatal: boolean; cause?: unknown }) {
    super(
      redactSecrets(message),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'MarketDataError';
    this.code = code;
    this.fatal = options.fatal;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for a MarketDataError from any copy of this package (duplicate installs included). */
  static is(value: unknown): value is MarketDataError {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return MarketDataError.is(value);
  }
}

/** A configuration error that names the offending field (dotted path, e.g. `symbols.1`). */
export class ConfigError extends MarketDataError {
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? 'CONFIG_INVALID', message, { fatal: true, cause: options.cause });
    this.name = 'ConfigError';
    this.field = field;
  }
}

// Secrets registered at runtime (e.g. the Polygon key a provider was built with). Any text that
// passes through redactSecrets() has them replaced, wherever they appear.
const knownSecrets = new Set<string>();

/** The error of a download started before `configWriter(writer)`: there is nowhere to write. */
export function writerNotConfigured(): MarketDataError {
  return new MarketDataError(
    'WRITER_NOT_CONFIGURED',
    'no writer configured: call configWriter(writer) before download()',
    { fatal: true },
  );
}

/** Remember a secret so that {@link redactSecrets} removes it from any text. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) knownSecrets.add(secret);
}

const SECRET_QUERY = /([?&](?:apiKey|apikey|api_key|key|token|access_token)=)[^&#\s"']*/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
// Credentials inside a URL (`nats://user:pass@host`, `nats://TOKEN@host`; DESIGN §9).
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

/** Replace API keys, `apiKey=` query values and Bearer tokens in any text with `***`. */
export function redactSecrets(text: string): string {
  let out = text
    .replace(SECRET_QUERY, '$1***')
    .replace(BEARER, '$1***')
    .replace(URL_USERINFO, '$1***@');
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}

/** A URL safe to print: secret query values replaced by `***`. */
export function redactUrl(url: string | URL): string {
  return redactSecrets(String(url));
}

/** Wrap anything thrown into a MarketDataError, keeping MarketDataErrors as they are. */
export function toMarketDataError(
  error: unknown,
  code: ErrorCode,
  context: string,
  fatal = false,
): MarketDataError {
  if (MarketDataError.is(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new MarketDataError(code, `${context}: ${reason}`, { fatal, cause: error });
}
