-- Impressions and clicks of each creative of a campaign, over every brand's events, for the owner or an
-- ACTIVE member of the campaign's alliance: the observed click rates a CTR prior is smoothed from. Counts
-- only, never a learner. Spans brands, hence SECURITY DEFINER with its own check.
create or replace function allied_creative_counts(p_campaign uuid)
returns table (creative_id uuid, impressions bigint, clicks bigint)
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
  return query
    select e.creative_id, count(*) filter (where e.type = 'IMPRESSION'), count(*) filter (where e.type = 'CLICK')
    from public.events e
    where e.campaign_id = p_campaign and e.type in ('IMPRESSION', 'CLICK') and e.creative_id is not null
    group by e.creative_id;
end $$;
