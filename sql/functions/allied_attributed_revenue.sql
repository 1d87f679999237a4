-- Attribution, defined once (rules 1-4 of migrations/1764300000000-attribution.ts and the README):
-- the revenue events of one scope that occurred in [p_from, p_to), each with the time of the purchase it
-- concerns (a refund goes with its purchase) and the campaign that purchase is attributed to, or null.
-- Exactly one scope is given:
--   p_tenant    every purchase and refund of the brand;
--   p_alliance  the purchases that belong to the alliance (stored with it; or, stored with none and naming no
--               campaign, brought by a last click on one of its joint campaigns) and the refunds of them;
--   p_campaign  the purchases attributed to the campaign (naming it, or brought by a last click on it) and the
--               refunds of them.
-- LANGUAGE sql, STABLE, one SELECT, no SET clause and not SECURITY DEFINER: the planner inlines it into the
-- SECURITY DEFINER functions that call it (they check the caller's right to the scope and fix search_path), so
-- a column a caller does not read is never computed and the caller's filters reach the indexes.
create or replace function allied_attributed_revenue(p_tenant uuid, p_alliance uuid, p_campaign uuid, p_from timestamptz, p_to timestamptz)
returns table (type text, tenant_id uuid, id uuid, learner_id uuid, occurred_at timestamptz, amount_minor bigint, currency text,
               purchase_at timestamptz, campaign_id uuid)
language sql stable parallel safe
as $$
  -- Events stored with the scope: the brand's own, or the alliance's (its joint courses and named joint
  -- campaigns, stored at ingestion). A purchase naming no campaign goes to its learner's last click (rule 2).
  -- A refund carries its purchase's time (stored with it); its purchase's campaign is looked up by key (refunds
  -- are few; a join would hash every event).
  select e.type, e.tenant_id, e.id, e.learner_id, e.occurred_at, e.amount_minor, e.currency::text,
         coalesce(e.refund_purchase_at, e.occurred_at),
         case when e.refund_of is null then coalesce(e.campaign_id, public.allied_last_click(e.tenant_id, e.learner_id, e.occurred_at))
              else (select coalesce(p.campaign_id, public.allied_last_click(p.tenant_id, p.learner_id, p.occurred_at))
                    from public.events p where p.tenant_id = e.tenant_id and p.id = e.refund_of) end
  from public.events e
  where e.type in ('PURCHASE', 'REFUND') and e.occurred_at >= p_from and e.occurred_at < p_to
    and ((p_tenant is not null and e.tenant_id = p_tenant) or (p_alliance is not null and e.alliance_id = p_alliance))
  union all
  -- Purchases attributed to the campaign, or click-attributed to a joint campaign of the alliance, each with
  -- its campaign; for a campaign also their refunds (purchases from any earlier time).
  select e.type, e.tenant_id, e.id, e.learner_id, e.occurred_at, e.amount_minor, e.currency::text, p.occurred_at, a.campaign_id
  from (
    -- Rule 1: purchases naming the campaign.
    select p.tenant_id, p.id, p.campaign_id
    from public.events p
    where p_campaign is not null and p.campaign_id = p_campaign and p.type = 'PURCHASE' and p.occurred_at < p_to
    union
    -- Rule 2: purchases naming no campaign, among those a click on a campaign of the scope covers, whose
    -- learner's last click was on it. Rule 3: for an alliance, only purchases stored with no alliance.
    select p.tenant_id, p.id, k.id
    from public.campaigns k
    join public.events c on c.campaign_id = k.id and c.type in ('CLICK', 'EMAIL_CLICK')
    join public.events p on p.tenant_id = c.tenant_id and p.learner_id = c.learner_id and p.type = 'PURCHASE'
      and p.occurred_at >= c.occurred_at and p.occurred_at < c.occurred_at + make_interval(days => k.attribution_window_days)
    where (k.id = p_campaign or (k.alliance_id = p_alliance and p.alliance_id is null and p.occurred_at >= p_from
                                 and c.occurred_at >= p_from - interval '90 days'))
      and c.occurred_at < p_to and p.occurred_at < p_to and p.campaign_id is null
      and public.allied_last_click(p.tenant_id, p.learner_id, p.occurred_at) = k.id
  ) a
  join public.events p on p.tenant_id = a.tenant_id and p.id = a.id
  join public.events e on e.tenant_id = p.tenant_id and (e.id = p.id or (p_campaign is not null and e.refund_of = p.id))
  where e.occurred_at >= p_from and e.occurred_at < p_to
  union all
  -- Rule 4 for an alliance: refunds stored with no alliance whose purchase, naming no campaign, a last click
  -- on one of its joint campaigns brought (few; the alliance's members' refunds without an alliance are indexed).
  select r.type, r.tenant_id, r.id, r.learner_id, r.occurred_at, r.amount_minor, r.currency::text, p.occurred_at, k.id
  from public.events r
  join public.events p on p.tenant_id = r.tenant_id and p.id = r.refund_of
  join public.campaigns k on k.id = public.allied_last_click(p.tenant_id, p.learner_id, p.occurred_at)
  where p_alliance is not null and r.type = 'REFUND' and r.alliance_id is null
    and r.tenant_id in (select m.brand_id from public.alliance_members m where m.alliance_id = p_alliance)
    and r.occurred_at >= p_from and r.occurred_at < p_to
    and p.campaign_id is null and k.alliance_id = p_alliance
$$;
revoke all on function allied_attributed_revenue(uuid, uuid, uuid, timestamptz, timestamptz) from public;
