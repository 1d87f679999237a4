-- Erases one learner of the current brand (forgetLearner): its contact, the messages the outbox kept for it,
-- the words of its feedback and the demands and corrections read from them; its external id becomes an
-- opaque one, so nothing left points back at the person. Events stay (as facts without text), so revenue,
-- settlements, metrics and journey reports keep their anonymous counts. Events are insert-only for the
-- application role, hence SECURITY DEFINER; every statement is limited to the current tenant.
create or replace function allied_forget_learner(p_learner uuid) returns void
language sql security definer set search_path = pg_catalog, public
as $$
  -- The learner's row first, and FOR UPDATE, the lock the last statement needs to change its key: taken later,
  -- it would wait for transactions holding a key-share on the row (an event's foreign key) while holding the
  -- row, and those wait for the row to update the learner's figures (a deadlock). Held from the start, it waits
  -- for them holding nothing, and the jobs that rewrite the learner's demands and figures wait for it.
  select 1 from public.learners where tenant_id = public.allied_current_tenant() and id = p_learner for update;
  delete from public.learner_contacts where tenant_id = public.allied_current_tenant() and learner_id = p_learner;
  delete from public.email_outbox o using public.email_messages m
    where o.tenant_id = public.allied_current_tenant() and m.tenant_id = o.tenant_id and m.id = o.message_id and m.learner_id = p_learner;
  update public.journey_enrollments set state = 'EXITED', exit_reason = 'FORGOTTEN', next_at = null, updated_at = now()
    where tenant_id = public.allied_current_tenant() and learner_id = p_learner and state = 'ACTIVE';
  delete from public.demand_corrections c using public.events e
    where c.tenant_id = public.allied_current_tenant() and e.tenant_id = c.tenant_id and e.id = c.event_id and e.learner_id = p_learner;
  delete from public.learner_demands where tenant_id = public.allied_current_tenant() and learner_id = p_learner;
  update public.events set text = '' where tenant_id = public.allied_current_tenant() and learner_id = p_learner and type = 'FEEDBACK';
  update public.learners set external_id = 'forgotten:' || gen_random_uuid()::text, segment = null
    where tenant_id = public.allied_current_tenant() and id = p_learner;
$$;
