-- For the after-store hook that records experiment arms: the campaign each of the caller's own purchases
-- (learner and time, by position ord from 1) is attributed to by its learner's last click (rule 2 of the
-- attribution rule, allied_last_click), null when no click covers it. Reads only the caller's own events and
-- returns campaign ids only; SECURITY DEFINER because allied_last_click is not granted to the application.
create or replace function allied_experiment_last_clicks(p_learners uuid[], p_at timestamptz[])
returns table (ord int, campaign_id uuid)
language sql stable security definer set search_path = pg_catalog, public
as $$
  select u.ord::int, public.allied_last_click(t.tenant, u.learner, u.at)
  from (select public.allied_current_tenant() as tenant) t
  cross join unnest(p_learners, p_at) with ordinality as u(learner, at, ord)
  where t.tenant is not null
$$;
