import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Brands (the tenants), their API keys, courses and learners, with row-level
 * security. Every tenant table leads with `tenant_id` and is ENABLE + FORCE
 * RLS, so even the owning role sees only what the policies allow.
 */
export class Foundation1763800000000 implements MigrationInterface {
  name = 'Foundation1763800000000';

  async up(q: QueryRunner): Promise<void> {
    // Roles are cluster-wide; several Allied databases may share a cluster and
    // migrate at once, so creation tolerates a concurrent twin.
    await q.query(`
      do $$ begin
        create role allied_app nologin nobypassrls;
      exception when duplicate_object or unique_violation then null;
      end $$`);
    // The connecting role switches to allied_app with set_config('role', ..., true).
    await q.query(`
      do $$ begin
        execute format('grant allied_app to %I', current_user);
      exception when others then raise notice 'grant allied_app: %', sqlerrm;
      end $$`);

    // The tenant of the current transaction; NULL when none is set. A
    // transaction-local setting reads as '' (not NULL) on a pooled connection
    // after an earlier transaction set it, hence nullif.
    await q.query(`
      create function allied_current_tenant() returns uuid
      language sql stable parallel safe
      as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$`);
    await q.query(`
      create function allied_is_platform_admin() returns boolean
      language sql stable parallel safe
      as $$ select coalesce(current_setting('app.platform_admin', true), '') = 'on' $$`);
    // A brand's resources: capability -> number in 0..1.
    await q.query(`
      create function allied_valid_resources(r jsonb) returns boolean
      language sql immutable parallel safe
      as $$
        select case when jsonb_typeof(r) <> 'object' then false else
          (select count(*) <= 32 from jsonb_each(r)) and not exists (
            select 1 from jsonb_each(r) e
            where char_length(e.key) not between 1 and 64
               or case when jsonb_typeof(e.value) <> 'number' then true
                       else (e.value)::text::numeric not between 0 and 1 end)
        end $$`);
    await q.query(`
      create function allied_valid_topics(t text[]) returns boolean
      language sql immutable parallel safe
      as $$
        select cardinality(t) <= 20 and not exists (
          select 1 from unnest(t) x where x is null or char_length(x) not between 1 and 64) $$`);

    await q.query(`
      create table brands (
        id uuid primary key,
        slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        name text not null check (char_length(name) between 1 and 200),
        kind text not null check (kind in ('KNOWLEDGE_PLATFORM','CONTENT_CREATOR','PUBLISHER',
          'SPORTS_ORGANIZATION','ATHLETE','SPONSOR','TECH_VENDOR','ADVERTISER','OTHER')),
        description text check (char_length(description) <= 2000),
        resources jsonb not null default '{}' check (allied_valid_resources(resources)),
        created_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now()
      )`);
    await q.query(`create index brands_name on brands (lower(name), id)`);

    await q.query(`
      create table api_keys (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        name text not null check (char_length(name) between 1 and 100),
        roles text[] not null check (cardinality(roles) between 1 and 5
          and roles <@ array['OWNER','ADMIN','EDITOR','ANALYST','INGEST']),
        secret_hash bytea not null check (octet_length(secret_hash) = 32),
        created_by text not null,
        created_at timestamptz(3) not null default now(),
        revoked_at timestamptz(3),
        primary key (tenant_id, id)
      )`);

    await q.query(`
      create table courses (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        title text not null check (char_length(title) between 1 and 200),
        description text check (char_length(description) <= 5000),
        topics text[] not null default '{}' check (allied_valid_topics(topics)),
        level text not null check (level in ('BEGINNER','INTERMEDIATE','ADVANCED')),
        format text not null check (format in ('VIDEO','AUDIO','ARTICLE','LIVE','BUNDLE')),
        price_minor bigint not null check (price_minor between 0 and 9007199254740991),
        currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
        status text not null default 'DRAFT' check (status in ('DRAFT','PUBLISHED','ARCHIVED')),
        created_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now(),
        primary key (tenant_id, id)
      )`);
    await q.query(`create index courses_tenant_created on courses (tenant_id, created_at desc, id desc)`);

    await q.query(`
      create table learners (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        external_id text not null check (char_length(external_id) between 1 and 200),
        segment text check (char_length(segment) between 1 and 100),
        demands text[] not null default '{}',
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        unique (tenant_id, external_id)
      )`);
    await q.query(`create index learners_tenant_created on learners (tenant_id, created_at desc, id desc)`);
    await q.query(`create index learners_tenant_segment on learners (tenant_id, segment, created_at desc, id desc)`);

    // Brand profiles are public to every authenticated caller; a brand edits
    // only itself; only a platform admin creates brands.
    await q.query(`alter table brands enable row level security`);
    await q.query(`alter table brands force row level security`);
    await q.query(`create policy brands_read on brands for select using (true)`);
    await q.query(`create policy brands_create on brands for insert with check ((select allied_is_platform_admin()))`);
    await q.query(`
      create policy brands_update_own on brands for update
      using (id = (select allied_current_tenant())) with check (id = (select allied_current_tenant()))`);
    await q.query(`grant select, insert on brands to allied_app`);
    await q.query(`grant update (name, description, resources, updated_at) on brands to allied_app`);

    for (const table of ['api_keys', 'courses', 'learners']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`
        create policy ${table}_tenant on ${table}
        using (tenant_id = (select allied_current_tenant()))
        with check (tenant_id = (select allied_current_tenant()))`);
      await q.query(`grant select, insert, update on ${table} to allied_app`);
    }
    await q.query(`revoke all on function allied_current_tenant(), allied_is_platform_admin() from public`);
    await q.query(`grant execute on function allied_current_tenant(), allied_is_platform_admin() to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table learners, courses, api_keys, brands`);
    await q.query(`drop function allied_valid_topics(text[]), allied_valid_resources(jsonb)`);
    await q.query(`drop function allied_is_platform_admin(), allied_current_tenant()`);
  }
}
