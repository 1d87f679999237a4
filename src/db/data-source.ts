import { DataSource, MigrationExecutor } from 'typeorm';
import { entities } from '../entities';
import { migrations } from '../../migrations';
import { applySqlFunctions } from './sql-functions';
import { installTimestampParser } from './timestamps';

/** The role tenant transactions switch to: it owns nothing and has no BYPASSRLS. */
export const APP_ROLE = 'allied_app';

// Any fixed 64-bit number; only Allied's migrators take this advisory lock.
const MIGRATION_LOCK = 7_346_112_901;

export function createDataSource(url: string, poolSize: number, applicationName = 'allied'): DataSource {
  installTimestampParser();
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'allied_migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    // pipeline: a statement may go out before the one ahead of it is answered.
    // Tenant transactions use it to send BEGIN with their first statement and
    // their change signals with COMMIT (src/db/pipeline.ts), and statements a
    // resolver issues together go out together.
    extra: { max: poolSize, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000, application_name: applicationName, pipeline: true },
  });
}

/**
 * Applies pending migrations, then the SQL function files whose checksum
 * changed (src/db/sql-functions.ts), as the connecting (owner) role, in one
 * transaction: a function body never runs against a schema it was not
 * written for. Instances starting together serialise on an advisory lock so
 * each migration runs once. Returns the migrations' and functions' names.
 */
export async function migrate(dataSource: DataSource, options = { lock: true }): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    // The embedded database belongs to one process and has one connection: no lock.
    if (options.lock) await runner.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await runner.startTransaction();
      try {
        // The executor runs inside the transaction it finds open.
        const executor = new MigrationExecutor(dataSource, runner);
        executor.transaction = 'all';
        const migrated = (await executor.executePendingMigrations()).map((m) => m.name);
        const functions = await applySqlFunctions(runner);
        await runner.commitTransaction();
        return [...migrated, ...functions];
      } catch (error) {
        await runner.rollbackTransaction();
        throw error;
      }
    } finally {
      if (options.lock) await runner.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
