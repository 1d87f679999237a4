-- The promotion funnel of one scope over two periods of equal length, [p_before, p_from) and [p_from, p_to), in
-- one reading of their events: the caller's brand, an alliance it is an ACTIVE member of (its joint courses and
-- campaigns, as metrics), or one campaign it owns or shares through such an alliance (within p_alliance when both
-- are given). Per period, counts of distinct learners, as src/services/impact.service.ts describes them:
--   reach      an IMPRESSION in the period;
--   acquired   an event in the period and none in the scope before it (first seen in the period);
--   activated  acquired, and enrolled or purchased in the period (a purchase enrols);
--   converted  acquired, and purchased in the period;
--   retained   acquired, and purchased at least twice in the period;
-- with the period's ratings and their sum (satisfaction), and the market size set for the scope (null when none).
-- Purchases are the scope's by the attribution rules (allied_attributed_revenue). Aggregates only, never a learner;
-- null for a scope the caller may not see. Returns { "previous": counts, "current": counts }.
--
-- "None before": for the brand, every event of the learner is the brand's, so its first-seen time on learners
-- (kept with the events) says it. For an alliance or a campaign, the learner's events in the scope before p_before
-- are searched once, and its events in the scope in the earlier period (of any type, refunds included) are read
-- in the same pass as the counts.
create or replace function allied_funnel(p_alliance uuid, p_campaign uuid, p_before timestamptz, p_from timestamptz, p_to timestamptz)
returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, public set work_mem = '64MB' set jit = off
as $$
declare
  v_tenant uuid := public.allied_current_tenant();
  v_brand boolean := p_alliance is null and p_campaign is null;
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
  elsif v_brand then
    select b.target_market_size into v_market from public.brands b where b.id = v_tenant;
  end if;
  with scoped as (
    -- counted: the row enters the period's counts; seen: an event of the scope (what "none before" looks for).
    select e.tenant_id, e.learner_id, e.type, e.rating, e.occurred_at >= p_from as current,
           e.type not in ('PURCHASE', 'REFUND') as counted, true as seen
    from public.events e
    where e.occurred_at >= p_before and e.occurred_at < p_to
      and (e.type not in ('PURCHASE', 'REFUND') or (not v_brand and e.occurred_at < p_from))
      and (case when p_campaign is not null then e.campaign_id = p_campaign
                when p_alliance is not null then e.alliance_id = p_alliance
                else e.tenant_id = v_tenant end)
    union all
    select r.tenant_id, r.learner_id, r.type, null::smallint, r.occurred_at >= p_from, true, false
    from public.allied_attributed_revenue(case when v_brand then v_tenant end,
                                          case when p_campaign is null then p_alliance end, p_campaign, p_before, p_to) r
    where r.type = 'PURCHASE'
  ),
  people as (
    select s.tenant_id, s.learner_id,
           count(*) filter (where s.counted and not s.current) > 0 as in_previous,
           count(*) filter (where s.counted and s.current) > 0 as in_current,
           bool_or(s.seen and not s.current) as seen_previous,
           bool_or(s.type = 'IMPRESSION' and not s.current) as reached_p,
           bool_or(s.type = 'IMPRESSION' and s.current) as reached_c,
           bool_or(s.type = 'ENROLL' and not s.current) as enrolled_p,
           bool_or(s.type = 'ENROLL' and s.current) as enrolled_c,
           count(*) filter (where s.type = 'PURCHASE' and s.counted and not s.current) as purchases_p,
           count(*) filter (where s.type = 'PURCHASE' and s.counted and s.current) as purchases_c,
           count(*) filter (where s.type = 'RATING' and not s.current) as ratings_p,
           count(*) filter (where s.type = 'RATING' and s.current) as ratings_c,
           coalesce(sum(s.rating) filter (where not s.current), 0) as rating_sum_p,
           coalesce(sum(s.rating) filter (where s.current), 0) as rating_sum_c
    from scoped s
    group by s.tenant_id, s.learner_id
  ),
  -- For an alliance or a campaign, none_before: nothing of the scope before p_before. Materialized: each
  -- learner's search runs once.
  flagged as materialized (
    select p.*, l.first_seen_at,
           case when not v_brand then not exists (
             select 1 from public.events x
             where x.tenant_id = p.tenant_id and x.learner_id = p.learner_id and x.occurred_at < p_before
               and (case when p_campaign is not null then x.campaign_id = p_campaign else x.alliance_id = p_alliance end)) end
             as none_before
    from people p
    left join public.learners l on v_brand and l.tenant_id = p.tenant_id and l.id = p.learner_id
  ),
  periods as (
    select f.*,
           f.in_previous and (case when v_brand then coalesce(f.first_seen_at >= p_before, true) else f.none_before end) as acquired_p,
           f.in_current and (case when v_brand then coalesce(f.first_seen_at >= p_from, true)
                                  else f.none_before and not coalesce(f.seen_previous, false) end) as acquired_c
    from flagged f
  )
  -- One row per learner and period (both periods listed, so an empty one still has its zeros).
  select jsonb_object_agg(t.period, t.counts) into v_result
  from (
    select k.period, jsonb_build_object(
      'reach', count(*) filter (where v.reached),
      'acquired', count(*) filter (where v.acquired),
      'activated', count(*) filter (where v.acquired and (v.enrolled or v.purchases > 0)),
      'converted', count(*) filter (where v.acquired and v.purchases > 0),
      'retained', count(*) filter (where v.acquired and v.purchases > 1),
      'ratings', coalesce(sum(v.ratings), 0),
      'ratingSum', coalesce(sum(v.rating_sum), 0),
      'marketSize', v_market) as counts
    from (values ('previous'), ('current')) as k(period)
    left join (periods p cross join lateral (values
        ('previous', p.reached_p, p.acquired_p, p.enrolled_p, p.purchases_p, p.ratings_p, p.rating_sum_p),
        ('current', p.reached_c, p.acquired_c, p.enrolled_c, p.purchases_c, p.ratings_c, p.rating_sum_c))
      as v(period, reached, acquired, enrolled, purchases, ratings, rating_sum)) on v.period = k.period
    group by k.period
  ) t;
  return v_result;
end $$;
