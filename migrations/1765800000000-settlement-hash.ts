import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * allied_settlement_figures aggregates its rows per agreement version with a
 * hash instead of a sort. The planner expects a few thousand attributed rows
 * where a busy alliance has a million, sorts them by version and spills the
 * sort to disk (64 MB at 1,000,000 events); with sorts off for the function
 * it hashes the few versions instead (bench/RESULTS.md, "settlement: where
 * the time goes"). Its body lives in sql/functions/allied_settlement_figures.sql.
 */
export class SettlementHash1765800000000 implements MigrationInterface {
  name = 'SettlementHash1765800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter function allied_settlement_figures(uuid, text, timestamptz, timestamptz) set enable_sort = off`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`alter function allied_settlement_figures(uuid, text, timestamptz, timestamptz) reset enable_sort`);
  }
}
