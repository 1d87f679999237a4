import { ConfigError, loadConfig } from '../../src/config';

describe('configuration', () => {
  it('has sensible defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', port: 4000, databaseUrl: undefined, databasePoolSize: 10, demo: true, logLevel: 'info' });
    expect(config.dataDir).toMatch(/\/data$/);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }, 'ALLIED_TRACKING_SECRET'],
    [{ ALLIED_TRACKING_SECRET: 'short' }, 'ALLIED_TRACKING_SECRET'],
    [{ SMTP_URL: 'http://mail.example' }, 'SMTP_URL'],
    [{ ALLIED_PUBLIC_URL: 'ftp://x' }, 'ALLIED_PUBLIC_URL'],
    [{ ALLIED_MAIL_FROM: 'a <b@c>\nBcc: d@e' }, 'ALLIED_MAIL_FROM'],
    [{ JWT_PUBLIC_KEY: 'not a pem' }, 'JWT_PUBLIC_KEY'],
    [{ ALLIED_DEMO: 'maybe' }, 'ALLIED_DEMO'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE'],
    [{ ALLIED_ML_DEVICE: 'tpu' }, 'ALLIED_ML_DEVICE'],
    [{ ALLIED_ML_CACHE_MODELS: '0' }, 'ALLIED_ML_CACHE_MODELS'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });

  it('reads PEM keys with escaped newlines', () => {
    const config = loadConfig({ JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----' });
    expect(config.jwt.publicKey).toBe('-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----');
  });
});
