import { onPostgres, openTestDatabase } from '../support/database';

describe('the database connection pool', () => {
  // PGlite has no other sessions to terminate; this is about a PostgreSQL server.
  (onPostgres ? it : it.skip)('survives the server terminating idle connections (restart, failover)', async () => {
    const db = await openTestDatabase();
    try {
      await Promise.all([1, 2, 3].map(() => db.dataSource.query('select pg_sleep(0.05)')));
      const [{ n }] = await db.dataSource.query(
        `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid()`,
      );
      expect(n).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await db.dataSource.query('select 1 as ok')).toEqual([{ ok: 1 }]);
    } finally {
      await db.close();
    }
  });
});
