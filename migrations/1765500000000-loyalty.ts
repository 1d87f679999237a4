import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Joint loyalty (src/services/loyalty.service.ts):
 *
 * - `loyalty_programs`: an alliance's programme, versioned like agreements:
 *   the LEAD proposes its rules, every ACTIVE member accepts
 *   (`loyalty_acceptances`, with the member's opt-in for its own courses),
 *   and the last acceptance makes it ACTIVE. ACTIVE members read them.
 * - `loyalty_members`: a membership, alliance-wide. No learner id is in it:
 *   each brand links its own learner to a membership in `loyalty_links`
 *   (under its own row-level security), the first at enrolment, the others
 *   with the member code the learner gives them. Only the code's HMAC is
 *   kept. A brand sees the memberships it is linked to.
 * - `loyalty_ledger`: integer points, insert-only for the application: EARN
 *   (a lot, with its expiry), REDEEM, EXPIRE, REVERSE and ADJUST, each
 *   unique per (alliance, brand, kind, source) so a repeated event or
 *   request never counts twice. `loyalty_allocations` says which lots each
 *   spending entry used, first in first out, chosen under the membership's
 *   lock: what settlement reads to know whose points were spent where.
 */
export class Loyalty1765500000000 implements MigrationInterface {
  name = 'Loyalty1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table loyalty_programs (
        alliance_id uuid not null references alliances(id),
        id uuid primary key,
        version integer not null check (version >= 1),
        status text not null check (status in ('PROPOSED', 'ACTIVE', 'SUPERSEDED', 'REJECTED')),
        rules jsonb not null check (jsonb_typeof(rules) = 'object'),
        proposed_by uuid not null references brands(id),
        proposed_by_subject text not null check (char_length(proposed_by_subject) between 1 and 200),
        created_at timestamptz(3) not null default now(),
        activated_at timestamptz(3),
        unique (alliance_id, version)
      )`);
    await q.query(`create unique index loyalty_programs_one_active on loyalty_programs (alliance_id) where status = 'ACTIVE'`);
    await q.query(`create unique index loyalty_programs_one_open on loyalty_programs (alliance_id) where status = 'PROPOSED'`);
    await q.query(`
      create table loyalty_acceptances (
        alliance_id uuid not null,
        program_id uuid not null references loyalty_programs(id),
        brand_id uuid not null references brands(id),
        own_courses boolean not null,
        accepted_at timestamptz(3) not null default now(),
        primary key (program_id, brand_id)
      )`);

    await q.query(`
      create table loyalty_members (
        alliance_id uuid not null references alliances(id),
        id uuid primary key,
        code_hash text not null check (char_length(code_hash) = 64),
        enrolled_by uuid not null references brands(id),
        created_at timestamptz(3) not null default now(),
        code_rotated_at timestamptz(3) not null default now(),
        unique (alliance_id, code_hash)
      )`);
    await q.query(`
      create table loyalty_links (
        tenant_id uuid not null,
        learner_id uuid not null,
        alliance_id uuid not null references alliances(id),
        member_id uuid not null references loyalty_members(id),
        linked_at timestamptz(3) not null default now(),
        primary key (tenant_id, alliance_id, learner_id),
        unique (tenant_id, alliance_id, member_id),
        foreign key (tenant_id, learner_id) references learners(tenant_id, id)
      )`);
    await q.query(`create index loyalty_links_member on loyalty_links (member_id)`);

    await q.query(`
      create table loyalty_ledger (
        alliance_id uuid not null,
        member_id uuid not null references loyalty_members(id),
        id uuid primary key,
        kind text not null check (kind in ('EARN', 'REDEEM', 'EXPIRE', 'REVERSE', 'ADJUST')),
        points integer not null check (points <> 0),
        brand_id uuid not null references brands(id),
        source text not null check (char_length(source) between 1 and 200),
        occurred_at timestamptz(3) not null,
        expires_at timestamptz(3),
        -- REVERSE: the lot of the refunded purchase; EXPIRE: the lot that expired.
        of_lot uuid references loyalty_ledger(id),
        value_minor bigint,
        currency text check (currency ~ '^[A-Z]{3}$'),
        reason text check (char_length(reason) <= 500),
        actor text not null check (char_length(actor) between 1 and 200),
        created_at timestamptz(3) not null default now(),
        unique (alliance_id, brand_id, kind, source),
        -- Lots (EARN, and an ADJUST that adds) expire; spending entries (REDEEM, EXPIRE, REVERSE, an ADJUST that removes) do not.
        check ((kind in ('EARN', 'ADJUST') and points > 0 and expires_at is not null)
            or (kind in ('REDEEM', 'EXPIRE', 'REVERSE', 'ADJUST') and points < 0 and expires_at is null)),
        check ((kind = 'REDEEM') = (value_minor is not null and currency is not null)),
        check ((kind in ('REVERSE', 'EXPIRE')) = (of_lot is not null))
      )`);
    await q.query(`create index loyalty_ledger_member on loyalty_ledger (member_id, occurred_at, id)`);
    await q.query(`create index loyalty_ledger_of_lot on loyalty_ledger (of_lot) where of_lot is not null`);
    // A membership's lots by expiry (spending, writing off) and its refunds (the only entries that can owe).
    await q.query(`create index loyalty_ledger_lots on loyalty_ledger (member_id, expires_at) where points > 0`);
    await q.query(`create index loyalty_ledger_reversals on loyalty_ledger (member_id) where kind = 'REVERSE'`);
    await q.query(`
      create table loyalty_allocations (
        -- The membership of both entries (what row-level security reads).
        member_id uuid not null references loyalty_members(id),
        entry_id uuid not null references loyalty_ledger(id),
        lot_id uuid not null references loyalty_ledger(id),
        points integer not null check (points > 0),
        primary key (entry_id, lot_id)
      )`);
    await q.query(`create index loyalty_allocations_lot on loyalty_allocations (lot_id)`);

    for (const table of ['loyalty_programs', 'loyalty_acceptances', 'loyalty_members', 'loyalty_links', 'loyalty_ledger', 'loyalty_allocations']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
    }
    // The definer functions run as the migrating role: it alone reads every membership (to find one by its code).
    await q.query(`
      do $$ begin
        execute format('create policy loyalty_members_definer on loyalty_members for select to %I using (true)', current_user);
      end $$`);
    // Programmes: the alliance's ACTIVE members.
    for (const table of ['loyalty_programs', 'loyalty_acceptances']) {
      await q.query(`create policy ${table}_members on ${table} to allied_app
        using (alliance_id in (select allied_active_alliances()))
        with check (alliance_id in (select allied_active_alliances()))`);
    }
    // Links: the brand's own. Memberships and their entries: those the brand is linked to.
    await q.query(`
      create policy loyalty_links_tenant on loyalty_links to allied_app
      using (tenant_id = (select allied_current_tenant()))
      with check (tenant_id = (select allied_current_tenant()) and alliance_id in (select allied_active_alliances()))`);
    // Correlated probes of the brand's links by membership (an index lookup a row), never a set of every link.
    const linked = (column: string) =>
      `exists (select 1 from loyalty_links k where k.member_id = ${column} and k.tenant_id = (select allied_current_tenant()))`;
    const ownEntry = (column: string) =>
      `exists (select 1 from loyalty_ledger x where x.id = ${column} and x.brand_id = (select allied_current_tenant()))`;
    await q.query(`create policy loyalty_members_linked on loyalty_members for select to allied_app using (${linked('loyalty_members.id')})`);
    await q.query(`create policy loyalty_members_enrol on loyalty_members for insert to allied_app
      with check (enrolled_by = (select allied_current_tenant()) and alliance_id in (select allied_active_alliances()))`);
    await q.query(`create policy loyalty_members_rotate on loyalty_members for update to allied_app
      using (${linked('loyalty_members.id')}) with check (${linked('loyalty_members.id')})`);
    await q.query(`create policy loyalty_ledger_read on loyalty_ledger for select to allied_app using (${linked('loyalty_ledger.member_id')})`);
    await q.query(`create policy loyalty_ledger_write on loyalty_ledger for insert to allied_app
      with check (brand_id = (select allied_current_tenant()) and ${linked('loyalty_ledger.member_id')})`);
    await q.query(`create policy loyalty_allocations_read on loyalty_allocations for select to allied_app
      using (${linked('loyalty_allocations.member_id')})`);
    // An allocation is written by the brand of its spending entry, or of the lot (a new lot paying a debt).
    await q.query(`create policy loyalty_allocations_write on loyalty_allocations for insert to allied_app
      with check (${linked('loyalty_allocations.member_id')}
        and (${ownEntry('loyalty_allocations.entry_id')} or ${ownEntry('loyalty_allocations.lot_id')}))`);

    await q.query(`grant select, insert, update (status, activated_at) on loyalty_programs to allied_app`);
    await q.query(`grant select, insert on loyalty_acceptances, loyalty_links to allied_app`);
    await q.query(`grant select, insert, update (code_hash, code_rotated_at) on loyalty_members to allied_app`);
    // Append-only: no update or delete, for anyone but the owner.
    await q.query(`grant select, insert on loyalty_ledger, loyalty_allocations to allied_app`);

    // Settlement: what each brand owes another for the discounts given on its points, netted per pair,
    // immutable with its settlement once FINALIZED, read like the settlement's revenue lines.
    await q.query(`
      create table settlement_loyalty_lines (
        alliance_id uuid not null,
        settlement_id uuid not null,
        payer_brand_id uuid not null references brands(id),
        payee_brand_id uuid not null references brands(id),
        -- The payer's points redeemed at the payee, and the reverse, in the period, and their values.
        points bigint not null check (points >= 0),
        offset_points bigint not null check (offset_points >= 0),
        gross_minor bigint not null check (gross_minor >= 0),
        offset_minor bigint not null check (offset_minor >= 0),
        amount_minor bigint not null check (amount_minor >= 0 and amount_minor = gross_minor - offset_minor),
        primary key (settlement_id, payer_brand_id, payee_brand_id),
        check (payer_brand_id <> payee_brand_id),
        foreign key (alliance_id, settlement_id) references settlements(alliance_id, id) on delete cascade
      )`);
    await q.query(`create trigger settlement_loyalty_lines_immutable before insert or update or delete on settlement_loyalty_lines
      for each row execute function allied_settlement_immutable()`);
    await q.query(`alter table settlement_loyalty_lines enable row level security`);
    await q.query(`alter table settlement_loyalty_lines force row level security`);
    await q.query(`create policy settlement_loyalty_lines_read on settlement_loyalty_lines for select to allied_app
      using (alliance_id in (select allied_active_alliances()) or settlement_id in (select allied_own_settlements()))`);
    await q.query(`create policy settlement_loyalty_lines_write on settlement_loyalty_lines for all to allied_app
      using (alliance_id in (select allied_active_alliances())) with check (alliance_id in (select allied_active_alliances()))`);
    await q.query(`grant select, insert, delete on settlement_loyalty_lines to allied_app`);
    await q.query(`
      do $$ begin
        execute format('create policy loyalty_ledger_definer on loyalty_ledger for select to %I using (true)', current_user);
        execute format('create policy loyalty_allocations_definer on loyalty_allocations for select to %I using (true)', current_user);
      end $$`);
    await q.query(`
      create function allied_loyalty_settlement_figures(p_alliance uuid, p_currency text, p_from timestamptz, p_to timestamptz)
      returns table (issuer uuid, redeemer uuid, points bigint, value_minor numeric)
      language sql stable security definer set search_path = pg_catalog, public as $$ select null::uuid, null::uuid, 0::bigint, 0::numeric where false $$`);
    await q.query(`revoke all on function allied_loyalty_settlement_figures(uuid, text, timestamptz, timestamptz) from public`);
    await q.query(`grant execute on function allied_loyalty_settlement_figures(uuid, text, timestamptz, timestamptz) to allied_app`);

    await q.query(`
      do $$ begin
        execute format('create policy loyalty_links_definer on loyalty_links for select to %I using (true)', current_user);
      end $$`);
    await q.query(`
      create function allied_loyalty_figures(p_alliance uuid)
      returns table (brand_id uuid, issued bigint, redeemed bigint, expired bigint, reversed bigint, outstanding bigint, members bigint)
      language sql stable security definer set search_path = pg_catalog, public as $$ select null::uuid, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint where false $$`);
    await q.query(`revoke all on function allied_loyalty_figures(uuid) from public`);
    await q.query(`grant execute on function allied_loyalty_figures(uuid) to allied_app`);

    // Declared here; the body lives in sql/functions/allied_loyalty_member_by_code.sql.
    await q.query(`
      create function allied_loyalty_member_by_code(p_alliance uuid, p_code_hash text) returns uuid
      language sql stable security definer set search_path = pg_catalog, public as $$ select null::uuid $$`);
    await q.query(`revoke all on function allied_loyalty_member_by_code(uuid, text) from public`);
    await q.query(`grant execute on function allied_loyalty_member_by_code(uuid, text) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_loyalty_member_by_code(uuid, text)`);
    await q.query(`drop function allied_loyalty_settlement_figures(uuid, text, timestamptz, timestamptz)`);
    await q.query(`drop function allied_loyalty_figures(uuid)`);
    await q.query(`drop table settlement_loyalty_lines`);
    for (const table of ['loyalty_allocations', 'loyalty_ledger', 'loyalty_links', 'loyalty_members', 'loyalty_acceptances', 'loyalty_programs']) {
      await q.query(`drop table ${table}`);
    }
  }
}
