import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable jobs (src/jobs): a row written in the same tenant transaction as
 * the change that causes it, so a rolled-back change never runs its jobs.
 *
 * Tenant transactions (allied_app) insert their brand's jobs, read them, and
 * mark one done inside the transaction that does its work. Claiming,
 * retrying and dead-lettering happen on the owner connection, which sees
 * every brand's jobs through its own policy: FORCE RLS would otherwise hide
 * them from the owner too when it is not a superuser.
 */
export class Jobs1764800000000 implements MigrationInterface {
  name = 'Jobs1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table jobs (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        kind text not null check (kind ~ '^[a-z][a-z0-9_.-]{0,63}$'),
        payload jsonb not null default '{}' check (pg_column_size(payload) <= 65536),
        idempotency_key text check (char_length(idempotency_key) between 1 and 200),
        state text not null default 'PENDING' check (state in ('PENDING','RUNNING','DONE','DEAD')),
        attempts integer not null default 0 check (attempts >= 0),
        max_attempts integer not null check (max_attempts between 1 and 100),
        run_at timestamptz(3) not null default now(),
        lease_token uuid,
        leased_until timestamptz(3),
        last_error text check (char_length(last_error) <= 4000),
        created_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now(),
        finished_at timestamptz(3),
        primary key (tenant_id, id),
        unique (tenant_id, kind, idempotency_key),
        check ((state = 'RUNNING') = (lease_token is not null and leased_until is not null))
      )`);
    // The claim reads these two partial indexes only: due pending jobs, and
    // running jobs whose lease ran out (their instance died). They stay
    // small, since done and dead jobs leave them.
    await q.query(`create index jobs_due on jobs (run_at) where state = 'PENDING'`);
    await q.query(`create index jobs_leased on jobs (leased_until) where state = 'RUNNING'`);
    // The brand's list, newest first, with and without a state filter.
    await q.query(`create index jobs_tenant_created on jobs (tenant_id, created_at desc, id desc)`);
    await q.query(`create index jobs_tenant_state_created on jobs (tenant_id, state, created_at desc, id desc)`);

    await q.query(`alter table jobs enable row level security`);
    await q.query(`alter table jobs force row level security`);
    // A tenant reads its jobs, enqueues new PENDING ones, and may only mark
    // one DONE (inside a job's own transaction): never revive, reschedule or
    // forge one in another state.
    await q.query(`create policy jobs_tenant_read on jobs for select to allied_app using (tenant_id = (select allied_current_tenant()))`);
    await q.query(`
      create policy jobs_tenant_enqueue on jobs for insert to allied_app
      with check (tenant_id = (select allied_current_tenant()) and state = 'PENDING' and attempts = 0 and lease_token is null)`);
    await q.query(`
      create policy jobs_tenant_complete on jobs for update to allied_app
      using (tenant_id = (select allied_current_tenant()))
      with check (tenant_id = (select allied_current_tenant()) and state = 'DONE')`);
    await q.query(`
      do $$ begin
        execute format('create policy jobs_runner on jobs to %I using (true) with check (true)', current_user);
      end $$`);
    await q.query(`grant select, insert on jobs to allied_app`);
    // Only what marking a job done needs (and SELECT ... FOR UPDATE needs an
    // UPDATE grant); a tenant cannot reschedule or revive its jobs.
    await q.query(`grant update (state, lease_token, leased_until, updated_at, finished_at) on jobs to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table jobs`);
  }
}
