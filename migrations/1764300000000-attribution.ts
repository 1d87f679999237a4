import type { MigrationInterface, QueryRunner } from 'typeorm';
import { EVENT_METRICS_V1 } from './1764200000000-metrics';

/**
 * Attribution: which campaign, and so which alliance, a purchase belongs to.
 *
 * The rule (also in the README):
 *  1. A purchase that names a campaign (or a creative, which names its
 *     campaign) belongs to that campaign.
 *  2. Otherwise it belongs to the campaign of the same learner's last CLICK on
 *     a campaign at or before the purchase, among clicks still inside their
 *     campaign's attribution window (`attribution_window_days`, 7 by default,
 *     at most 90): a click at t covers purchases in [t, t + window). Of two
 *     clicks at the same instant, the one with the greater idempotency key
 *     counts as the later.
 *  3. A purchase belongs to an alliance when its course is a joint course of
 *     that alliance or the campaign it names is a joint campaign of it (stored
 *     on the event at ingestion); a purchase with neither belongs to the
 *     alliance of the joint campaign rule 2 gives it, if any.
 *  4. A refund belongs wherever its purchase belongs.
 *
 * Attribution is computed when figures are read, never stored, so a click
 * ingested after the purchase it led to still counts.
 *
 * Figures that span brands (a joint campaign's, an alliance's) read events
 * RLS hides from the caller, so they come from SECURITY DEFINER functions
 * that check the caller's right to the scope and return aggregates only.
 */
