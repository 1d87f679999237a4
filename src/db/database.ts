import { DataSource } from 'typeorm';
import { StartupError, type Config } from '../config';
import { createDataSource, migrate } from './data-source';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './embedded';

/** The open database: PostgreSQL from DATABASE_URL, or the embedded PGlite. */
export interface Database {
  dataSource: DataSource;
  kind: 'postgres' | 'embedded';
  /** Migrations applied by this open. */
  applied: string[];
  /** The embedded database's data directory as a tar archive; absent on PostgreSQL. */
  dump?: () => Promise<Blob>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Overrides the config: a folder or `memory://` (tests). */
  embeddedDir?: string;
  runMigrations?: boolean;
  /** An embedded database to start from, as PGlite's `dumpDataDir` writes it (tests copy one migrated database). */
  embeddedTemplate?: Blob;
}

export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'dataDir'>,
  options: OpenOptions = {},
): Promise<Database> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedDatabase(options.embeddedDir ?? `${config.dataDir}/pgdata`, { loadDataDir: options.embeddedTemplate });
    url = embedded.url;
  }
  // PGlite is a single session executing one statement at a time. One pooled
  // connection costs no throughput and keeps statements of different requests
  // from interleaving outside a transaction (the unnamed prepared statement is
  // session state).
  const dataSource = createDataSource(url, embedded ? 1 : config.databasePoolSize);
  try {
    await dataSource.initialize().catch((error: unknown) => {
      throw (config.databaseUrl && connectionProblem(config.databaseUrl, error)) || error;
    });
    // An idle pooled connection that the server terminates (restart, failover,
    // admin command) is reported as an 'error' on the pool; unhandled, it would
    // end the process. The pool discards that connection and opens a new one on
    // demand, so there is nothing else to do here.
    (dataSource.driver as unknown as { master?: { on(event: 'error', fn: () => void): void } }).master?.on(
      'error',
      () => undefined,
    );
    const applied = options.runMigrations === false ? [] : await migrate(dataSource, { lock: !embedded });
    return {
      dataSource,
      kind: embedded ? 'embedded' : 'postgres',
      applied,
      dump: embedded?.dump,
      async close() {
        if (dataSource.isInitialized) await dataSource.destroy();
        await embedded?.stop();
      },
    };
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Where a PostgreSQL URL points, without its password. */
function describeDatabaseUrl(url: string): { where: string; user: string; database: string } {
  try {
    const parsed = new URL(url);
    return {
      where: `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`,
      user: decodeURIComponent(parsed.username) || '(default user)',
      database: decodeURIComponent(parsed.pathname.slice(1)) || '(default database)',
    };
  } catch {
    return { where: '(unparsable host)', user: '(unknown)', database: '(unknown)' };
  }
}

/**
 * A first connection that failed for a reason the operator can fix, as a
 * message naming DATABASE_URL and what to do; undefined for anything else.
 * The driver's own messages ("connect ECONNREFUSED 127.0.0.1:5432") name no
 * setting, and the URL itself may hold a password, so it is never repeated.
 */
function connectionProblem(url: string, error: unknown): StartupError | undefined {
  const { where, user, database } = describeDatabaseUrl(url);
  const e = error as { code?: string; message?: string; errors?: { code?: string }[] };
  // Node reports a host with several addresses (localhost: ::1 and 127.0.0.1) as one AggregateError.
  const code = e.code ?? e.errors?.find((inner) => inner.code)?.code;
  if ((code && NETWORK_CODES.has(code)) || /timeout/i.test(e.message ?? '')) {
    return new StartupError(
      'DATABASE_URL',
      `cannot reach PostgreSQL at ${where} (${code ?? 'connection timed out'}). Start PostgreSQL there or correct DATABASE_URL; unset DATABASE_URL to use the embedded database instead.`,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new StartupError('DATABASE_URL', `PostgreSQL at ${where} refused user "${user}" (${e.message}). Correct the user or password in DATABASE_URL.`);
  }
  if (code === '3D000') {
    return new StartupError('DATABASE_URL', `PostgreSQL at ${where} has no database "${database}". Create it, or name an existing one in DATABASE_URL.`);
  }
  return undefined;
}
