import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alliance impact (src/services/impact.service.ts): the size of the market
 * a brand or one of its campaigns targets (what awareness is measured
 * against; unset until the brand says it), and the functions that count
 * the promotion funnel, the members' satisfaction and a campaign's figures
 * per bucket. They span
 * members' events for an alliance, so they are SECURITY DEFINER, check the
 * caller's right to the scope themselves and return aggregates only; their
 * bodies live in sql/functions/.
 */
export class Impact1765600000000 implements MigrationInterface {
  name = 'Impact1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table brands add column target_market_size bigint check (target_market_size between 1 and 9007199254740991)`);
    await q.query(`alter table campaigns add column target_market_size bigint check (target_market_size between 1 and 9007199254740991)`);
    // Brands are readable by every caller; the market size is read only through allied_funnel and the brand's own settings.
    await q.query(`grant update (target_market_size) on brands to allied_app`);
    await q.query(`
      create function allied_funnel(p_alliance uuid, p_campaign uuid, p_from timestamptz, p_to timestamptz) returns jsonb
      language plpgsql stable security definer set search_path = pg_catalog, public as $$ begin return null; end $$`);
    await q.query(`revoke all on function allied_funnel(uuid, uuid, timestamptz, timestamptz) from public`);
    await q.query(`grant execute on function allied_funnel(uuid, uuid, timestamptz, timestamptz) to allied_app`);
    await q.query(`
      create function allied_alliance_satisfaction(p_alliance uuid, p_from timestamptz, p_to timestamptz, p_bucket text)
      returns table (bucket_start timestamptz, brand_id uuid, ratings bigint, rating_sum bigint, rating_squares bigint)
      language plpgsql stable security definer set search_path = pg_catalog, public as $$ begin return; end $$`);
    await q.query(`revoke all on function allied_alliance_satisfaction(uuid, timestamptz, timestamptz, text) from public`);
    await q.query(`grant execute on function allied_alliance_satisfaction(uuid, timestamptz, timestamptz, text) to allied_app`);
    await q.query(`
      create function allied_campaign_history(p_campaign uuid, p_bucket text)
      returns table (bucket_start timestamptz, impressions bigint, clicks bigint, conversions bigint, revenue jsonb, spend jsonb)
      language plpgsql stable security definer set search_path = pg_catalog, public as $$ begin return; end $$`);
    await q.query(`revoke all on function allied_campaign_history(uuid, text) from public`);
    await q.query(`grant execute on function allied_campaign_history(uuid, text) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_campaign_history(uuid, text)`);
    await q.query(`drop function allied_alliance_satisfaction(uuid, timestamptz, timestamptz, text)`);
    await q.query(`drop function allied_funnel(uuid, uuid, timestamptz, timestamptz)`);
    await q.query(`alter table campaigns drop column target_market_size`);
    await q.query(`alter table brands drop column target_market_size`);
  }
}
