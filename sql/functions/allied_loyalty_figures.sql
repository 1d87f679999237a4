-- A loyalty programme's figures per member brand, for the alliance's ACTIVE members: of the points each brand
-- issued (EARN, and ADJUST that adds), how many were redeemed (anywhere), expired (written off, or past expiry
-- and not yet), reversed (taken back by refunds and adjustments) and are outstanding (unexpired and unspent:
-- the brand's liability), so that issued = redeemed + expired + reversed + outstanding; and how many
-- memberships the brand has linked learners to. Aggregates only. Spans brands, hence SECURITY DEFINER.
create or replace function allied_loyalty_figures(p_alliance uuid)
returns table (brand_id uuid, issued bigint, redeemed bigint, expired bigint, reversed bigint, outstanding bigint, members bigint)
language sql stable security definer set search_path = pg_catalog, public
as $$
  with lots as (
    select lot.brand_id, lot.id, lot.points, lot.expires_at
    from public.loyalty_ledger lot
    where lot.alliance_id = p_alliance and lot.points > 0 and p_alliance in (select public.allied_active_alliances())
  ),
  used as (
    select lots.id, sum(a.points) filter (where e.kind = 'REDEEM') as redeemed,
           sum(a.points) filter (where e.kind = 'EXPIRE') as expired,
           sum(a.points) filter (where e.kind in ('REVERSE', 'ADJUST')) as reversed
    from lots join public.loyalty_allocations a on a.lot_id = lots.id join public.loyalty_ledger e on e.id = a.entry_id
    group by lots.id
  ),
  per_lot as (
    select lots.brand_id, lots.points, coalesce(u.redeemed, 0) as redeemed, coalesce(u.reversed, 0) as reversed,
           coalesce(u.expired, 0) as expired_recorded,
           lots.points - coalesce(u.redeemed, 0) - coalesce(u.expired, 0) - coalesce(u.reversed, 0) as remaining,
           lots.expires_at <= now() as past
    from lots left join used u on u.id = lots.id
  ),
  brands as (
    select m.brand_id from public.alliance_members m where m.alliance_id = p_alliance and m.status = 'ACTIVE'
      and p_alliance in (select public.allied_active_alliances())
  )
  select b.brand_id,
         coalesce(sum(p.points), 0)::bigint,
         coalesce(sum(p.redeemed), 0)::bigint,
         coalesce(sum(p.expired_recorded + case when p.past then p.remaining else 0 end), 0)::bigint,
         coalesce(sum(p.reversed), 0)::bigint,
         coalesce(sum(case when p.past then 0 else p.remaining end), 0)::bigint,
         (select count(*) from public.loyalty_links k where k.alliance_id = p_alliance and k.tenant_id = b.brand_id)::bigint
  from brands b left join per_lot p on p.brand_id = b.brand_id
  group by b.brand_id
  order by b.brand_id
$$;