export class Attribution1764300000000 implements MigrationInterface {
  name = 'Attribution1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table campaigns add column attribution_window_days int not null default 7
      check (attribution_window_days between 1 and 90)`);
    await q.query(`create index events_campaign_time on events (campaign_id, type, occurred_at) where campaign_id is not null`);
    await q.query(`create index events_unscoped_refunds on events (tenant_id, occurred_at) where type = 'REFUND' and alliance_id is null`);

    // The definer functions run as the migrating role; where that role is not
    // a superuser, FORCE ROW LEVEL SECURITY would hide other brands' rows from
    // it too. It alone gets a see-all policy, as on alliance_members.
    await q.query(`
      do $$ begin
        execute format('create policy events_definer on events for select to %I using (true)', current_user);
        execute format('create policy campaigns_definer on campaigns for select to %I using (true)', current_user);
        execute format('create policy campaign_spend_definer on campaign_spend for select to %I using (true)', current_user);
      end $$`);

    // Rule 2: the campaign of the learner's last click that still covers time p_at.
    // The two helpers below run as their caller and are called only from the
    // SECURITY DEFINER functions (which fix search_path); having no SET
    // clause of their own lets the planner inline them into those queries.
    await q.query(`
      create function allied_last_click(p_tenant uuid, p_learner uuid, p_at timestamptz) returns uuid
      language sql stable parallel safe
      as $$
        select c.campaign_id
        from public.events c
        join public.campaigns k on k.tenant_id = c.campaign_tenant_id and k.id = c.campaign_id
        where c.tenant_id = p_tenant and c.type = 'CLICK' and c.learner_id = p_learner
          and c.occurred_at <= p_at and c.occurred_at > p_at - interval '90 days'
          and c.occurred_at > p_at - make_interval(days => k.attribution_window_days)
          and c.campaign_id is not null
        order by c.occurred_at desc, c.idempotency_key desc
        limit 1
      $$`);

    // Rules 2–4 for one alliance: purchases carrying no alliance that a click on
    // one of its joint campaigns brought, and refunds of them (few: the rest of
    // an alliance's revenue carries its id, stored at ingestion).
    await q.query(`
      create function allied_alliance_attributed_revenue(p_alliance uuid, p_from timestamptz, p_to timestamptz)
      returns table (tenant_id uuid, id uuid, type text, occurred_at timestamptz, amount_minor bigint, currency text, purchase_at timestamptz)
      language sql stable parallel safe
      as $$
        -- Purchases that name no campaign and no joint course, led to by a click on a joint campaign.
        select p.tenant_id, p.id, p.type, p.occurred_at, p.amount_minor, p.currency::text, p.occurred_at
        from (
          select distinct p.tenant_id, p.id
          from public.campaigns k
          join public.events c on c.campaign_id = k.id and c.type = 'CLICK'
          join public.events p on p.tenant_id = c.tenant_id and p.learner_id = c.learner_id and p.type = 'PURCHASE'
            and p.occurred_at >= c.occurred_at and p.occurred_at < c.occurred_at + make_interval(days => k.attribution_window_days)
          where k.alliance_id = p_alliance
            and c.occurred_at >= p_from - interval '90 days' and c.occurred_at < p_to
            and p.occurred_at >= p_from and p.occurred_at < p_to
            and p.alliance_id is null and p.campaign_id is null
            and public.allied_last_click(p.tenant_id, p.learner_id, p.occurred_at) = k.id
        ) attributed
        join public.events p on p.tenant_id = attributed.tenant_id and p.id = attributed.id
        union all
        -- Refunds of those click-attributed purchases (a refund is stored with its purchase's alliance, so
        -- these are the refunds stored without one).
        select r.tenant_id, r.id, r.type, r.occurred_at, r.amount_minor, r.currency::text, p.occurred_at
        from public.events r
        join public.events p on p.tenant_id = r.tenant_id and p.id = r.refund_of
        join public.campaigns k on k.id = public.allied_last_click(p.tenant_id, p.learner_id, p.occurred_at)
        where r.type = 'REFUND' and r.alliance_id is null
          and r.tenant_id in (select m.brand_id from public.alliance_members m where m.alliance_id = p_alliance)
          and r.occurred_at >= p_from and r.occurred_at < p_to
          and p.campaign_id is null and k.alliance_id = p_alliance
      $$`);

    // Rules 1–4 for one alliance: its purchases and refunds that occurred in
    // [p_from, p_to), each with the time of the purchase it concerns (a
    // refund is split by the agreement that applied to its purchase).
    await q.query(`
      create function allied_alliance_revenue(p_alliance uuid, p_from timestamptz, p_to timestamptz)
      returns table (tenant_id uuid, id uuid, type text, occurred_at timestamptz, amount_minor bigint, currency text, purchase_at timestamptz)
      language sql stable parallel safe
      as $$
        -- Purchases of its joint courses and named joint campaigns, and refunds of them.
        -- A refund's purchase is looked up by key (refunds are few; a join would hash every event).
        select e.tenant_id, e.id, e.type, e.occurred_at, e.amount_minor, e.currency::text,
               case when e.type = 'PURCHASE' then e.occurred_at
                    else (select p.occurred_at from public.events p where p.tenant_id = e.tenant_id and p.id = e.refund_of) end
        from public.events e
        where e.alliance_id = p_alliance and e.type in ('PURCHASE', 'REFUND')
          and e.occurred_at >= p_from and e.occurred_at < p_to
        union all
        select * from public.allied_alliance_attributed_revenue(p_alliance, p_from, p_to)
      $$`);

    // Rules 1, 2 and 4 for one campaign: everything Campaign.metrics shows.
    await q.query(`
      create function allied_campaign_metrics(p_campaign uuid) returns jsonb
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$
      declare
        v_tenant uuid := public.allied_current_tenant();
        v_result jsonb;
      begin
        if v_tenant is null or not exists (
          select 1 from public.campaigns k where k.id = p_campaign
            and (k.tenant_id = v_tenant or k.alliance_id in (select public.allied_active_alliances()))
        ) then
          return null;
        end if;
        with purchases as (
          select p.tenant_id, p.id, p.amount_minor, p.currency
          from public.events p where p.campaign_id = p_campaign and p.type = 'PURCHASE'
          union
          select p.tenant_id, p.id, p.amount_minor, p.currency
          from public.campaigns k
          join public.events c on c.campaign_id = k.id and c.type = 'CLICK'
          join public.events p on p.tenant_id = c.tenant_id and p.learner_id = c.learner_id and p.type = 'PURCHASE'
            and p.occurred_at >= c.occurred_at and p.occurred_at < c.occurred_at + make_interval(days => k.attribution_window_days)
          where k.id = p_campaign and p.campaign_id is null
            and public.allied_last_click(p.tenant_id, p.learner_id, p.occurred_at) = k.id
        ),
        money as (
          select currency, sum(amount_minor) as net from (
            select currency, amount_minor from purchases
            union all
            select r.currency, -r.amount_minor from public.events r
            join purchases p on r.tenant_id = p.tenant_id and r.refund_of = p.id
            where r.type = 'REFUND'
          ) m group by currency
        ),
        spend as (
          select currency, sum(amount_minor) as total from public.campaign_spend where campaign_id = p_campaign group by currency
        )
        select jsonb_build_object(
          'impressions', (select count(*) from public.events e where e.campaign_id = p_campaign and e.type = 'IMPRESSION'),
          'clicks', (select count(*) from public.events e where e.campaign_id = p_campaign and e.type = 'CLICK'),
          'conversions', (select count(*) from purchases),
          'revenue', coalesce((select jsonb_object_agg(currency, net::text order by currency) from money), '{}'::jsonb),
          'spend', coalesce((select jsonb_object_agg(currency, total::text order by currency) from spend), '{}'::jsonb))
        into v_result;
        return v_result;
      end $$`);

    // Brand and alliance figures, now with per-campaign windows (rule 2) and,
    // for an alliance, its click-attributed purchases and their refunds (rules 3, 4).
    await q.query(`
      create or replace function allied_event_metrics(p_alliance uuid, p_from timestamptz, p_to timestamptz, p_bucket text)
      returns table (bucket_start timestamptz, figures jsonb)
      language plpgsql stable security definer set search_path = pg_catalog, public
      as $$
      declare
        v_tenant uuid := public.allied_current_tenant();
      begin
        if v_tenant is null then return; end if;
        if p_alliance is not null and p_alliance not in (select public.allied_active_alliances()) then return; end if;
        if p_bucket is not null and p_bucket not in ('hour', 'day', 'week') then
          raise exception 'unknown bucket %', p_bucket using errcode = '22023';
        end if;
        return query
        with scoped as (
          select e.tenant_id, e.type, e.learner_id, e.occurred_at, e.campaign_id, e.amount_minor, e.currency, e.rating
          from public.events e
          where e.occurred_at >= p_from and e.occurred_at < p_to
            and (case when p_alliance is null then e.tenant_id = v_tenant
                      else e.alliance_id = p_alliance and e.type not in ('PURCHASE', 'REFUND') end)
          union all
          select e.tenant_id, e.type, e.learner_id, e.occurred_at, e.campaign_id, e.amount_minor, e.currency, e.rating
          from public.allied_alliance_revenue(p_alliance, p_from, p_to) a
          join public.events e on e.tenant_id = a.tenant_id and e.id = a.id
          where p_alliance is not null
        ),
        bucketed as (
          select s.*, case when p_bucket is null then p_from else date_trunc(p_bucket, s.occurred_at, 'UTC') end as bucket
          from scoped s
        ),
        money as (
          select b.bucket, b.currency,
                 sum(case when b.type = 'PURCHASE' then b.amount_minor else -b.amount_minor end) as net
          from bucketed b where b.type in ('PURCHASE', 'REFUND')
          group by b.bucket, b.currency
        )
        select b.bucket,
          jsonb_build_object(
            'purchases', count(*) filter (where b.type = 'PURCHASE'),
            'refunds', count(*) filter (where b.type = 'REFUND'),
            'impressions', count(*) filter (where b.type = 'IMPRESSION'),
            'clicks', count(*) filter (where b.type = 'CLICK'),
            'ratings', count(*) filter (where b.type = 'RATING'),
            'ratingSum', coalesce(sum(b.rating), 0),
            'learners', count(distinct (b.tenant_id, b.learner_id)),
            'conversions', count(*) filter (where b.type = 'PURCHASE' and (b.campaign_id is not null
              or public.allied_last_click(b.tenant_id, b.learner_id, b.occurred_at) is not null)),
            'revenue', coalesce((select jsonb_object_agg(m.currency, m.net::text order by m.currency)
                                 from money m where m.bucket = b.bucket), '{}'::jsonb))
        from bucketed b
        group by b.bucket
        order by b.bucket;
      end $$`);

    for (const fn of [
      'allied_last_click(uuid, uuid, timestamptz)',
      'allied_alliance_attributed_revenue(uuid, timestamptz, timestamptz)',
      'allied_alliance_revenue(uuid, timestamptz, timestamptz)',
    ]) {
      await q.query(`revoke all on function ${fn} from public`);
    }
    await q.query(`revoke all on function allied_campaign_metrics(uuid) from public`);
    await q.query(`grant execute on function allied_campaign_metrics(uuid) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_campaign_metrics(uuid)`);
    await q.query(EVENT_METRICS_V1);
    await q.query(`drop function allied_alliance_revenue(uuid, timestamptz, timestamptz)`);
    await q.query(`drop function allied_alliance_attributed_revenue(uuid, timestamptz, timestamptz)`);
    await q.query(`drop function allied_last_click(uuid, uuid, timestamptz)`);
    await q.query(`drop policy campaign_spend_definer on campaign_spend`);
    await q.query(`drop policy campaigns_definer on campaigns`);
    await q.query(`drop policy events_definer on events`);
    await q.query(`drop index events_unscoped_refunds`);
    await q.query(`drop index events_campaign_time`);
    await q.query(`alter table campaigns drop column attribution_window_days`);
  }
}
