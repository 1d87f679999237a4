import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alliances between brands: membership, versioned revenue-share agreements,
 * an append-only audit log, and joint courses.
 *
 * Alliance rows are shared across tenants, so their policies consult
 * membership. They do so through SECURITY DEFINER functions owned by the
 * migrating role; alliance_members grants that role (and only it) a policy
 * that sees every row, so a policy never recurses into the membership
 * table's own row-level security.
 */
export class Alliances1763900000000 implements MigrationInterface {
  name = 'Alliances1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table alliances (
        id uuid primary key,
        name text not null check (char_length(name) between 1 and 200),
        purpose text check (char_length(purpose) <= 2000),
        status text not null default 'FORMING' check (status in ('FORMING','ACTIVE','DISSOLVED')),
        created_by uuid not null references brands(id),
        created_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now()
      )`);
    await q.query(`
      create table alliance_members (
        alliance_id uuid not null references alliances(id),
        brand_id uuid not null references brands(id),
        role text not null check (role in ('LEAD','MEMBER')),
        status text not null check (status in ('INVITED','ACTIVE','DECLINED','LEFT')),
        invited_at timestamptz(3) not null default now(),
        joined_at timestamptz(3),
        left_at timestamptz(3),
        primary key (alliance_id, brand_id),
        check (status <> 'ACTIVE' or joined_at is not null)
      )`);
    await q.query(`create unique index alliance_members_one_lead on alliance_members (alliance_id) where role = 'LEAD'`);
    await q.query(`create index alliance_members_brand on alliance_members (brand_id, status)`);

    await q.query(`
      create table agreements (
        alliance_id uuid not null references alliances(id),
        id uuid not null unique,
        version int not null check (version >= 1),
        status text not null check (status in ('PROPOSED','ACTIVE','SUPERSEDED','REJECTED')),
        obligations text[] not null default '{}',
        effective_from timestamptz(3) not null,
        effective_to timestamptz(3),
        proposed_by uuid not null references brands(id),
        created_at timestamptz(3) not null default now(),
        decided_at timestamptz(3),
        primary key (alliance_id, id),
        unique (alliance_id, version),
        -- An empty period [from, from) is an agreement ended before it took effect.
        check (effective_to is null or effective_to >= effective_from)
      )`);
    // At most one agreement in force and one open proposal per alliance.
    await q.query(`create unique index agreements_one_active on agreements (alliance_id) where status = 'ACTIVE'`);
    await q.query(`create unique index agreements_one_open on agreements (alliance_id) where status = 'PROPOSED'`);
    await q.query(`
      create table agreement_shares (
        alliance_id uuid not null references alliances(id),
        agreement_id uuid not null references agreements(id),
        brand_id uuid not null references brands(id),
        basis_points int not null check (basis_points between 0 and 10000),
        primary key (alliance_id, agreement_id, brand_id)
      )`);
    await q.query(`
      create table agreement_acceptances (
        alliance_id uuid not null references alliances(id),
        agreement_id uuid not null references agreements(id),
        brand_id uuid not null references brands(id),
        accepted_at timestamptz(3) not null default now(),
        primary key (alliance_id, agreement_id, brand_id)
      )`);
    await q.query(`
      create table alliance_audit (
        alliance_id uuid not null references alliances(id),
        id uuid not null,
        -- The order entries were written in, exact even within one millisecond.
        seq bigint generated always as identity,
        at timestamptz(3) not null default clock_timestamp(),
        actor_brand_id uuid not null references brands(id),
        actor_subject text not null,
        action text not null,
        before jsonb,
        after jsonb,
        primary key (alliance_id, id)
      )`);
    await q.query(`create index alliance_audit_order on alliance_audit (alliance_id, seq desc)`);

    await q.query(`alter table courses add column alliance_id uuid references alliances(id)`);
    await q.query(`create index courses_alliance on courses (alliance_id, created_at desc, id desc) where alliance_id is not null`);
    // Joint and partner courses are read by id across brands.
    await q.query(`create index courses_id on courses (id)`);

    // Membership as seen by the current tenant, for policies and services.
    // PL/pgSQL rather than SQL: a SECURITY DEFINER SQL function is planned
    // afresh on every call (about half a millisecond), PL/pgSQL caches its plan.
    await q.query(`
      create function allied_active_alliances() returns setof uuid
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$ begin
        return query select alliance_id from public.alliance_members
          where brand_id = public.allied_current_tenant() and status = 'ACTIVE';
      end $$`);
    await q.query(`
      create function allied_visible_alliances() returns setof uuid
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$ begin
        return query select alliance_id from public.alliance_members
          where brand_id = public.allied_current_tenant() and status in ('ACTIVE','INVITED');
      end $$`);
    // Brands the current tenant is allied with: ACTIVE together in an alliance that is not dissolved.
    await q.query(`
      create function allied_partner_brands() returns setof uuid
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$ begin
        return query select distinct other.brand_id
          from public.alliance_members mine
          join public.alliance_members other on other.alliance_id = mine.alliance_id
          join public.alliances a on a.id = mine.alliance_id
          where mine.brand_id = public.allied_current_tenant() and mine.status = 'ACTIVE'
            and other.status = 'ACTIVE' and other.brand_id <> mine.brand_id
            and a.status <> 'DISSOLVED';
      end $$`);
    await q.query(`
      create function allied_alliance_creator(p_alliance uuid) returns uuid
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$ begin
        return (select created_by from public.alliances where id = p_alliance);
      end $$`);
    for (const fn of ['allied_active_alliances()', 'allied_visible_alliances()', 'allied_partner_brands()', 'allied_alliance_creator(uuid)']) {
      await q.query(`revoke all on function ${fn} from public`);
      await q.query(`grant execute on function ${fn} to allied_app`);
    }

    const tables = ['alliances', 'alliance_members', 'agreements', 'agreement_shares', 'agreement_acceptances', 'alliance_audit'];
    for (const table of tables) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
    }
    // The definer functions run as the migrating role: it alone reads all memberships.
    await q.query(`
      do $$ begin
        execute format('create policy alliance_members_definer on alliance_members for select to %I using (true)', current_user);
        execute format('create policy alliances_definer on alliances for select to %I using (true)', current_user);
      end $$`);

    // Alliances: ACTIVE members and invited brands see the alliance; the
    // creator inserts it; ACTIVE members change it.
    await q.query(`create policy alliances_read on alliances for select to allied_app
      using (id in (select allied_visible_alliances()))`);
    await q.query(`create policy alliances_create on alliances for insert to allied_app
      with check (created_by = (select allied_current_tenant()))`);
    await q.query(`create policy alliances_change on alliances for update to allied_app
      using (id in (select allied_active_alliances())) with check (id in (select allied_active_alliances()))`);

    // Members: visible with the alliance; the creator adds itself as LEAD;
    // ACTIVE members change memberships; a brand answers its own invitation.
    await q.query(`create policy members_read on alliance_members for select to allied_app
      using (alliance_id in (select allied_visible_alliances()))`);
    await q.query(`create policy members_add on alliance_members for insert to allied_app
      with check (alliance_id in (select allied_active_alliances())
        or (brand_id = (select allied_current_tenant()) and role = 'LEAD'
            and allied_alliance_creator(alliance_id) = (select allied_current_tenant())))`);
    await q.query(`create policy members_change on alliance_members for update to allied_app
      using (alliance_id in (select allied_active_alliances()) or brand_id = (select allied_current_tenant()))
      with check (alliance_id in (select allied_active_alliances()) or brand_id = (select allied_current_tenant()))`);

    // Agreements and their parts, and the audit log: ACTIVE members only.
    for (const table of ['agreements', 'agreement_shares', 'agreement_acceptances']) {
      await q.query(`create policy ${table}_members on ${table} to allied_app
        using (alliance_id in (select allied_active_alliances()))
        with check (alliance_id in (select allied_active_alliances()))`);
    }
    await q.query(`create policy audit_read on alliance_audit for select to allied_app
      using (alliance_id in (select allied_active_alliances()))`);
    // An invited brand declining is not ACTIVE, but records its own answer.
    await q.query(`create policy audit_append on alliance_audit for insert to allied_app
      with check (actor_brand_id = (select allied_current_tenant())
        and alliance_id in (select allied_visible_alliances()))`);

    // Joint courses are readable by the alliance's ACTIVE members; published
    // courses by the owner's partners. Writing stays with the owner (courses_tenant).
    await q.query(`create policy courses_joint_read on courses for select to allied_app
      using (alliance_id in (select allied_active_alliances()))`);
    await q.query(`create policy courses_partner_read on courses for select to allied_app
      using (status = 'PUBLISHED' and tenant_id in (select allied_partner_brands()))`);

    await q.query(`grant select, insert, update on alliances, alliance_members, agreements to allied_app`);
    await q.query(`grant select, insert on agreement_shares, agreement_acceptances to allied_app`);
    // Append-only: no update or delete, for anyone but the owner.
    await q.query(`grant select, insert on alliance_audit to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop policy courses_partner_read on courses`);
    await q.query(`drop policy courses_joint_read on courses`);
    await q.query(`alter table courses drop column alliance_id`);
    await q.query(`drop table alliance_audit, agreement_acceptances, agreement_shares, agreements, alliance_members, alliances`);
    await q.query(`drop function allied_active_alliances(), allied_visible_alliances(), allied_partner_brands(), allied_alliance_creator(uuid)`);
  }
}
