-- A campaign's figures per bucket (hour, day or week, UTC) since it began, for budget suggestions: its
-- impressions and clicks, the purchases attributed to it (allied_attributed_revenue, rules 1, 2 and 4) with
-- their revenue net of refunds, and its spend, per currency. For the owner or an ACTIVE member of the
-- campaign's alliance (as allied_campaign_metrics); nothing otherwise. Aggregates only.
create or replace function allied_campaign_history(p_campaign uuid, p_bucket text)
returns table (bucket_start timestamptz, impressions bigint, clicks bigint, conversions bigint, revenue jsonb, spend jsonb)
language plpgsql stable security definer set search_path = pg_catalog, public
as $$
declare
  v_tenant uuid := public.allied_current_tenant();
begin
  if v_tenant is null or not exists (
    select 1 from public.campaigns k where k.id = p_campaign
      and (k.tenant_id = v_tenant or k.alliance_id in (select public.allied_active_alliances()))
  ) then
    return;
  end if;
  if p_bucket not in ('hour', 'day', 'week') then
    raise exception 'unknown bucket %', p_bucket using errcode = '22023';
  end if;
  return query
  with counts as (
    select date_trunc(p_bucket, e.occurred_at, 'UTC') as b,
           count(*) filter (where e.type = 'IMPRESSION') as impressions,
           count(*) filter (where e.type in ('CLICK', 'EMAIL_CLICK')) as clicks
    from public.events e where e.campaign_id = p_campaign and e.type in ('IMPRESSION', 'CLICK', 'EMAIL_CLICK')
    group by 1
  ),
  revenue as (
    select date_trunc(p_bucket, r.occurred_at, 'UTC') as b, r.currency,
           count(*) filter (where r.type = 'PURCHASE') as conversions,
           sum(case when r.type = 'PURCHASE' then r.amount_minor else -r.amount_minor end) as net
    from public.allied_attributed_revenue(null, null, p_campaign, '-infinity', 'infinity') r
    group by 1, 2
  ),
  spent as (
    select date_trunc(p_bucket, s.occurred_at, 'UTC') as b, s.currency::text as currency, sum(s.amount_minor) as total
    from public.campaign_spend s where s.campaign_id = p_campaign
    group by 1, 2
  ),
  buckets as (select b from counts union select b from revenue union select b from spent)
  select k.b,
         coalesce(c.impressions, 0)::bigint,
         coalesce(c.clicks, 0)::bigint,
         coalesce((select sum(r.conversions) from revenue r where r.b = k.b), 0)::bigint,
         coalesce((select jsonb_object_agg(r.currency, r.net::text order by r.currency) from revenue r where r.b = k.b), '{}'::jsonb),
         coalesce((select jsonb_object_agg(s.currency, s.total::text order by s.currency) from spent s where s.b = k.b), '{}'::jsonb)
  from buckets k left join counts c on c.b = k.b
  order by k.b;
end $$;
