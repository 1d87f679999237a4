import fs from 'node:fs';
import path from 'node:path';
import 'reflect-metadata';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { ConfigError, loadConfig, type Config } from './config';
import { openDatabase } from './db/database';
import { DEMO_BRANDS, seedDemo } from './demo';
import { createLogger } from './logger';
import { buildAlliedSchema } from './resolvers';
import { createApp } from './app';
import { serve as listen } from './server';
import { resolveJwtKeys, signToken, type JwtKeys } from './tenancy/credentials';
import { isRole, Role } from './tenancy/roles';

const USAGE = `Usage:
  allied serve                      start the API (embedded database unless DATABASE_URL is set)
  allied migrate                    apply pending database migrations and exit
  allied token --platform-admin [--ttl 1h]
  allied token --brand <slug> --roles OWNER,ADMIN [--ttl 1h]
                                    print a signed token and nothing else
  allied print-schema               print the GraphQL schema (SDL)`;

export async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  try {
    const config = loadConfig();
    switch (command) {
      case 'serve':
        return await serve(config);
      case 'migrate':
        return await migrateOnly(config);
      case 'token':
        return await token(config, rest);
      case 'print-schema':
        process.stdout.write(printSchema(lexicographicSortSchema(await buildAlliedSchema())) + '\n');
        return;
      case 'help':
      case '--help':
        console.log(USAGE);
        return;
      default:
        fail(`unknown command "${command}"\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) fail(error.message);
    throw error;
  }
}

class UsageError extends Error {}

function fail(message: string): never {
  console.error(`allied: ${message}`);
  process.exit(2);
}

async function serve(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  const lock = config.databaseUrl ? undefined : claimDataDir(config.dataDir);
  const database = await openDatabase(config);
  if (database.applied.length > 0) log.info({ migrations: database.applied }, 'migrations applied');
  const app = await createApp(config, database, log);
  if (config.demo && config.env !== 'production') await seedDemo(app, log);
  const server = await listen(app);
  lock?.record(server.port);
  log.info({ url: server.url, database: database.kind }, 'listening');
  await printWelcome(config, database.dataSource, server.url);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: draining HTTP and WebSocket, closing the database');
    const timer = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 20_000).unref();
    try {
      await server.stop();
      await database.close();
      lock?.release();
      clearTimeout(timer);
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function printWelcome(config: Config, dataSource: import('typeorm').DataSource, url: string) {
  const lines = [``, `Allied is running.`, `  GraphQL (HTTP and WebSocket): ${url}`];
  lines.push(`  Database: ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded, in ${config.dataDir}`}`);
  if (config.env !== 'production') {
    const keys = resolveJwtKeys(config);
    if (keys.signKey) {
      const week = 7 * 24 * 3600;
      lines.push(`  Tokens (valid 7 days; new ones: npx allied token --help):`);
      lines.push(`    platform admin: ${signToken(keys, { sub: 'platform-admin', roles: [Role.PLATFORM_ADMIN] }, week)}`);
      const slugs = DEMO_BRANDS.map((b) => b.slug);
      const rows: { id: string; slug: string }[] = await dataSource.query(
        'select id, slug from brands where slug = any($1) order by slug',
        [slugs],
      );
      for (const row of rows) {
        const jwt = signToken(keys, { sub: `${row.slug}-owner`, tid: row.id, roles: [Role.OWNER] }, week);
        lines.push(`    ${row.slug} (OWNER): ${jwt}`);
      }
      lines.push(`  Try: curl -s ${url} -H 'content-type: application/json' \\`);
      lines.push(`         -H "authorization: Bearer <token>" -d '{"query":"{ me { subject roles brand { name } } }"}'`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

async function migrateOnly(config: Config): Promise<void> {
  claimDataDirIfEmbedded(config);
  const database = await openDatabase(config);
  console.log(database.applied.length ? `applied: ${database.applied.join(', ')}` : 'no pending migrations');
  await database.close();
}

function parseTtl(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match) throw new UsageError(`--ttl must look like 30m, 1h or 7d, got "${value}"`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

function flags(args: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"\n${USAGE}`);
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out.set(arg, next);
      i++;
    } else out.set(arg, true);
  }
  return out;
}

async function token(config: Config, args: string[]): Promise<void> {
  const opts = flags(args);
  const ttl = parseTtl(String(opts.get('--ttl') ?? '1h'));
  if (ttl > config.limits.maxTokenTtlSeconds) {
    throw new UsageError(`--ttl may be at most ${config.limits.maxTokenTtlSeconds} s (ALLIED_MAX_TOKEN_TTL_SECONDS); the server refuses longer-lived tokens`);
  }
  const keys = resolveJwtKeys(config);
  if (opts.get('--platform-admin')) {
    process.stdout.write(signToken(keys, { sub: 'platform-admin', roles: [Role.PLATFORM_ADMIN] }, ttl) + '\n');
    return;
  }
  const slug = opts.get('--brand');
  const rolesArg = opts.get('--roles');
  if (typeof slug !== 'string' || typeof rolesArg !== 'string') {
    throw new UsageError(`token needs --platform-admin, or --brand <slug> and --roles\n${USAGE}`);
  }
  const roles = rolesArg.split(',').map((r) => r.trim().toUpperCase());
  const bad = roles.filter((r) => !isRole(r) || r === Role.PLATFORM_ADMIN);
  if (bad.length) throw new UsageError(`unknown or brand-less roles: ${bad.join(', ')}`);
  const brandId = await brandIdBySlug(config, keys, slug);
  if (!brandId) throw new UsageError(`no brand with slug "${slug}"`);
  process.stdout.write(signToken(keys, { sub: `${slug}-cli`, tid: brandId, roles: roles as Role[] }, ttl) + '\n');
}

/**
 * The brand id for a slug. The embedded database may be open in a running
 * server (PGlite must never be opened twice): then the server is asked.
 */
async function brandIdBySlug(config: Config, keys: JwtKeys, slug: string): Promise<string | undefined> {
  const running = config.databaseUrl ? undefined : runningServerPort(config.dataDir);
  if (running) {
    const admin = signToken(keys, { sub: 'allied-cli', roles: [Role.PLATFORM_ADMIN] }, 60);
    const response = await fetch(`http://127.0.0.1:${running}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: 'query($slug: String) { brand(slug: $slug) { id } }', variables: { slug } }),
    });
    const body = (await response.json()) as { data?: { brand: { id: string } | null } };
    return body.data?.brand?.id;
  }
  claimDataDirIfEmbedded(config);
  const database = await openDatabase({ ...config }, { runMigrations: true });
  try {
    const rows: { id: string }[] = await database.dataSource.query('select id from brands where slug = $1', [slug]);
    return rows[0]?.id;
  } finally {
    await database.close();
  }
}

// --- one process per embedded data directory -------------------------------

interface DataDirLock {
  record(port: number): void;
  release(): void;
}

const lockFile = (dataDir: string) => path.join(dataDir, 'allied.pid');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningServerPort(dataDir: string): number | undefined {
  try {
    const { pid, port } = JSON.parse(fs.readFileSync(lockFile(dataDir), 'utf8'));
    return pid !== process.pid && isAlive(pid) && port ? port : undefined;
  } catch {
    return undefined;
  }
}

/** The embedded database may be opened by one process at a time. */
function claimDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = lockFile(dataDir);
  try {
    const { pid } = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (pid !== process.pid && isAlive(pid)) {
      throw new UsageError(`the embedded database in ${dataDir} is in use by process ${pid}`);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
  }
  fs.writeFileSync(file, JSON.stringify({ pid: process.pid }));
  return {
    record: (port) => fs.writeFileSync(file, JSON.stringify({ pid: process.pid, port })),
    release: () => fs.rmSync(file, { force: true }),
  };
}

function claimDataDirIfEmbedded(config: Config): void {
  if (config.databaseUrl) return;
  const lock = claimDataDir(config.dataDir);
  process.once('exit', () => lock.release());
}
