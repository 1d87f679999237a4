import type { TenantScope } from '../tenant';
import { localClock } from './clock';
import { encodeImpressionInto, type CtrFeatureSpec, type CtrImpression } from './features';
import type { CtrExamples } from './train';

/** Most impressions one training reads: the newest ones. */
export const MAX_TRAINING_IMPRESSIONS = 2_000_000;

/** Activity counts look back this far from the moment scored. */
export const ACTIVITY_LOOKBACK_MS = 30 * 86_400_000;

/** What a creative and its campaign contribute to every impression of it. */
export interface CreativeContext {
  creativeId: string;
  campaignId: string;
  channel: string;
  headline: string;
  campaignKind: string;
  timeZone: string;
  topics: string[];
  sponsorshipKind: string | null;
  sport: string | null;
}

/** A learner's recent activity and interests, for the features of one impression. */
export interface LearnerActivity {
  views30d: number;
  purchases30d: number;
  /** Topics of the courses they interacted with most, before the impression. */
  interests: string[];
}

/** Interests a learner's impression carries: their top topics by course interactions. */
export const INTERESTS = 3;

/** Course interactions that say what a learner is into (any event naming a course but refunds). */
const COURSE_EVENTS = `('VIEW', 'CLICK', 'ENROLL', 'PURCHASE', 'COMPLETE', 'RATING')`;

/** The `n` topics with the most interactions, ties by name. */
export function topInterests(counts: ReadonlyMap<string, number>, n = INTERESTS): string[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n)
    .map(([topic]) => topic);
}

/** The impression of `creative` to a learner at `ms`, ready to encode. */
export function impressionOf(creative: CreativeContext, ms: number, learner: { segment: string | null } & LearnerActivity): CtrImpression {
  return {
    channel: creative.channel,
    ...localClock(creative.timeZone, ms),
    campaignKind: creative.campaignKind,
    headline: creative.headline,
    topics: creative.topics,
    sponsorshipKind: creative.sponsorshipKind,
    sport: creative.sport,
    segment: learner.segment,
    views30d: learner.views30d,
    purchases30d: learner.purchases30d,
    interests: learner.interests,
  };
}

/**
 * The creatives (and their campaigns and promoted courses' topics) the brand
 * can read among `ids`: its own and its alliances' joint ones, under RLS.
 */
export async function loadCreativeContexts(ctx: TenantScope, ids: readonly string[]): Promise<Map<string, CreativeContext>> {
  const contexts = new Map<string, CreativeContext>();
  if (ids.length === 0) return contexts;
  const manager = await ctx.manager();
  const rows: Record<string, string | null>[] = await manager.query(
    `select r.id, r.campaign_id, r.channel, r.headline, k.kind, k.time_zone, k.sponsorship_property_kind, k.sponsorship_sport
     from creatives r join campaigns k on k.tenant_id = r.tenant_id and k.id = r.campaign_id
     where r.id = any($1::uuid[])`,
    [ids],
  );
  const campaigns = [...new Set(rows.map((r) => r.campaign_id as string))];
  const topics = new Map<string, string[]>();
  const courseRows: { campaign_id: string; topics: string[] }[] = campaigns.length
    ? await manager.query(
        `select cc.campaign_id, c.topics from campaign_courses cc
         join courses c on c.tenant_id = cc.course_tenant_id and c.id = cc.course_id
         where cc.campaign_id = any($1::uuid[]) order by cc.campaign_id, cc.position`,
        [campaigns],
      )
    : [];
  for (const r of courseRows) topics.set(r.campaign_id, [...(topics.get(r.campaign_id) ?? []), ...r.topics]);
  for (const r of rows) {
    contexts.set(r.id as string, {
      creativeId: r.id as string,
      campaignId: r.campaign_id as string,
      channel: r.channel as string,
      headline: r.headline as string,
      campaignKind: r.kind as string,
      timeZone: r.time_zone as string,
      topics: [...new Set(topics.get(r.campaign_id as string) ?? [])],
      sponsorshipKind: r.sponsorship_property_kind,
      sport: r.sponsorship_sport,
    });
  }
  return contexts;
}

