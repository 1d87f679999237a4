-- The period's revenue of an alliance in one currency (allied_attributed_revenue: its purchases and refunds
-- that occurred in [p_from, p_to)), per agreement version in force when each purchase occurred (a refund goes
-- with its purchase); rows without a version (agreement_id null) are the unsettled ones. The caller sums the
-- rows of a version. Clawbacks are refunds of purchases made before p_from. Sorts are off (migration
-- SettlementHash1765800000000): the planner expects far fewer rows than a busy alliance has and would sort
-- them all by version, spilling to disk, where hashing the few versions needs kilobytes.
create or replace function allied_settlement_figures(p_alliance uuid, p_currency text, p_from timestamptz, p_to timestamptz)
returns table (agreement_id uuid, gross numeric, refunds numeric, clawbacks numeric, events bigint, earliest timestamptz, latest timestamptz)
language plpgsql stable security definer set search_path = pg_catalog, public set enable_sort = off
as $$
begin
  if p_alliance not in (select public.allied_active_alliances()) then return; end if;
  return query
  with ranked as (
    select g.id, g.version, g.effective_from,
           coalesce(least(g.effective_to, lead(g.effective_from) over (order by g.version)), 'infinity') as effective_to
    from public.agreements g
    where g.alliance_id = p_alliance and g.status in ('ACTIVE', 'SUPERSEDED')
  ),
  -- A version's interval: it ends where the next begins at the latest, and starts no earlier than every
  -- earlier version ended, so intervals never overlap and an event meets one version at most.
  versions as (
    select r.id, r.effective_to as hi,
           greatest(r.effective_from, coalesce(max(r.effective_to) over (order by r.version rows between unbounded preceding and 1 preceding),
                                               '-infinity')) as lo
    from ranked r
  )
  select v.id,
         coalesce(sum(a.amount_minor) filter (where a.type = 'PURCHASE'), 0)::numeric,
         coalesce(sum(a.amount_minor) filter (where a.type = 'REFUND'), 0)::numeric,
         coalesce(sum(a.amount_minor) filter (where a.type = 'REFUND' and a.purchase_at < p_from), 0)::numeric,
         count(*), min(a.occurred_at), max(a.occurred_at)
  from public.allied_attributed_revenue(null, p_alliance, null, p_from, p_to) a
  left join versions v on a.purchase_at >= v.lo and a.purchase_at < v.hi
  where a.currency = p_currency
  group by v.id;
end $$;
