-- The promotion funnel of one scope over [p_from, p_to): the caller's brand, an alliance it is an ACTIVE member of
-- (its joint courses and campaigns, as metrics), or one campaign it owns or shares through such an alliance (within
-- p_alliance when both are given). Counts of distinct learners, as src/services/impact.service.ts describes them:
--   reach      an IMPRESSION in the period;
--   acquired   an event in the period and none in the scope before it (first seen in the period);
--   activated  acquired, and enrolled or purchased in the period (a purchase enrols);
--   converted  acquired, and purchased in the period;
--   retained   acquired, and purchased at least twice in the period;
-- with the period's ratings and their sum (satisfaction), and the market size set for the scope (null when none).
-- Purchases are the scope's by the attribution rules (allied_attributed_revenue). Aggregates only, never a learner;
-- null for a scope the caller may not see.
create or replace function allied_funnel(p_alliance uuid, p_campaign uuid, p_from timestamptz, p_to timestamptz) returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, public
as $$
declare
  v_tenant uuid := public.allied_current_tenant();
  v_market bigint;
  v_result jsonb;
begin
  if v_tenant is null then return null; end if;
  if p_alliance is not null and p_alliance not in (select public.allied_active_alliances()) then return null; end if;
  if p_campaign is not null then
    select k.target_market_size into v_market from public.campaigns k
    where k.id = p_campaign
      and (case when p_alliance is not null then k.alliance_id = p_alliance
                else k.tenant_id = v_tenant or k.alliance_id in (select public.allied_active_alliances()) end);
    if not found then return null; end if;
  elsif p_alliance is null then
    select b.target_market_size into v_market from public.brands b where b.id = v_tenant;
  end if;
  with scoped as (
    select e.tenant_id, e.learner_id, e.type, e.rating
    from public.events e
    where e.occurred_at >= p_from and e.occurred_at < p_to and e.type not in ('PURCHASE', 'REFUND')
      and (case when p_campaign is not null then e.campaign_id = p_campaign
                when p_alliance is not null then e.alliance_id = p_alliance
                else e.tenant_id = v_tenant end)
    union all
    select r.tenant_id, r.learner_id, r.type, null::smallint
    from public.allied_attributed_revenue(case when p_campaign is null and p_alliance is null then v_tenant end,
                                          case when p_campaign is null then p_alliance end, p_campaign, p_from, p_to) r
    where r.type = 'PURCHASE'
  ),
  people as (
    select s.tenant_id, s.learner_id,
           bool_or(s.type = 'IMPRESSION') as reached,
           bool_or(s.type = 'ENROLL') as enrolled,
           count(*) filter (where s.type = 'PURCHASE') as purchases,
           count(*) filter (where s.type = 'RATING') as ratings,
           coalesce(sum(s.rating), 0) as rating_sum
    from scoped s
    group by s.tenant_id, s.learner_id
  ),
  -- Materialized: each learner's first-seen test runs once, not once per count that reads it.
  flagged as materialized (
    select p.*, not exists (
      select 1 from public.events x
      where x.tenant_id = p.tenant_id and x.learner_id = p.learner_id and x.occurred_at < p_from
        and (case when p_campaign is not null then x.campaign_id = p_campaign
                  when p_alliance is not null then x.alliance_id = p_alliance
                  else true end)) as acquired
    from people p
  )
  select jsonb_build_object(
    'reach', count(*) filter (where f.reached),
    'acquired', count(*) filter (where f.acquired),
    'activated', count(*) filter (where f.acquired and (f.enrolled or f.purchases > 0)),
    'converted', count(*) filter (where f.acquired and f.purchases > 0),
    'retained', count(*) filter (where f.acquired and f.purchases > 1),
    'ratings', coalesce(sum(f.ratings), 0),
    'ratingSum', coalesce(sum(f.rating_sum), 0),
    'marketSize', v_market)
  into v_result
  from flagged f;
  return v_result;
end $$;
