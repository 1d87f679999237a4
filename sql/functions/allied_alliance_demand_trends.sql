-- Learners voicing each demand across the ACTIVE member brands of an alliance in [p_from, p_to), for a
-- caller that is itself an ACTIVE member: counts per type and value only, never a learner, a text or
-- which member they came from; demands only (no PERSON, ORG or LOC), and only those at least two
-- learners voiced, so that no single learner's words reach another brand. Spans brands, hence
-- SECURITY DEFINER with its own check.
create or replace function allied_alliance_demand_trends(p_alliance uuid, p_from timestamptz, p_to timestamptz)
returns table (type text, value text, learners bigint)
language sql stable security definer set search_path = pg_catalog, public
as $$
  select d.type, d.value, count(distinct (d.tenant_id, d.learner_id))
  from public.learner_demands d
  join public.alliance_members m on m.brand_id = d.tenant_id and m.alliance_id = p_alliance and m.status = 'ACTIVE'
  where p_alliance in (select public.allied_active_alliances())
    and d.voiced_at >= p_from and d.voiced_at < p_to
    and d.type in ('TOPIC', 'LEVEL', 'FORMAT', 'TIME', 'BUDGET')
  group by d.type, d.value
  having count(distinct (d.tenant_id, d.learner_id)) >= 2
$$;
