import path from 'node:path';

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
  };
  logLevel: string;
  /** Create the demo brands on an empty database. */
  demo: boolean;
  limits: {
    maxDepth: number;
    maxCost: number;
    bodyBytes: number;
    /** Subscriptions one WebSocket connection may hold. */
    subscriptionsPerConnection: number;
    /** Subscriptions one brand may hold on one server instance. */
    subscriptionsPerBrand: number;
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
  return {
    env: nodeEnv,
    host: env.HOST || '0.0.0.0',
    port: int(env, 'PORT', 4000, 0, 65535),
    databaseUrl,
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    dataDir: path.resolve(env.ALLIED_DATA_DIR || './data'),
    jwt: { secret, publicKey, privateKey: pem(env, 'JWT_PRIVATE_KEY') },
    logLevel,
    demo: bool(env, 'ALLIED_DEMO', true),
    limits: {
      maxDepth: int(env, 'ALLIED_MAX_QUERY_DEPTH', 12, 2, 100),
      maxCost: int(env, 'ALLIED_MAX_QUERY_COST', 20000, 10, 10_000_000),
      bodyBytes: int(env, 'ALLIED_MAX_BODY_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      subscriptionsPerConnection: int(env, 'ALLIED_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50, 1, 10_000),
      subscriptionsPerBrand: int(env, 'ALLIED_MAX_SUBSCRIPTIONS_PER_BRAND', 1000, 1, 1_000_000),
    },
  };
}
