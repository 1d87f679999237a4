-- A learner's lifecycle stage now, from what its events left on its row and its brand's thresholds
-- (src/services/lifecycle.service.ts): LAPSED when nothing was recorded for p_lapsed_days days;
-- otherwise PROSPECT when it never bought; NEW when its first purchase is under p_new_days days old;
-- ACTIVE when it bought before that and is still seen.
create or replace function allied_lifecycle_stage(p_purchases integer, p_first_purchase timestamptz, p_last_seen timestamptz,
                                                  p_new_days integer, p_lapsed_days integer)
returns text language sql stable
as $$
  select case
    when p_last_seen is null or p_last_seen < now() - make_interval(days => p_lapsed_days) then 'LAPSED'
    when p_purchases = 0 then 'PROSPECT'
    when p_first_purchase >= now() - make_interval(days => p_new_days) then 'NEW'
    else 'ACTIVE'
  end
$$;
