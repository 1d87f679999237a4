import { DataSource } from 'typeorm';
import { entities } from '../entities';
import { migrations } from '../../migrations';

/** The role tenant transactions switch to: it owns nothing and has no BYPASSRLS. */
export const APP_ROLE = 'allied_app';

// Any fixed 64-bit number; only Allied's migrators take this advisory lock.
const MIGRATION_LOCK = 7_346_112_901;

export function createDataSource(url: string, poolSize: number, applicationName = 'allied'): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'allied_migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    extra: { max: poolSize, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000, application_name: applicationName },
  });
}

/**
 * Applies pending migrations as the connecting (owner) role. Instances starting
 * together serialise on an advisory lock so each migration runs once.
 */
export async function migrate(dataSource: DataSource, options = { lock: true }): Promise<string[]> {
  // The embedded database belongs to one process and has one connection.
  if (!options.lock) return (await dataSource.runMigrations({ transaction: 'all' })).map((m) => m.name);
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'all' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
