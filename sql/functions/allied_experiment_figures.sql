-- Each arm's figures of the experiments the caller may read (its own, or a joint campaign's experiment of an
-- alliance it is an ACTIVE member of): distinct learners exposed, of them those who clicked and those who
-- purchased, and their purchases per currency (an array of Money objects, by currency). A learner is exposed by
-- any event the experiment affected for a MODEL experiment, by an IMPRESSION for a CREATIVE one; only events
-- inside the experiment's run count.
-- Learners are counted per brand (a member's learners are its own), and only aggregates leave: the events of
-- other members of a joint campaign are read here, never returned. Spans brands, hence SECURITY DEFINER with
-- its own check.
create or replace function allied_experiment_figures(p_experiments uuid[])
returns table (experiment_id uuid, arm int, exposures bigint, clicks bigint, conversions bigint, revenue jsonb)
language sql stable security definer set search_path = pg_catalog, public
as $$
  with x as (
    select k.id, k.tenant_id, k.alliance_id, k.kind, k.started_at, k.ended_at
    from public.experiments k
    where k.id = any(p_experiments)
      and (k.tenant_id = public.allied_current_tenant() or k.alliance_id in (select public.allied_active_alliances()))
  ),
  affected as (
    select x.id as experiment, s.arm, s.tenant_id as tenant, e.learner_id as learner, e.type, e.amount_minor, e.currency, x.kind
    from x
    join public.experiment_assignments s on s.experiment_id = x.id
    join public.events e on e.tenant_id = s.tenant_id and e.id = s.event_id
    -- The owner's events, and for a joint campaign its alliance members' (never another brand's).
    where (s.tenant_id = x.tenant_id
           or s.tenant_id in (select m.brand_id from public.alliance_members m where m.alliance_id = x.alliance_id))
      and e.occurred_at >= x.started_at and (x.ended_at is null or e.occurred_at < x.ended_at)
  ),
  learners as (
    select a.experiment, a.arm, a.tenant, a.learner,
           bool_or(a.kind = 'MODEL' or a.type = 'IMPRESSION') as exposed,
           bool_or(a.type = 'CLICK') as clicked,
           bool_or(a.type = 'PURCHASE') as purchased
    from affected a
    group by a.experiment, a.arm, a.tenant, a.learner
  ),
  money as (
    select a.experiment, a.arm, a.currency, sum(a.amount_minor) as total
    from affected a
    join learners l on l.experiment = a.experiment and l.arm = a.arm and l.tenant = a.tenant and l.learner = a.learner
    where l.exposed and a.type = 'PURCHASE'
    group by a.experiment, a.arm, a.currency
  )
  select l.experiment, l.arm::int, count(*), count(*) filter (where l.clicked), count(*) filter (where l.purchased),
         coalesce((select jsonb_agg(jsonb_build_object('amountMinor', m.total, 'currency', m.currency::text) order by m.currency)
                   from money m where m.experiment = l.experiment and m.arm = l.arm), '[]'::jsonb)
  from learners l
  where l.exposed
  group by l.experiment, l.arm
$$;
