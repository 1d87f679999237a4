import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * From here on a SQL function's body lives in `sql/functions/NAME.sql`, applied
 * after the migrations by a repeatable step (src/db/sql-functions.ts) that
 * records each file's checksum here. An empty table re-applies every file
 * once, so existing databases take the files' bodies on their next start.
 */
export class SqlFunctions1764700000000 implements MigrationInterface {
  name = 'SqlFunctions1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table allied_sql_functions (
        name text primary key,
        checksum text not null check (checksum ~ '^[0-9a-f]{64}$'),
        applied_at timestamptz(3) not null default now()
      )`);
    // Only the migrating role reads or writes it.
    await q.query(`revoke all on allied_sql_functions from public`);
    // Attribution is now defined once, in sql/functions/allied_attributed_revenue.sql; the functions that
    // held it for alliances are no longer called (bodies of PL/pgSQL callers are replaced in this same
    // transaction, by the step that follows the migrations).
    await q.query(`drop function allied_alliance_revenue(uuid, timestamptz, timestamptz)`);
    await q.query(`drop function allied_alliance_attributed_revenue(uuid, timestamptz, timestamptz)`);
  }

  // Down forgets the checksums only: the bodies the step applied stay, and the two
  // dropped functions are not recreated (their callers no longer need them).
  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table allied_sql_functions`);
  }
}
