-- Journey.report: a journey's figures per group (treated, holdout), for its brand or an ACTIVE member of its
-- campaign's alliance. Aggregates only: counts of learners and messages, and what the group's learners bought
-- after entering, per currency; no learner, address or message leaves. Spans brands, hence SECURITY DEFINER.
create or replace function allied_journey_report(p_journey uuid)
returns table (holdout boolean, eligible int, sent int, delivered int, bounced int, suppressed int, opened int, clicked int,
               converted int, unsubscribed int, revenue jsonb)
language sql stable security definer set search_path = pg_catalog, public
as $$
  with j as (
    select j.tenant_id, j.id
    from public.journeys j
    join public.campaigns k on k.tenant_id = j.tenant_id and k.id = j.campaign_id
    where j.id = p_journey and public.allied_current_tenant() is not null
      and (j.tenant_id = public.allied_current_tenant() or k.alliance_id in (select public.allied_active_alliances()))
  ),
  e as (
    select x.tenant_id, x.learner_id, x.holdout, x.enrolled_at, x.exit_reason
    from public.journey_enrollments x join j on x.tenant_id = j.tenant_id and x.journey_id = j.id
  ),
  m as (
    select m.learner_id,
           count(*) filter (where m.state in ('SENT', 'BOUNCED')) as sent,
           count(*) filter (where m.state = 'SENT') as delivered,
           count(*) filter (where m.state = 'BOUNCED') as bounced,
           count(*) filter (where m.state = 'SUPPRESSED') as suppressed,
           bool_or(m.opened_at is not null) as opened,
           bool_or(m.clicked_at is not null) as clicked,
           bool_or(m.unsubscribed_at is not null) as unsubscribed
    from public.email_messages m join j on m.tenant_id = j.tenant_id and m.journey_id = j.id
    group by m.learner_id
  ),
  p as (
    select e.learner_id, e.holdout, p.currency::text as currency, sum(p.amount_minor) as amount
    from e join public.events p on p.tenant_id = e.tenant_id and p.learner_id = e.learner_id and p.type = 'PURCHASE'
      and p.occurred_at >= e.enrolled_at
    group by 1, 2, 3
  )
  -- Both groups, always, for a journey the caller may see (zeros before anyone enters); none for any other.
  select g.holdout,
         count(e.learner_id)::int,
         coalesce(sum(m.sent), 0)::int,
         coalesce(sum(m.delivered), 0)::int,
         coalesce(sum(m.bounced), 0)::int,
         coalesce(sum(m.suppressed), 0)::int,
         (count(*) filter (where m.opened))::int,
         (count(*) filter (where m.clicked))::int,
         (count(*) filter (where exists (select 1 from p where p.learner_id = e.learner_id)))::int,
         (count(*) filter (where m.unsubscribed or e.exit_reason = 'UNSUBSCRIBED'))::int,
         (select jsonb_object_agg(r.currency, r.amount::text)
          from (select p.currency, sum(p.amount) as amount from p where p.holdout = g.holdout group by p.currency) r)
  from j cross join (values (false), (true)) as g(holdout)
  left join e on e.holdout = g.holdout
  left join m on m.learner_id = e.learner_id
  group by g.holdout
$$;
