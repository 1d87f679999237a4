-- Figures over events, per time bucket, for the current brand or for an alliance it is an ACTIVE member of.
-- Alliance figures span members' events, which RLS hides from each other, so this is a SECURITY DEFINER
-- function: it checks membership itself and returns aggregates only, never a learner. Purchases and refunds,
-- and whether a purchase converted (is attributed to a campaign), come from allied_attributed_revenue.
create or replace function allied_event_metrics(p_alliance uuid, p_from timestamptz, p_to timestamptz, p_bucket text)
returns table (bucket_start timestamptz, figures jsonb)
language plpgsql stable security definer set search_path = pg_catalog, public
as $$
declare
  v_tenant uuid := public.allied_current_tenant();
begin
  if v_tenant is null then return; end if;
  if p_alliance is not null and p_alliance not in (select public.allied_active_alliances()) then return; end if;
  if p_bucket is not null and p_bucket not in ('hour', 'day', 'week') then
    raise exception 'unknown bucket %', p_bucket using errcode = '22023';
  end if;
  return query
  with scoped as (
    select e.tenant_id, e.type, e.learner_id, e.occurred_at, null::uuid as campaign_id, null::bigint as amount_minor,
           null::text as currency, e.rating
    from public.events e
    where e.occurred_at >= p_from and e.occurred_at < p_to and e.type not in ('PURCHASE', 'REFUND')
      and (case when p_alliance is null then e.tenant_id = v_tenant else e.alliance_id = p_alliance end)
    union all
    select r.tenant_id, r.type, r.learner_id, r.occurred_at, r.campaign_id, r.amount_minor, r.currency, null::smallint
    from public.allied_attributed_revenue(case when p_alliance is null then v_tenant end, p_alliance, null, p_from, p_to) r
  ),
  bucketed as (
    select s.*, case when p_bucket is null then p_from else date_trunc(p_bucket, s.occurred_at, 'UTC') end as bucket
    from scoped s
  ),
  counts as (
    select b.bucket,
      count(*) filter (where b.type = 'PURCHASE') as purchases,
      count(*) filter (where b.type = 'REFUND') as refunds,
      count(*) filter (where b.type = 'IMPRESSION') as impressions,
      count(*) filter (where b.type = 'CLICK') as clicks,
      count(*) filter (where b.type = 'RATING') as ratings,
      coalesce(sum(b.rating), 0) as rating_sum,
      count(distinct (b.tenant_id, b.learner_id)) as learners,
      count(*) filter (where b.type = 'PURCHASE' and b.campaign_id is not null) as conversions
    from bucketed b
    group by b.bucket
  ),
  -- Net revenue per bucket and currency, joined to the counts by bucket (a subquery per bucket would read
  -- every bucketed row once per bucket: seconds for a series of 2,000 hours).
  money as (
    select n.bucket, jsonb_object_agg(n.currency, n.net::text order by n.currency) as revenue
    from (select b.bucket, b.currency, sum(case when b.type = 'PURCHASE' then b.amount_minor else -b.amount_minor end) as net
          from bucketed b where b.type in ('PURCHASE', 'REFUND')
          group by b.bucket, b.currency) n
    group by n.bucket
  )
  select c.bucket,
    jsonb_build_object(
      'purchases', c.purchases, 'refunds', c.refunds, 'impressions', c.impressions, 'clicks', c.clicks,
      'ratings', c.ratings, 'ratingSum', c.rating_sum, 'learners', c.learners, 'conversions', c.conversions,
      'revenue', coalesce(m.revenue, '{}'::jsonb))
  from counts c left join money m on m.bucket = c.bucket
  order by c.bucket;
end $$;
