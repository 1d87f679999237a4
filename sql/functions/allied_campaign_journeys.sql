-- The journeys of a campaign, for its brand or, on a joint campaign, for an ACTIVE member of its alliance:
-- what a partner needs to read each one's aggregate report (allied_journey_report) and nothing else (no
-- trigger, steps or templates: those are the owning brand's). Spans brands, hence SECURITY DEFINER.
create or replace function allied_campaign_journeys(p_campaign uuid)
returns table (id uuid, name text, status text, created_at timestamptz)
language sql stable security definer set search_path = pg_catalog, public
as $$
  select j.id, j.name, j.status, j.created_at
  from public.campaigns k
  join public.journeys j on j.tenant_id = k.tenant_id and j.campaign_id = k.id
  where k.id = p_campaign and public.allied_current_tenant() is not null
    and (k.tenant_id = public.allied_current_tenant() or k.alliance_id in (select public.allied_active_alliances()))
  order by j.created_at, j.id
  limit 100
$$;
