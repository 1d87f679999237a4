import type { TenantScope } from '../tenant';
import type { LearnerAggregates } from './features';

const DAY_MS = 86_400_000;

/**
 * Every learner of the brand with the aggregates segments are made of, as
 * of `now`, in two statements under the brand's row-level security: one
 * over its events per learner, one of interactions per topic: with any
 * course the brand can read (its own or joint), and each feedback in which
 * the learner asked for the topic (its voiced demands, in lower case), so
 * that a learner who has only written to the brand is clustered by what
 * they want. Spend sums minor units
 * across currencies: it is a scale for clustering, never money.
 */
export async function loadLearnerAggregates(ctx: TenantScope, now: Date): Promise<LearnerAggregates[]> {
  const manager = await ctx.manager();
  const rows: {
    id: string;
    tenure_ms: string;
    events90d: string | null;
    purchases: string | null;
    value: string | null;
    mean_rating: number | null;
    idle_ms: string | null;
  }[] = await manager.query(
    `with per_learner as (
       select learner_id,
         count(*) filter (where occurred_at >= $2::timestamptz - interval '90 days') as events90d,
         count(*) filter (where type = 'PURCHASE') as purchases,
         coalesce(sum(amount_minor) filter (where type = 'PURCHASE'), 0) as value,
         avg(rating) filter (where type = 'RATING')::float8 as mean_rating,
         max(occurred_at) as last_at
       from events where tenant_id = $1 and occurred_at <= $2 group by learner_id)
     select l.id,
       greatest(0, extract(epoch from ($2::timestamptz - l.created_at)) * 1000)::bigint::text as tenure_ms,
       p.events90d, p.purchases, p.value, p.mean_rating,
       greatest(0, extract(epoch from ($2::timestamptz - coalesce(p.last_at, l.created_at))) * 1000)::bigint::text as idle_ms
     from learners l left join per_learner p on p.learner_id = l.id
     where l.tenant_id = $1
     order by l.id`,
    [ctx.brandId, now],
  );
  const topics: { learner_id: string; topic: string; n: string }[] = await manager.query(
    `select e.learner_id, t.topic, count(*) as n
     from events e
     join courses c on c.tenant_id = e.course_tenant_id and c.id = e.course_id
     cross join lateral unnest(c.topics) as t(topic)
     where e.tenant_id = $1 and e.course_id is not null and e.occurred_at <= $2
     group by e.learner_id, t.topic
     union all
     select d.learner_id, lower(d.value), count(distinct d.event_id)
     from learner_demands d
     where d.tenant_id = $1 and d.type = 'TOPIC' and d.voiced_at <= $2
     group by d.learner_id, lower(d.value)`,
    [ctx.brandId, now],
  );
  const interests = new Map<string, Record<string, number>>();
  for (const t of topics) {
    const own = interests.get(t.learner_id) ?? {};
    own[t.topic] = (own[t.topic] ?? 0) + Number(t.n);
    interests.set(t.learner_id, own);
  }
  return rows.map((r) => ({
    learnerId: r.id,
    events90d: Number(r.events90d ?? 0),
    purchases: Number(r.purchases ?? 0),
    purchaseValueMinor: Number(r.value ?? 0),
    meanRating: r.mean_rating,
    daysSinceLastActivity: Number(r.idle_ms) / DAY_MS,
    tenureDays: Number(r.tenure_ms) / DAY_MS,
    topicInteractions: interests.get(r.id) ?? {},
  }));
}

/** Writes each learner's segment label in chunks (one statement per chunk); learners not listed keep theirs. */
export async function writeSegments(ctx: TenantScope, learnerIds: readonly string[], labels: readonly string[]): Promise<void> {
  const manager = await ctx.manager();
  const CHUNK = 10_000;
  for (let i = 0; i < learnerIds.length; i += CHUNK) {
    await manager.query(
      `update learners l set segment = v.label
       from unnest($2::uuid[], $3::text[]) as v(id, label)
       where l.tenant_id = $1 and l.id = v.id and l.segment is distinct from v.label`,
      [ctx.brandId, learnerIds.slice(i, i + CHUNK), labels.slice(i, i + CHUNK)],
    );
  }
}
