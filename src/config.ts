import path from 'node:path';
import { ML_DEVICES, type MlDevice } from './ml/runtime/runtime';

/** Every environment variable Allied reads, validated once at start-up. */
export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Set: PostgreSQL. Unset: the embedded database under `dataDir`. */
  databaseUrl?: string;
  databasePoolSize: number;
  /** Embedded database files and the development JWT secret live here. */
  dataDir: string;
  jwt: {
    /** HS256 shared secret; generated into `dataDir` in development when unset. */
    secret?: string;
    /** RS256 verification key (PEM). When set, only RS256 tokens are accepted. */
    publicKey?: string;
    /** RS256 signing key (PEM), used only by `allied token`. */
    privateKey?: string;
    /** Set: a token's `iss` must be this. */
    issuer?: string;
    /** Set: a token's `aud` must include this. */
    audience?: string;
  };
  logLevel: string;
  /** HMAC key of stored API key hashes; derived from the tracking secret when unset. */
  apiKeySecret?: string;
  observability: {
    /** Bearer token GET /metrics requires; unset in production, /metrics is not served. */
    metricsToken?: string;
    /** An operation (or HTTP request) slower than this is logged as slow, with its name and duration. */
    slowOperationMs: number;
  };
  /** Create the demo brands on an empty database. */
  demo: boolean;
  /** How long a worker's claim on a job lasts: a job whose worker died is taken up again this long after it was claimed. */
  jobLeaseSeconds: number;
  mail: {
    /** Set: mail goes to this SMTP server (smtp:// or smtps://). Unset: to the outbox in the database, shown at /outbox. */
    smtpUrl?: string;
    /** The From header of every message, e.g. `Brand mail <mail@example.com>`. */
    from: string;
    /** The address learners' tracking and unsubscribe links point at. */
    publicUrl: string;
    /** HMAC key of tracking tokens; generated into `dataDir` in development when unset. */
    trackingSecret?: string;
    /** Days a tracking or unsubscribe link works. */
    linkTtlDays: number;
    /** Messages sent at once by this instance (SMTP connections). */
    concurrency: number;
    /** Attempts per message before it is recorded as bounced. */
    maxAttempts: number;
    /** The wait after a message's first failed attempt, in ms; it doubles with each further one (at most 5 minutes). */
    retryBaseMs: number;
    /** How often each active journey looks for learners to enroll and steps that are due. */
    journeyTickSeconds: number;
  };
  limits: {
    maxDepth: number;
    maxCost: number;
    maxAliases: number;
    maxDirectives: number;
    /** Characters of a GraphQL document (the query text). */
    maxQueryChars: number;
    /** Lexical tokens of a GraphQL document, counted while parsing. */
    maxTokens: number;
    bodyBytes: number;
    /** Longest lifetime (exp − now) of a JWT accepted. */
    maxTokenTtlSeconds: number;
    /** Requests per second per client address, and the burst above it (0: off). */
    ipRate: number;
    ipBurst: number;
    /** Requests per second per brand, and the burst above it (0: off). */
    brandRate: number;
    brandBurst: number;
    /** Failed credentials per client address per window, and the window. */
    credentialFailures: number;
    credentialWindowSeconds: number;
    /** Share of the database pool one brand may hold at once (percent). */
    poolSharePercent: number;
    /** Member codes matching no membership a brand may send: per minute, and at once (then RATE_LIMITED). */
    loyaltyCodeFailuresPerMinute: number;
    loyaltyCodeFailuresBurst: number;
    /** Longest wait for a database connection before RATE_LIMITED. */
    poolWaitMs: number;
    /** Longest single SQL statement of an operation. */
    statementTimeoutMs: number;
    /** Longest an operation may keep its transaction. */
    operationTimeoutMs: number;
    /** Time for a client to send its request headers, and a GraphQL request body. */
    headersTimeoutMs: number;
    bodyTimeoutMs: number;
    /** A connection with no traffic for this long is closed (keep-alive, uploads, WebSocket without pongs). */
    idleTimeoutMs: number;
    /** How long a WebSocket may stay open before its connection_init (then 4408). */
    connectionInitTimeoutMs: number;
    /** Open connections (HTTP and WebSocket) per client address. */
    connectionsPerIp: number;
    /** Subscriptions one WebSocket connection may hold. */
    subscriptionsPerConnection: number;
    /** Subscriptions one brand may hold on one server instance. */
    subscriptionsPerBrand: number;
  };
  ml: {
    /** Where models run: auto (cuda, then webgpu, then cpu), or one provider, which must work. */
    device: MlDevice;
    /** Model sessions held in memory at once, and the megabytes they may take. */
    cacheModels: number;
    cacheMegabytes: number;
    /** Trainings one instance runs at once, each in its own worker thread. */
    trainingConcurrency: number;
    /** How long a model call waits for others to join its batch (0: the rest of the event loop's turn), and the largest batch. */
    batchWindowMs: number;
    maxBatch: number;
    /** A click this many minutes after an impression of the same creative to the same learner makes it a positive. */
    ctrClickWindowMinutes: number;
    /** Generated sentences a brand's NER training learns from (besides its corrections). */
    nerTrainingSentences: number;
    /** Percent of bestCreative answers that explore (Thompson sampling on each creative's observed clicks) instead of exploiting. */
    ctrExplorationPercent: number;
  };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

