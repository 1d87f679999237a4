import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The first body of allied_event_metrics (Attribution1764300000000 replaces it and restores it on the way down). */
export const EVENT_METRICS_V1 = `
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
          select e.*, case when p_bucket is null then p_from else date_trunc(p_bucket, e.occurred_at, 'UTC') end as bucket
          from public.events e
          where e.occurred_at >= p_from and e.occurred_at < p_to
            and (case when p_alliance is null then e.tenant_id = v_tenant else e.alliance_id = p_alliance end)
        ),
        money as (
          select s.bucket, s.currency,
                 sum(case when s.type = 'PURCHASE' then s.amount_minor else -s.amount_minor end) as net
          from scoped s where s.type in ('PURCHASE', 'REFUND')
          group by s.bucket, s.currency
        )
        select s.bucket,
          jsonb_build_object(
            'purchases', count(*) filter (where s.type = 'PURCHASE'),
            'refunds', count(*) filter (where s.type = 'REFUND'),
            'impressions', count(*) filter (where s.type = 'IMPRESSION'),
            'clicks', count(*) filter (where s.type = 'CLICK'),
            'ratings', count(*) filter (where s.type = 'RATING'),
            'ratingSum', coalesce(sum(s.rating), 0),
            'learners', count(distinct s.learner_id),
            'conversions', count(*) filter (where s.type = 'PURCHASE' and (s.campaign_id is not null or exists (
              select 1 from public.events c
              where c.tenant_id = s.tenant_id and c.learner_id = s.learner_id and c.type = 'CLICK'
                and c.campaign_id is not null
                and c.occurred_at <= s.occurred_at and c.occurred_at > s.occurred_at - interval '7 days'))),
            'revenue', coalesce((select jsonb_object_agg(m.currency, m.net::text order by m.currency)
                                 from money m where m.bucket = s.bucket), '{}'::jsonb))
        from scoped s
        group by s.bucket
        order by s.bucket;
      end $$`;

/**
 * Figures over events, per time bucket, for the current brand or for an
 * alliance it is an ACTIVE member of. Alliance figures span members' events,
 * which RLS hides from each other, so this is a SECURITY DEFINER function: it
 * checks membership itself and returns aggregates only, never a learner.
 *
 * A purchase converts (counts as a conversion) when it names a campaign or
 * creative, or when the same learner clicked a campaign in the 7 days before
 * it (last-click attribution; campaigns have no window of their own yet).
 */
export class Metrics1764200000000 implements MigrationInterface {
  name = 'Metrics1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(EVENT_METRICS_V1);
    await q.query(`revoke all on function allied_event_metrics(uuid, timestamptz, timestamptz, text) from public`);
    await q.query(`grant execute on function allied_event_metrics(uuid, timestamptz, timestamptz, text) to allied_app`);
    await q.query(`create index events_tenant_type_time on events (tenant_id, type, learner_id, occurred_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop index events_tenant_type_time`);
    await q.query(`drop function allied_event_metrics(uuid, timestamptz, timestamptz, text)`);
  }
}