/** Segment and activity in the 30 days before `at` of each of the brand's learners among `learnerIds`. */
export async function loadLearnerFeatures(
  ctx: TenantScope,
  learnerIds: readonly string[],
  at: Date,
): Promise<Map<string, { segment: string | null } & LearnerActivity>> {
  const manager = await ctx.manager();
  const learners: { id: string; segment: string | null }[] = await manager.query(
    `select id, segment from learners where tenant_id = $1 and id = any($2::uuid[])`,
    [ctx.brandId, learnerIds],
  );
  // Only indexed columns (events_tenant_type_time): an index-only scan where the visibility map allows.
  const counts: { learner_id: string; views: string; purchases: string }[] = learners.length
    ? await manager.query(
        `select learner_id, count(*) filter (where type = 'VIEW') as views, count(*) filter (where type = 'PURCHASE') as purchases
         from events
         where tenant_id = $1 and type in ('VIEW', 'PURCHASE') and learner_id = any($2::uuid[]) and occurred_at >= $3 and occurred_at < $4
         group by learner_id`,
        [ctx.brandId, learners.map((l) => l.id), new Date(at.getTime() - ACTIVITY_LOOKBACK_MS), at],
      )
    : [];
  const topics: { learner_id: string; topic: string; n: string }[] = learners.length
    ? await manager.query(
        `select e.learner_id, t.topic, count(*) as n
         from events e
         join courses c on c.tenant_id = e.course_tenant_id and c.id = e.course_id
         cross join lateral unnest(c.topics) as t(topic)
         where e.tenant_id = $1 and e.learner_id = any($2::uuid[]) and e.course_id is not null
           and e.type in ${COURSE_EVENTS} and e.occurred_at < $3
         group by e.learner_id, t.topic`,
        [ctx.brandId, learners.map((l) => l.id), at],
      )
    : [];
  const interestCounts = new Map<string, Map<string, number>>();
  for (const t of topics) {
    const own = interestCounts.get(t.learner_id) ?? new Map<string, number>();
    own.set(t.topic, Number(t.n));
    interestCounts.set(t.learner_id, own);
  }
  const activity = new Map(counts.map((c) => [c.learner_id, c]));
  return new Map(
    learners.map((l) => {
      const a = activity.get(l.id);
      const interests = topInterests(interestCounts.get(l.id) ?? new Map());
      return [l.id, { segment: l.segment, views30d: Number(a?.views ?? 0), purchases30d: Number(a?.purchases ?? 0), interests }];
    }),
  );
}

/** A brand's CTR training set, with what it was read from. */
export interface CtrTrainingSet {
  examples: CtrExamples;
  impressions: number;
  clicks: number;
  /** Clicks credited to an impression (the positives). */
  matchedClicks: number;
  creatives: number;
}

/**
 * The brand's impressions (newest first, up to MAX_TRAINING_IMPRESSIONS) as
 * hashed examples under `spec`, labelled 1 when the same learner clicked
 * the same creative within `clickWindowMs` after it. A click is credited to
 * the latest impression of that creative to that learner at or before it,
 * so a click counts once however many impressions preceded it. Features
 * use the campaign's time zone, the learner's current segment and its
 * views and purchases in the 30 days before the impression. Only the
 * brand's own events are read (RLS): a joint campaign's other members'
 * traffic never trains this brand's model.
 */
export async function loadCtrTrainingSet(ctx: TenantScope, spec: CtrFeatureSpec, clickWindowMs: number): Promise<CtrTrainingSet> {
  const manager = await ctx.manager();
  const read = (type: string): Promise<{ l: string; r: string; ms: string }[]> =>
    manager.query(
      `select learner_id as l, creative_id as r, (extract(epoch from occurred_at) * 1000)::bigint::text as ms
       from events where tenant_id = $1 and type = $2 and creative_id is not null
       order by occurred_at desc limit $3`,
      [ctx.brandId, type, MAX_TRAINING_IMPRESSIONS],
    );
  const impressions = await read('IMPRESSION');
  const clicks = await read('CLICK');
  const n = impressions.length;
  const time = new Float64Array(n);
  impressions.forEach((row, i) => (time[i] = Number(row.ms)));
  const labels = new Uint8Array(n);
  const matchedClicks = creditClicks(impressions, time, clicks, clickWindowMs, labels);

  const creatives = await loadCreativeContexts(ctx, [...new Set(impressions.map((r) => r.r))]);
  // A loop, not Math.min(...time): a spread of a million arguments overflows the stack.
  let earliest = Infinity;
  for (let i = 0; i < n; i++) if (time[i] < earliest) earliest = time[i];
  const activity = await activityTimelines(ctx, n ? earliest - ACTIVITY_LOOKBACK_MS : 0);
  const interests = await interestsAtImpressions(ctx, impressions, time);
  const segments = new Map<string, string>(
    (await manager.query(`select id, segment from learners where tenant_id = $1 and segment is not null`, [ctx.brandId])).map(
      (r: { id: string; segment: string }) => [r.id, r.segment],
    ),
  );
  const indices = new Int32Array(n * spec.F);
  let kept = 0;
  const keptTime = new Float64Array(n);
  const keptLabels = new Uint8Array(n);
  impressions.forEach((row, i) => {
    const creative = creatives.get(row.r);
    if (!creative) return; // a creative the brand can no longer read
    const ms = time[i];
    const timeline = activity.get(row.l);
    const learner = {
      segment: segments.get(row.l) ?? null,
      views30d: timeline ? countIn(timeline.views, ms - ACTIVITY_LOOKBACK_MS, ms) : 0,
      purchases30d: timeline ? countIn(timeline.purchases, ms - ACTIVITY_LOOKBACK_MS, ms) : 0,
      interests: interests[i],
    };
    encodeImpressionInto(impressionOf(creative, ms, learner), spec, indices, kept * spec.F);
    keptTime[kept] = ms;
    keptLabels[kept] = labels[i];
    kept++;
  });
  return {
    examples: {
      indices: indices.slice(0, kept * spec.F),
      labels: keptLabels.slice(0, kept),
      time: keptTime.slice(0, kept),
      F: spec.F,
      buckets: spec.buckets,
    },
    impressions: kept,
    clicks: clicks.length,
    matchedClicks,
    creatives: creatives.size,
  };
}

