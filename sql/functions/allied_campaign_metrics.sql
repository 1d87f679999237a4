-- Everything Campaign.metrics shows, for the owner or an ACTIVE member of the campaign's alliance: counts of
-- the campaign's impressions and clicks, and the purchases attributed to it since it began (rules 1, 2 and 4,
-- from allied_attributed_revenue) with their refunds. Spans brands, hence SECURITY DEFINER with its own check.
create or replace function allied_campaign_metrics(p_campaign uuid) returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, public
as $$
declare
  v_tenant uuid := public.allied_current_tenant();
  v_result jsonb;
begin
  if v_tenant is null or not exists (
    select 1 from public.campaigns k where k.id = p_campaign
      and (k.tenant_id = v_tenant or k.alliance_id in (select public.allied_active_alliances()))
  ) then
    return null;
  end if;
  with revenue as (
    select r.type, r.amount_minor, r.currency
    from public.allied_attributed_revenue(null, null, p_campaign, '-infinity', 'infinity') r
  ),
  money as (
    select currency, sum(case when type = 'PURCHASE' then amount_minor else -amount_minor end) as net
    from revenue group by currency
  ),
  spend as (
    select currency, sum(amount_minor) as total from public.campaign_spend where campaign_id = p_campaign group by currency
  )
  select jsonb_build_object(
    'impressions', (select count(*) from public.events e where e.campaign_id = p_campaign and e.type = 'IMPRESSION'),
    'clicks', (select count(*) from public.events e where e.campaign_id = p_campaign and e.type in ('CLICK', 'EMAIL_CLICK')),
    'conversions', (select count(*) from revenue where type = 'PURCHASE'),
    'revenue', coalesce((select jsonb_object_agg(currency, net::text order by currency) from money), '{}'::jsonb),
    'spend', coalesce((select jsonb_object_agg(currency, total::text order by currency) from spend), '{}'::jsonb))
  into v_result;
  return v_result;
end $$;
