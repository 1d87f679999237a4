create or replace function allied_last_click(p_tenant uuid, p_learner uuid, p_at timestamptz) returns uuid
language sql stable parallel safe
as $$
  select c.campaign_id
  from public.events c
  join public.campaigns k on k.tenant_id = c.campaign_tenant_id and k.id = c.campaign_id
  where c.tenant_id = p_tenant and c.type in ('CLICK', 'EMAIL_CLICK') and c.learner_id = p_learner
    and c.occurred_at <= p_at and c.occurred_at > p_at - interval '90 days'
    and c.occurred_at > p_at - make_interval(days => k.attribution_window_days)
    and c.campaign_id is not null
  order by c.occurred_at desc, c.idempotency_key desc
  limit 1
$$;