/**
 * The process cannot start as configured for a reason outside it (a port in
 * use, a database that does not answer); the message names the variable to
 * change and says what to do.
 */
export class StartupError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `expected ${min}..${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

function pem(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  // Keys passed through env files often carry literal "\n".
  const value = raw.includes('\\n') ? raw.replace(/\\n/g, '\n') : raw;
  if (!value.includes('-----BEGIN')) throw new ConfigError(name, 'expected a PEM-encoded key');
  return value;
}

function mlDevice(env: Env): MlDevice {
  const raw = (env.ALLIED_ML_DEVICE || 'auto').toLowerCase();
  if (!(ML_DEVICES as readonly string[]).includes(raw)) {
    throw new ConfigError('ALLIED_ML_DEVICE', `expected one of ${ML_DEVICES.join(', ')}, got "${env.ALLIED_ML_DEVICE}"`);
  }
  return raw as MlDevice;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  if (nodeEnv !== 'development' && nodeEnv !== 'production' && nodeEnv !== 'test') {
    throw new ConfigError('NODE_ENV', `expected development, production or test, got "${nodeEnv}"`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }
  const secret = env.JWT_SECRET || undefined;
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  }
  const publicKey = pem(env, 'JWT_PUBLIC_KEY');
  if (nodeEnv === 'production' && !secret && !publicKey) {
    throw new ConfigError('JWT_SECRET', 'set JWT_SECRET or JWT_PUBLIC_KEY in production');
  }
  const logLevel = env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `unknown level "${logLevel}"`);
  }
  const apiKeySecret = env.ALLIED_API_KEY_SECRET || undefined;
  if (apiKeySecret !== undefined && apiKeySecret.length < 32) throw new ConfigError('ALLIED_API_KEY_SECRET', 'must be at least 32 characters');
  const metricsToken = env.ALLIED_METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < 32) throw new ConfigError('ALLIED_METRICS_TOKEN', 'must be at least 32 characters');
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) throw new ConfigError('SMTP_URL', 'expected an smtp:// or smtps:// URL');
  const trackingSecret = env.ALLIED_TRACKING_SECRET || undefined;
  if (trackingSecret !== undefined && trackingSecret.length < 32) throw new ConfigError('ALLIED_TRACKING_SECRET', 'must be at least 32 characters');
  if (nodeEnv === 'production' && !trackingSecret) throw new ConfigError('ALLIED_TRACKING_SECRET', 'set it in production: it signs the links in every email');
  const port = int(env, 'PORT', 4000, 0, 65535);
  const publicUrl = (env.ALLIED_PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError('ALLIED_PUBLIC_URL', 'expected an http:// or https:// URL');
  const from = env.ALLIED_MAIL_FROM || 'Allied <mail@localhost>';
  if (!/^[^\r\n<>]*<[^\s@<>]+@[^\s@<>]+>$|^[^\s@<>]+@[^\s@<>]+$/.test(from)) {
    throw new ConfigError('ALLIED_MAIL_FROM', 'expected an address, or a name and <address>');
  }
  return {
    env: nodeEnv,
    host: env.HOST || '0.0.0.0',
    port,
    databaseUrl,
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    dataDir: path.resolve(env.ALLIED_DATA_DIR || './data'),
    jwt: { secret, publicKey, privateKey: pem(env, 'JWT_PRIVATE_KEY'), issuer: env.JWT_ISSUER || undefined, audience: env.JWT_AUDIENCE || undefined },
    logLevel,
    apiKeySecret,
    observability: { metricsToken, slowOperationMs: int(env, 'ALLIED_SLOW_OPERATION_MS', 1000, 1, 3_600_000) },
    demo: bool(env, 'ALLIED_DEMO', true),
    jobLeaseSeconds: int(env, 'ALLIED_JOB_LEASE_SECONDS', 60, 1, 3600),
    mail: {
      smtpUrl,
      from,
      publicUrl,
      trackingSecret,
      linkTtlDays: int(env, 'ALLIED_LINK_TTL_DAYS', 90, 1, 3650),
      concurrency: int(env, 'ALLIED_MAIL_CONCURRENCY', 4, 1, 64),
      maxAttempts: int(env, 'ALLIED_MAIL_MAX_ATTEMPTS', 5, 1, 20),
      retryBaseMs: int(env, 'ALLIED_MAIL_RETRY_BASE_MS', 2000, 10, 300_000),
      journeyTickSeconds: int(env, 'ALLIED_JOURNEY_TICK_SECONDS', 60, 1, 3600),
    },
    limits: {
      maxDepth: int(env, 'ALLIED_MAX_QUERY_DEPTH', 12, 2, 100),
      maxCost: int(env, 'ALLIED_MAX_QUERY_COST', 20000, 10, 10_000_000),
      maxAliases: int(env, 'ALLIED_MAX_ALIASES', 30, 0, 10_000),
      maxDirectives: int(env, 'ALLIED_MAX_DIRECTIVES', 50, 0, 10_000),
      maxQueryChars: int(env, 'ALLIED_MAX_QUERY_CHARS', 100_000, 100, 10_000_000),
      maxTokens: int(env, 'ALLIED_MAX_QUERY_TOKENS', 5000, 50, 1_000_000),
      bodyBytes: int(env, 'ALLIED_MAX_BODY_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxTokenTtlSeconds: int(env, 'ALLIED_MAX_TOKEN_TTL_SECONDS', 30 * 86_400, 60, 10 * 365 * 86_400),
      ipRate: int(env, 'ALLIED_RATE_LIMIT_PER_IP', 200, 0, 1_000_000),
      ipBurst: int(env, 'ALLIED_RATE_BURST_PER_IP', 400, 1, 10_000_000),
      brandRate: int(env, 'ALLIED_RATE_LIMIT_PER_BRAND', 100, 0, 1_000_000),
      brandBurst: int(env, 'ALLIED_RATE_BURST_PER_BRAND', 200, 1, 10_000_000),
      credentialFailures: int(env, 'ALLIED_MAX_CREDENTIAL_FAILURES', 20, 1, 1_000_000),
      credentialWindowSeconds: int(env, 'ALLIED_CREDENTIAL_WINDOW_SECONDS', 60, 1, 86_400),
      poolSharePercent: int(env, 'ALLIED_POOL_SHARE_PERCENT', 50, 1, 100),
      loyaltyCodeFailuresPerMinute: int(env, 'ALLIED_LOYALTY_CODE_FAILURES_PER_MINUTE', 10, 1, 100_000),
      loyaltyCodeFailuresBurst: int(env, 'ALLIED_LOYALTY_CODE_FAILURES_BURST', 20, 1, 100_000),
      poolWaitMs: int(env, 'ALLIED_POOL_WAIT_MS', 5000, 10, 600_000),
      statementTimeoutMs: int(env, 'ALLIED_STATEMENT_TIMEOUT_MS', 5000, 10, 3_600_000),
      operationTimeoutMs: int(env, 'ALLIED_OPERATION_TIMEOUT_MS', 15_000, 10, 3_600_000),
      headersTimeoutMs: int(env, 'ALLIED_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      bodyTimeoutMs: int(env, 'ALLIED_BODY_TIMEOUT_MS', 10_000, 100, 600_000),
      idleTimeoutMs: int(env, 'ALLIED_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
      connectionInitTimeoutMs: int(env, 'ALLIED_WS_INIT_TIMEOUT_MS', 10_000, 100, 600_000),
      connectionsPerIp: int(env, 'ALLIED_MAX_CONNECTIONS_PER_IP', 256, 1, 1_000_000),
      subscriptionsPerConnection: int(env, 'ALLIED_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50, 1, 10_000),
      subscriptionsPerBrand: int(env, 'ALLIED_MAX_SUBSCRIPTIONS_PER_BRAND', 1000, 1, 1_000_000),
    },
    ml: {
      device: mlDevice(env),
      cacheModels: int(env, 'ALLIED_ML_CACHE_MODELS', 256, 1, 1_000_000),
      cacheMegabytes: int(env, 'ALLIED_ML_CACHE_MB', 1024, 1, 1_000_000),
      trainingConcurrency: int(env, 'ALLIED_ML_TRAINING_CONCURRENCY', 1, 1, 64),
      batchWindowMs: int(env, 'ALLIED_ML_BATCH_WINDOW_MS', 0, 0, 1000),
      maxBatch: int(env, 'ALLIED_ML_MAX_BATCH', 256, 1, 65_536),
      ctrClickWindowMinutes: int(env, 'ALLIED_CTR_CLICK_WINDOW_MINUTES', 60, 1, 7 * 24 * 60),
      ctrExplorationPercent: int(env, 'ALLIED_CTR_EXPLORATION_PERCENT', 10, 0, 100),
      nerTrainingSentences: int(env, 'ALLIED_NER_TRAINING_SENTENCES', 6000, 100, 200_000),
    },
  };
}
