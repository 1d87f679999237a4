import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The observed counts a CTR prior is smoothed from: impressions and clicks
 * per creative of a campaign across every member brand, for the owner or
 * an ACTIVE member of its alliance (src/services/ctr.service.ts). Declared
 * here with its signature, security and grants; its body lives in
 * sql/functions/allied_creative_counts.sql and replaces this placeholder in
 * the step that follows the migrations.
 */
export class CreativeCounts1765100000000 implements MigrationInterface {
  name = 'CreativeCounts1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create function allied_creative_counts(p_campaign uuid)
      returns table (creative_id uuid, impressions bigint, clicks bigint)
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$ begin return; end $$`);
    await q.query(`revoke all on function allied_creative_counts(uuid) from public`);
    await q.query(`grant execute on function allied_creative_counts(uuid) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_creative_counts(uuid)`);
  }
}
