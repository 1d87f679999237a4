import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The funnel in one pass. Each learner keeps the time it was first seen
 * (its earliest event, kept by the lifecycle hook with the events, like
 * last_seen_at), so a brand's funnel reads "first seen in the period" from
 * the learner instead of searching its history; and allied_funnel counts
 * both periods (the asked one and the one of equal length before it) in one
 * reading of their events. Its body lives in sql/functions/allied_funnel.sql.
 */
export class FirstSeen1765700000000 implements MigrationInterface {
  name = 'FirstSeen1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table learners add column first_seen_at timestamptz(3)`);
    // As in the lifecycle migration: FORCE ROW LEVEL SECURITY applies to a migrating role that is not a superuser.
    await q.query(`
      do $$ begin
        execute format('create policy learners_migrate on learners to %I using (true) with check (true)', current_user);
      end $$`);
    await q.query(`
      update learners l set first_seen_at = x.first_seen
      from (select tenant_id, learner_id, min(occurred_at) as first_seen from events group by tenant_id, learner_id) x
      where l.tenant_id = x.tenant_id and l.id = x.learner_id`);
    await q.query(`drop policy learners_migrate on learners`);
    await q.query(`drop function allied_funnel(uuid, uuid, timestamptz, timestamptz)`);
    // work_mem: the per-learner aggregate of a million events' learners stays in memory instead of spilling;
    // jit off: compiling its expressions cost about 0.12 s of a 0.5 s scan, more than it saves at this size.
    await q.query(`
      create function allied_funnel(p_alliance uuid, p_campaign uuid, p_before timestamptz, p_from timestamptz, p_to timestamptz) returns jsonb
      language plpgsql stable security definer set search_path = pg_catalog, public set work_mem = '64MB' set jit = off as $$ begin return null; end $$`);
    await q.query(`revoke all on function allied_funnel(uuid, uuid, timestamptz, timestamptz, timestamptz) from public`);
    await q.query(`grant execute on function allied_funnel(uuid, uuid, timestamptz, timestamptz, timestamptz) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_funnel(uuid, uuid, timestamptz, timestamptz, timestamptz)`);
    await q.query(`
      create function allied_funnel(p_alliance uuid, p_campaign uuid, p_from timestamptz, p_to timestamptz) returns jsonb
      language plpgsql stable security definer set search_path = pg_catalog, public as $$ begin return null; end $$`);
    await q.query(`revoke all on function allied_funnel(uuid, uuid, timestamptz, timestamptz) from public`);
    await q.query(`grant execute on function allied_funnel(uuid, uuid, timestamptz, timestamptz) to allied_app`);
    await q.query(`alter table learners drop column first_seen_at`);
  }
}
