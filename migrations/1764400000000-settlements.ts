import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Settlements: for one alliance, one currency and one period [start, end),
 * the joint revenue and each member's amount under the agreement that applied
 * to each purchase. A DRAFT is recomputed by running it again; a FINALIZED
 * settlement never changes (triggers refuse it even to the owner), and
 * FINALIZED periods of one alliance and currency never overlap.
 *
 * Lines are per agreement version and brand, so a share change mid-period is
 * visible as two lines for a brand. Readable by the alliance's ACTIVE members,
 * and by any brand with a line in the settlement (a member that left keeps
 * seeing what it was paid).
 */
export class Settlements1764400000000 implements MigrationInterface {
  name = 'Settlements1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table settlements (
        alliance_id uuid not null references alliances(id),
        id uuid not null unique,
        currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
        period_start timestamptz(3) not null,
        period_end timestamptz(3) not null,
        status text not null default 'DRAFT' check (status in ('DRAFT','FINALIZED')),
        gross_minor bigint not null,
        refunds_minor bigint not null,
        -- The part of refunds_minor refunding purchases made before period_start.
        clawbacks_minor bigint not null,
        net_minor bigint not null,
        event_count int not null,
        unsettled_count int not null,
        unsettled_from timestamptz(3),
        unsettled_to timestamptz(3),
        run_by uuid not null references brands(id),
        created_at timestamptz(3) not null default now(),
        computed_at timestamptz(3) not null default now(),
        finalized_at timestamptz(3),
        finalized_by uuid references brands(id),
        primary key (alliance_id, id),
        unique (alliance_id, currency, period_start, period_end),
        check (period_end > period_start),
        check (net_minor = gross_minor - refunds_minor),
        check ((status = 'FINALIZED') = (finalized_at is not null))
      )`);
    await q.query(`create index settlements_alliance_created on settlements (alliance_id, created_at desc, id desc)`);
    await q.query(`
      create table settlement_lines (
        alliance_id uuid not null,
        settlement_id uuid not null,
        agreement_id uuid not null references agreements(id),
        -- Stored with the line: a brand that left reads its lines, not the agreements.
        agreement_version int not null,
        brand_id uuid not null references brands(id),
        share_basis_points int not null check (share_basis_points between 0 and 10000),
        -- Purchases less refunds under this agreement version in the settlement.
        version_net_minor bigint not null,
        amount_minor bigint not null,
        primary key (settlement_id, agreement_id, brand_id),
        foreign key (alliance_id, settlement_id) references settlements(alliance_id, id) on delete cascade
      )`);
    await q.query(`create index settlement_lines_brand on settlement_lines (brand_id, settlement_id)`);

    // FINALIZED is final, whoever asks.
    await q.query(`
      create function allied_settlement_immutable() returns trigger
      language plpgsql set search_path = pg_catalog, public
      as $$ begin
        if tg_table_name = 'settlements' then
          if old.status = 'FINALIZED' then
            raise exception 'settlement % is FINALIZED', old.id using errcode = '55000';
          end if;
          return case when tg_op = 'DELETE' then old else new end;
        end if;
        if exists (select 1 from public.settlements s
                   where s.id = case when tg_op = 'INSERT' then new.settlement_id else old.settlement_id end
                     and s.status = 'FINALIZED') then
          raise exception 'settlement is FINALIZED' using errcode = '55000';
        end if;
        return case when tg_op = 'DELETE' then old else new end;
      end $$`);
    await q.query(`create trigger settlements_immutable before update or delete on settlements
      for each row execute function allied_settlement_immutable()`);
    await q.query(`create trigger settlement_lines_immutable before insert or update or delete on settlement_lines
      for each row execute function allied_settlement_immutable()`);

    for (const table of ['settlements', 'settlement_lines']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
    }
    await q.query(`
      do $$ begin
        execute format('create policy settlement_lines_definer on settlement_lines for select to %I using (true)', current_user);
        execute format('create policy settlements_definer on settlements for select to %I using (true)', current_user);
      end $$`);
    // Settlements with a line for the current brand, whatever its membership now.
    await q.query(`
      create function allied_own_settlements() returns setof uuid
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$ begin
        return query select distinct settlement_id from public.settlement_lines where brand_id = public.allied_current_tenant();
      end $$`);
    // ... and their alliances, which such a brand keeps seeing by name.
    await q.query(`
      create function allied_settled_alliances() returns setof uuid
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$ begin
        return query select distinct alliance_id from public.settlement_lines where brand_id = public.allied_current_tenant();
      end $$`);
    for (const fn of ['allied_own_settlements()', 'allied_settled_alliances()']) {
      await q.query(`revoke all on function ${fn} from public`);
      await q.query(`grant execute on function ${fn} to allied_app`);
    }
    await q.query(`create policy alliances_settled_read on alliances for select to allied_app
      using (id in (select allied_settled_alliances()))`);

    for (const [table, idColumn] of [['settlements', 'id'], ['settlement_lines', 'settlement_id']]) {
      await q.query(`create policy ${table}_read on ${table} for select to allied_app
        using (alliance_id in (select allied_active_alliances()) or ${idColumn} in (select allied_own_settlements()))`);
      await q.query(`create policy ${table}_write on ${table} for all to allied_app
        using (alliance_id in (select allied_active_alliances()))
        with check (alliance_id in (select allied_active_alliances()))`);
    }
    await q.query(`grant select, insert, update on settlements to allied_app`);
    await q.query(`grant select, insert, delete on settlement_lines to allied_app`);

    // The period's revenue of an alliance in one currency, per agreement
    // version in force when each purchase occurred (a refund goes with its
    // purchase); rows without a version (agreement_id null) are the
    // unsettled ones. Several rows may come for one version: the caller sums
    // them. Versions never overlap: each ends where the next begins at the
    // latest. Purchases stored with the alliance (the bulk) are summed with one
    // range aggregate per version and per gap between versions; refunds and
    // click-attributed revenue (few) are matched to versions one by one.
    await q.query(`
      create function allied_settlement_figures(p_alliance uuid, p_currency text, p_from timestamptz, p_to timestamptz)
      returns table (agreement_id uuid, gross numeric, refunds numeric, clawbacks numeric, events bigint, earliest timestamptz, latest timestamptz)
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$
      declare
        ver record;
        v_covered timestamptz := p_from;
        v_lo timestamptz;
      begin
        if p_alliance not in (select public.allied_active_alliances()) then return; end if;
        for ver in
          select g.id, g.effective_from,
                 coalesce(least(g.effective_to, lead(g.effective_from) over (order by g.version)), 'infinity') as effective_to
          from public.agreements g
          where g.alliance_id = p_alliance and g.status in ('ACTIVE', 'SUPERSEDED')
          order by g.version
        loop
          v_lo := greatest(ver.effective_from, v_covered);
          if least(ver.effective_to, p_to) <= v_lo then continue; end if;
          if v_lo > v_covered then
            return query select null::uuid, coalesce(sum(e.amount_minor), 0)::numeric, 0::numeric, 0::numeric, count(*), min(e.occurred_at), max(e.occurred_at)
              from public.events e
              where e.alliance_id = p_alliance and e.type = 'PURCHASE' and e.currency = p_currency
                and e.occurred_at >= v_covered and e.occurred_at < least(v_lo, p_to);
          end if;
          return query select ver.id, coalesce(sum(e.amount_minor), 0)::numeric, 0::numeric, 0::numeric, count(*), min(e.occurred_at), max(e.occurred_at)
            from public.events e
            where e.alliance_id = p_alliance and e.type = 'PURCHASE' and e.currency = p_currency
              and e.occurred_at >= v_lo and e.occurred_at < least(ver.effective_to, p_to);
          v_covered := least(ver.effective_to, p_to);
          exit when v_covered >= p_to;
        end loop;
        if v_covered < p_to then
          return query select null::uuid, coalesce(sum(e.amount_minor), 0)::numeric, 0::numeric, 0::numeric, count(*), min(e.occurred_at), max(e.occurred_at)
            from public.events e
            where e.alliance_id = p_alliance and e.type = 'PURCHASE' and e.currency = p_currency
              and e.occurred_at >= v_covered and e.occurred_at < p_to;
        end if;

        return query
        with versions as (
          select g.id, g.effective_from,
                 least(g.effective_to, lead(g.effective_from) over (order by g.version)) as effective_to
          from public.agreements g
          where g.alliance_id = p_alliance and g.status in ('ACTIVE', 'SUPERSEDED')
        ),
        rest as (
          -- A refund's purchase is looked up by key: refunds are few, a join would hash every event.
          select e.type, e.amount_minor, e.occurred_at,
                 (select p.occurred_at from public.events p where p.tenant_id = e.tenant_id and p.id = e.refund_of) as purchase_at
          from public.events e
          where e.alliance_id = p_alliance and e.type = 'REFUND' and e.currency = p_currency
            and e.occurred_at >= p_from and e.occurred_at < p_to
          union all
          select a.type, a.amount_minor, a.occurred_at, a.purchase_at
          from public.allied_alliance_attributed_revenue(p_alliance, p_from, p_to) a
          where a.currency = p_currency
        )
        select v.id,
               coalesce(sum(r.amount_minor) filter (where r.type = 'PURCHASE'), 0),
               coalesce(sum(r.amount_minor) filter (where r.type = 'REFUND'), 0),
               coalesce(sum(r.amount_minor) filter (where r.type = 'REFUND' and r.purchase_at < p_from), 0),
               count(*), min(r.occurred_at), max(r.occurred_at)
        from rest r
        left join versions v on r.purchase_at >= v.effective_from and (v.effective_to is null or r.purchase_at < v.effective_to)
        group by v.id;
      end $$`);
    await q.query(`revoke all on function allied_settlement_figures(uuid, text, timestamptz, timestamptz) from public`);
    await q.query(`grant execute on function allied_settlement_figures(uuid, text, timestamptz, timestamptz) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_settlement_figures(uuid, text, timestamptz, timestamptz)`);
    await q.query(`drop policy alliances_settled_read on alliances`);
    await q.query(`drop table settlement_lines, settlements`);
    await q.query(`drop function allied_settled_alliances()`);
    await q.query(`drop function allied_own_settlements()`);
    await q.query(`drop function allied_settlement_immutable()`);
  }
}
