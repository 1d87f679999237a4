import { DataSource } from 'typeorm';
import type { Config } from '../config';
import { createDataSource, migrate } from './data-source';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './embedded';

/** The open database: PostgreSQL from DATABASE_URL, or the embedded PGlite. */
export interface Database {
  dataSource: DataSource;
  kind: 'postgres' | 'embedded';
  /** Migrations applied by this open. */
  applied: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Overrides the config: a folder or `memory://` (tests). */
  embeddedDir?: string;
  runMigrations?: boolean;
}

export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'dataDir'>,
  options: OpenOptions = {},
): Promise<Database> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedDatabase(options.embeddedDir ?? `${config.dataDir}/pgdata`);
    url = embedded.url;
  }
  // PGlite is a single session executing one statement at a time. One pooled
  // connection costs no throughput and keeps statements of different requests
  // from interleaving outside a transaction (the unnamed prepared statement is
  // session state).
  const dataSource = createDataSource(url, embedded ? 1 : config.databasePoolSize);
  try {
    await dataSource.initialize();
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
