import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A/B experiments (src/services/experiment.service.ts): a brand splits its
 * learners between two or more arms, model versions of one kind or creatives
 * of one of its campaigns, and every event an experiment affects is recorded
 * with the learner's arm in `experiment_assignments`, in the events' own
 * transaction.
 *
 * Experiments and arms belong to the brand that runs them; those of a joint
 * campaign carry its alliance and are readable by the alliance's ACTIVE
 * members, like the campaign and its creatives. Assignments belong to the
 * brand whose event they mark (a member's traffic on a joint campaign is the
 * member's): learner-level rows never cross brands, so the owner reads other
 * members' figures only as aggregates, through allied_experiment_figures.
 *
 * Partial unique indexes hold the rule of one RUNNING experiment per brand
 * and model kind, and per campaign.
 */
export class Experiments1765000000000 implements MigrationInterface {
  name = 'Experiments1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table experiments (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        alliance_id uuid references alliances(id),
        name text not null check (char_length(name) between 1 and 200),
        kind text not null check (kind in ('MODEL','CREATIVE')),
        model_kind text check (model_kind in ('RECOMMENDER','CTR')),
        campaign_id uuid,
        status text not null default 'RUNNING' check (status in ('RUNNING','ENDED')),
        started_at timestamptz(3) not null default now(),
        ended_at timestamptz(3),
        -- What endExperiment decided: the winning arm, whether it was promoted, and why.
        outcome jsonb,
        created_by text not null check (char_length(created_by) between 1 and 200),
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        foreign key (tenant_id, campaign_id) references campaigns(tenant_id, id),
        check ((kind = 'MODEL') = (model_kind is not null)),
        check ((kind = 'CREATIVE') = (campaign_id is not null)),
        check (alliance_id is null or kind = 'CREATIVE'),
        check ((status = 'ENDED') = (ended_at is not null)),
        check (ended_at is null or ended_at >= started_at)
      )`);
    await q.query(`create unique index experiments_one_running_model on experiments (tenant_id, model_kind) where status = 'RUNNING' and model_kind is not null`);
    await q.query(`create unique index experiments_one_running_campaign on experiments (tenant_id, campaign_id) where status = 'RUNNING' and campaign_id is not null`);
    await q.query(`create index experiments_list on experiments (tenant_id, created_at desc, id desc)`);
    await q.query(`create index experiments_alliance on experiments (alliance_id, created_at desc, id desc) where alliance_id is not null`);
    await q.query(`create index experiments_id on experiments (id)`);

    await q.query(`
      create table experiment_arms (
        tenant_id uuid not null,
        experiment_id uuid not null,
        -- 0 is the control.
        arm smallint not null check (arm between 0 and 9),
        alliance_id uuid references alliances(id),
        weight double precision not null check (weight > 0 and weight < 'Infinity'),
        model_version_id uuid,
        creative_id uuid,
        primary key (tenant_id, experiment_id, arm),
        unique (tenant_id, experiment_id, model_version_id),
        unique (tenant_id, experiment_id, creative_id),
        foreign key (tenant_id, experiment_id) references experiments(tenant_id, id),
        foreign key (tenant_id, model_version_id) references model_versions(tenant_id, id),
        foreign key (tenant_id, creative_id) references creatives(tenant_id, id),
        check ((model_version_id is null) <> (creative_id is null))
      )`);

    await q.query(`
      create table experiment_assignments (
        -- The brand of the event (for a joint campaign, possibly another member than the experiment's owner).
        tenant_id uuid not null,
        experiment_id uuid not null,
        event_id uuid not null,
        experiment_tenant_id uuid not null,
        arm smallint not null,
        primary key (tenant_id, experiment_id, event_id),
        foreign key (tenant_id, event_id) references events(tenant_id, id),
        foreign key (experiment_tenant_id, experiment_id, arm) references experiment_arms(tenant_id, experiment_id, arm)
      )`);
    await q.query(`create index experiment_assignments_experiment on experiment_assignments (experiment_id, arm)`);

    for (const table of ['experiments', 'experiment_arms', 'experiment_assignments']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
    }
    // The owner reads and writes its experiments; ACTIVE members of a joint campaign's alliance read them.
    for (const table of ['experiments', 'experiment_arms']) {
      await q.query(`
        create policy ${table}_tenant on ${table} to allied_app
        using (tenant_id = (select allied_current_tenant()))
        with check (tenant_id = (select allied_current_tenant()))`);
      await q.query(`create policy ${table}_alliance_read on ${table} for select to allied_app
        using (alliance_id in (select allied_active_alliances()))`);
    }
    // A brand marks its own events, and only for experiments it can see.
    await q.query(`
      create policy experiment_assignments_tenant on experiment_assignments to allied_app
      using (tenant_id = (select allied_current_tenant()))
      with check (tenant_id = (select allied_current_tenant())
                  and experiment_id in (select x.id from experiments x where x.id = experiment_id))`);
    // The definer functions run as the migrating role; where it is not a superuser, FORCE ROW LEVEL SECURITY
    // would hide other brands' rows from it too.
    await q.query(`
      do $$ begin
        execute format('create policy experiments_definer on experiments for select to %I using (true)', current_user);
        execute format('create policy experiment_arms_definer on experiment_arms for select to %I using (true)', current_user);
        execute format('create policy experiment_assignments_definer on experiment_assignments for select to %I using (true)', current_user);
      end $$`);

    await q.query(`grant select, insert on experiments, experiment_arms, experiment_assignments to allied_app`);
    await q.query(`grant update (status, ended_at, outcome) on experiments to allied_app`);

    // The functions are declared here with their signature, security and grants; their bodies live in
    // sql/functions/<name>.sql and replace these placeholders in the step that follows the migrations.
    await q.query(`
      create function allied_experiment_figures(p_experiments uuid[])
      returns table (experiment_id uuid, arm int, exposures bigint, clicks bigint, conversions bigint, revenue jsonb)
      language sql stable security definer set search_path = pg_catalog, public
      as $$ select null::uuid, null::int, 0::bigint, 0::bigint, 0::bigint, '{}'::jsonb where false $$`);
    await q.query(`
      create function allied_experiment_last_clicks(p_learners uuid[], p_at timestamptz[])
      returns table (ord int, campaign_id uuid)
      language sql stable security definer set search_path = pg_catalog, public
      as $$ select null::int, null::uuid where false $$`);
    for (const fn of ['allied_experiment_figures(uuid[])', 'allied_experiment_last_clicks(uuid[], timestamptz[])']) {
      await q.query(`revoke all on function ${fn} from public`);
      await q.query(`grant execute on function ${fn} to allied_app`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_experiment_last_clicks(uuid[], timestamptz[])`);
    await q.query(`drop function allied_experiment_figures(uuid[])`);
    await q.query(`drop table experiment_assignments, experiment_arms, experiments`);
  }
}
