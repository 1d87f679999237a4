import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Demands learners voice in FEEDBACK (src/services/demand.service.ts):
 * `learner_demands` holds what extraction found in each feedback event,
 * one row per entity with its normalised value, written by the
 * `demands.extract` job after the event is stored, and rewritten from an
 * analyst's correction. `demand_corrections` holds those corrections, the
 * gold labels a brand's own NER model is trained on.
 *
 * Both belong to the brand of the feedback. Other members of an alliance
 * read them only as counts per demand, through
 * allied_alliance_demand_trends; partner suggestions read other brands'
 * PUBLISHED topics through allied_published_topics (topics only).
 */
export class Demands1765200000000 implements MigrationInterface {
  name = 'Demands1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table learner_demands (
        tenant_id uuid not null references brands(id),
        id uuid not null default gen_random_uuid(),
        learner_id uuid not null,
        event_id uuid not null,
        type text not null check (type in ('TOPIC','LEVEL','FORMAT','TIME','BUDGET','PERSON','ORG','LOC')),
        -- What the demand means, the key trends count by: a topic in lower case, a level, a format, a time slot.
        value text not null check (char_length(value) between 1 and 200),
        text text not null check (char_length(text) between 1 and 4000),
        start_offset int not null check (start_offset >= 0),
        end_offset int not null check (end_offset > start_offset),
        confidence double precision not null check (confidence between 0 and 1),
        -- The model version id or shipped model name, or 'correction'.
        source text not null check (char_length(source) between 1 and 200),
        voiced_at timestamptz(3) not null,
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        foreign key (tenant_id, learner_id) references learners(tenant_id, id),
        foreign key (tenant_id, event_id) references events(tenant_id, id)
      )`);
    await q.query(`create index learner_demands_voiced on learner_demands (tenant_id, voiced_at, type, value)`);
    await q.query(`create index learner_demands_learner on learner_demands (tenant_id, learner_id, voiced_at desc)`);
    await q.query(`create index learner_demands_event on learner_demands (tenant_id, event_id)`);

    await q.query(`
      create table demand_corrections (
        tenant_id uuid not null references brands(id),
        event_id uuid not null,
        -- [{type, start, end}] in UTF-16 offsets of the feedback text: the whole answer, not a diff.
        entities jsonb not null check (jsonb_typeof(entities) = 'array'),
        corrected_by text not null check (char_length(corrected_by) between 1 and 200),
        corrected_at timestamptz(3) not null default now(),
        primary key (tenant_id, event_id),
        foreign key (tenant_id, event_id) references events(tenant_id, id)
      )`);

    for (const table of ['learner_demands', 'demand_corrections']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`
        create policy ${table}_tenant on ${table} to allied_app
        using (tenant_id = (select allied_current_tenant()))
        with check (tenant_id = (select allied_current_tenant()))`);
    }
    await q.query(`
      do $$ begin
        execute format('create policy learner_demands_definer on learner_demands for select to %I using (true)', current_user);
        execute format('create policy courses_definer on courses for select to %I using (true)', current_user);
      end $$`);
    await q.query(`grant select, insert, delete on learner_demands to allied_app`);
    await q.query(`grant select, insert, update on demand_corrections to allied_app`);

    // Declared here with their signature, security and grants; the bodies live in sql/functions/<name>.sql.
    await q.query(`
      create function allied_alliance_demand_trends(p_alliance uuid, p_from timestamptz, p_to timestamptz)
      returns table (type text, value text, learners bigint)
      language sql stable security definer set search_path = pg_catalog, public
      as $$ select null::text, null::text, 0::bigint where false $$`);
    await q.query(`
      create function allied_published_topics(p_brands uuid[])
      returns table (brand_id uuid, topic text)
      language sql stable security definer set search_path = pg_catalog, public
      as $$ select null::uuid, null::text where false $$`);
    for (const fn of ['allied_alliance_demand_trends(uuid, timestamptz, timestamptz)', 'allied_published_topics(uuid[])']) {
      await q.query(`revoke all on function ${fn} from public`);
      await q.query(`grant execute on function ${fn} to allied_app`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_published_topics(uuid[])`);
    await q.query(`drop function allied_alliance_demand_trends(uuid, timestamptz, timestamptz)`);
    await q.query(`drop table demand_corrections, learner_demands`);
    await q.query(`drop policy courses_definer on courses`);
  }
}