/** Marks in `labels` the impression each click is credited to; returns how many clicks were credited. */
export function creditClicks(
  impressions: readonly { l: string; r: string }[],
  time: Float64Array,
  clicks: readonly { l: string; r: string; ms: string }[],
  windowMs: number,
  labels: Uint8Array,
): number {
  const byPair = new Map<string, number[]>();
  impressions.forEach((row, i) => {
    const key = `${row.l}|${row.r}`;
    const list = byPair.get(key);
    if (list) list.push(i);
    else byPair.set(key, [i]);
  });
  for (const list of byPair.values()) list.sort((a, b) => time[a] - time[b]);
  let credited = 0;
  for (const click of clicks) {
    const list = byPair.get(`${click.l}|${click.r}`);
    if (!list) continue;
    const at = Number(click.ms);
    // The latest impression at or before the click.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (time[list[mid]] <= at) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) continue;
    const impression = list[lo - 1];
    if (at - time[impression] <= windowMs && labels[impression] === 0) {
      labels[impression] = 1;
      credited++;
    }
  }
  return credited;
}

/**
 * Each impression's learner interests as they were just before it: the
 * learner's course interactions are swept in time order beside their
 * impressions, so no interest comes from an event after the impression.
 */
async function interestsAtImpressions(ctx: TenantScope, impressions: readonly { l: string }[], time: Float64Array): Promise<string[][]> {
  const rows: { l: string; ms: string; topics: string[] }[] = await (await ctx.manager()).query(
    `select e.learner_id as l, (extract(epoch from e.occurred_at) * 1000)::bigint::text as ms, c.topics
     from events e join courses c on c.tenant_id = e.course_tenant_id and c.id = e.course_id
     where e.tenant_id = $1 and e.course_id is not null and e.type in ${COURSE_EVENTS}
     order by e.learner_id, e.occurred_at`,
    [ctx.brandId],
  );
  const byLearner = new Map<string, { ms: number; topics: string[] }[]>();
  for (const r of rows) {
    const list = byLearner.get(r.l) ?? [];
    list.push({ ms: Number(r.ms), topics: r.topics });
    byLearner.set(r.l, list);
  }
  const order = new Map<string, number[]>();
  impressions.forEach((imp, i) => {
    const list = order.get(imp.l) ?? [];
    list.push(i);
    order.set(imp.l, list);
  });
  const out: string[][] = new Array(impressions.length);
  for (const [learner, list] of order) {
    list.sort((a, b) => time[a] - time[b]);
    const events = byLearner.get(learner) ?? [];
    const counts = new Map<string, number>();
    let next = 0;
    let current: string[] = [];
    for (const i of list) {
      let changed = false;
      while (next < events.length && events[next].ms < time[i]) {
        for (const topic of events[next++].topics) counts.set(topic, (counts.get(topic) ?? 0) + 1);
        changed = true;
      }
      if (changed) current = topInterests(counts);
      out[i] = current;
    }
  }
  return out;
}

interface Timeline {
  views: Float64Array;
  purchases: Float64Array;
}

/** Each learner's VIEW and PURCHASE times since `sinceMs`, sorted. */
async function activityTimelines(ctx: TenantScope, sinceMs: number): Promise<Map<string, Timeline>> {
  const rows: { l: string; t: string; ms: string }[] = await (await ctx.manager()).query(
    `select learner_id as l, type as t, (extract(epoch from occurred_at) * 1000)::bigint::text as ms
     from events where tenant_id = $1 and type in ('VIEW', 'PURCHASE') and occurred_at >= $2
     order by learner_id, occurred_at`,
    [ctx.brandId, new Date(sinceMs)],
  );
  const lists = new Map<string, { views: number[]; purchases: number[] }>();
  for (const r of rows) {
    let list = lists.get(r.l);
    if (!list) lists.set(r.l, (list = { views: [], purchases: [] }));
    (r.t === 'VIEW' ? list.views : list.purchases).push(Number(r.ms));
  }
  const timelines = new Map<string, Timeline>();
  for (const [id, l] of lists) timelines.set(id, { views: Float64Array.from(l.views), purchases: Float64Array.from(l.purchases) });
  return timelines;
}

/** How many of the sorted `times` fall in [from, to). */
function countIn(times: Float64Array, from: number, to: number): number {
  return lowerBound(times, to) - lowerBound(times, from);
}

function lowerBound(times: Float64Array, value: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
