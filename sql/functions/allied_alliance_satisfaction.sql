-- The ratings behind the alliance's satisfaction model, per bucket of [p_from, p_to) (hour, day or week, UTC):
-- for each ACTIVE member (brand_id), its own learners' ratings of its own offer (events stored with no alliance:
-- not a joint course or campaign of any alliance), and with brand_id null the ratings on the alliance's joint
-- courses and campaigns (X_AB). Counts, sums and sums of squares only, for an ACTIVE member of the alliance; nothing otherwise.
create or replace function allied_alliance_satisfaction(p_alliance uuid, p_from timestamptz, p_to timestamptz, p_bucket text)
returns table (bucket_start timestamptz, brand_id uuid, ratings bigint, rating_sum bigint, rating_squares bigint)
language plpgsql stable security definer set search_path = pg_catalog, public
as $$
begin
  if public.allied_current_tenant() is null or p_alliance is null
     or p_alliance not in (select public.allied_active_alliances()) then
    return;
  end if;
  if p_bucket not in ('hour', 'day', 'week') then
    raise exception 'unknown bucket %', p_bucket using errcode = '22023';
  end if;
  return query
  select date_trunc(p_bucket, e.occurred_at, 'UTC'), e.tenant_id, count(*), sum(e.rating)::bigint, sum(e.rating * e.rating)::bigint
  from public.alliance_members m
  join public.events e on e.tenant_id = m.brand_id and e.type = 'RATING' and e.alliance_id is null
   and e.occurred_at >= p_from and e.occurred_at < p_to
  where m.alliance_id = p_alliance and m.status = 'ACTIVE'
  group by 1, 2
  union all
  select date_trunc(p_bucket, e.occurred_at, 'UTC'), null::uuid, count(*), sum(e.rating)::bigint, sum(e.rating * e.rating)::bigint
  from public.events e
  where e.alliance_id = p_alliance and e.type = 'RATING' and e.occurred_at >= p_from and e.occurred_at < p_to
  group by 1
  order by 1, 2 nulls first;
end $$;
