import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lifecycle stages (src/services/lifecycle.service.ts): each learner keeps
 * how many purchases it made, when it first bought and when it was last
 * seen, updated with the events that change them in the events' own
 * transaction; its stage is read from them, the clock and its brand's
 * thresholds in `lifecycle_settings` (allied_lifecycle_stage).
 */
export class Lifecycle1765300000000 implements MigrationInterface {
  name = 'Lifecycle1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table learners
        add column purchases integer not null default 0 check (purchases >= 0),
        add column first_purchase_at timestamptz(3),
        add column last_seen_at timestamptz(3)`);
    // Learners recorded before this migration: from their events. FORCE ROW LEVEL SECURITY applies to the
    // migrating role where it is not a superuser, so it gets a policy of its own for the statement.
    await q.query(`
      do $$ begin
        execute format('create policy learners_migrate on learners to %I using (true) with check (true)', current_user);
      end $$`);
    await q.query(`
      update learners l set purchases = x.purchases, first_purchase_at = x.first_purchase, last_seen_at = x.last_seen
      from (select tenant_id, learner_id, count(*) filter (where type = 'PURCHASE')::int as purchases,
                   min(occurred_at) filter (where type = 'PURCHASE') as first_purchase, max(occurred_at) as last_seen
            from events group by tenant_id, learner_id) x
      where l.tenant_id = x.tenant_id and l.id = x.learner_id`);
    await q.query(`drop policy learners_migrate on learners`);
    await q.query(`create index learners_tenant_seen on learners (tenant_id, last_seen_at)`);

    await q.query(`
      create table lifecycle_settings (
        tenant_id uuid primary key references brands(id),
        new_days integer not null check (new_days between 1 and 365),
        lapsed_days integer not null check (lapsed_days between 1 and 3650),
        updated_by text not null check (char_length(updated_by) between 1 and 200),
        updated_at timestamptz(3) not null default now()
      )`);
    await q.query(`alter table lifecycle_settings enable row level security`);
    await q.query(`alter table lifecycle_settings force row level security`);
    await q.query(`
      create policy lifecycle_settings_tenant on lifecycle_settings to allied_app
      using (tenant_id = (select allied_current_tenant()))
      with check (tenant_id = (select allied_current_tenant()))`);
    await q.query(`grant select, insert, update on lifecycle_settings to allied_app`);

    // Declared here; the body lives in sql/functions/allied_lifecycle_stage.sql.
    await q.query(`
      create function allied_lifecycle_stage(p_purchases integer, p_first_purchase timestamptz, p_last_seen timestamptz,
                                             p_new_days integer, p_lapsed_days integer)
      returns text language sql stable as $$ select null::text $$`);
    await q.query(`grant execute on function allied_lifecycle_stage(integer, timestamptz, timestamptz, integer, integer) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_lifecycle_stage(integer, timestamptz, timestamptz, integer, integer)`);
    await q.query(`drop table lifecycle_settings`);
    await q.query(`drop index learners_tenant_seen`);
    await q.query(`alter table learners drop column last_seen_at, drop column first_purchase_at, drop column purchases`);
  }
}
