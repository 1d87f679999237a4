-- Loyalty in an alliance's settlement: for the period's redemptions in one currency, the points each brand
-- issued that another brand redeemed, and the discount they were worth (each spent lot's share of its
-- redemption's value: the value is points × the programme's value per point, so every share is exact).
-- Points issued and redeemed at the same brand owe no one anything and are left out. For an ACTIVE member
-- of the alliance only; aggregates per pair of brands, nothing about memberships. Spans brands, hence
-- SECURITY DEFINER.
create or replace function allied_loyalty_settlement_figures(p_alliance uuid, p_currency text, p_from timestamptz, p_to timestamptz)
returns table (issuer uuid, redeemer uuid, points bigint, value_minor numeric)
language sql stable security definer set search_path = pg_catalog, public
as $$
  select lot.brand_id, r.brand_id, sum(a.points)::bigint, sum(a.points * (r.value_minor / -r.points))::numeric
  from public.loyalty_ledger r
  join public.loyalty_allocations a on a.entry_id = r.id
  join public.loyalty_ledger lot on lot.id = a.lot_id
  where r.alliance_id = p_alliance and r.kind = 'REDEEM' and r.currency = p_currency
    and r.occurred_at >= p_from and r.occurred_at < p_to
    and lot.brand_id <> r.brand_id
    and p_alliance in (select public.allied_active_alliances())
  group by lot.brand_id, r.brand_id
$$;
