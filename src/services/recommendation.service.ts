import type { CourseEntity } from '../entities';
import { CatalogScope, ModelKind, RecommendationScope } from '../entities/enums';
import { COURSE_COLUMNS, courseFromRow } from '../entities/rows';
import { badInput, notFound } from '../errors';
import type { ModelLayer } from '../ml/layer';
import { PopularityIndex, type Popular } from '../ml/recommend/popularity';
import type { Ranked, ServedVersion } from '../ml/recommend/serving';
import type { ModelVersionRow } from '../ml/registry/registry';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { ExperimentRouting } from './ctr.service';
import { catalogScope } from './visibility';

/** Model rankings per learner, and the version each learner was ranked by. */
interface Ranks {
  versions: Map<string, ServedVersion>;
  byLearner: Map<string, Ranked[] | null>;
}

/** The contract's reason codes. */
export type RecommendationReason = 'COLLABORATIVE' | 'DEMAND_MATCH' | 'POPULAR' | 'PARTNER';

export interface RecommendationItem {
  course: CourseEntity;
  /** Higher is better; comparable within one answer (collaborative 0.5–1, topic matches 0.3–0.8, popularity 0–0.3). */
  score: number;
  reason: RecommendationReason;
  explanation: string;
}

export const MAX_RECOMMENDATIONS = 50;

interface LearnerView {
  id: string;
  /** Lower-cased interests: stated demands first, then topics of courses they took. */
  interests: string[];
  /** Courses never to recommend them: bought, enrolled in or completed (viewed ones may come back). */
  taken: Set<string>;
  /** Courses they interacted with, most weighted first, and whether they bought each. */
  history: { courseId: string; title: string; bought: boolean }[];
}

interface Candidate {
  courseId: string;
  score: number;
  reason: RecommendationReason;
  /** For explanations: the topics it matched, or the course it resembles. */
  matched?: string[];
  thisWeek?: boolean;
}

/** Model ranks looked at per learner before the catalog check: a few pages' worth. */
const MODEL_CANDIDATES = 128;
/** Courses matched by topic per answer, and popular ones. */
const TOPIC_CANDIDATES = 200;

/**
 * Course recommendations for a brand's learners: the active RECOMMENDER's
 * ranking where the model knows the learner, topic matches against the
 * learner's demands and history where it does not know a course (or the
 * learner), and recency-weighted popularity to fill the rest. Whatever the
 * source, only PUBLISHED courses the brand may show in the scope are
 * returned, and never one the learner bought, enrolled in or completed.
 */
export class RecommendationService {
  private readonly popularity = new PopularityIndex();

  constructor(
    private readonly models: ModelLayer,
    private readonly experiments: ExperimentRouting | null = null,
  ) {}

  /** One learner's recommendations (NOT_FOUND for a learner the brand does not have). */
  async forLearner(ctx: RequestContext, learnerId: string, first: number, scope: RecommendationScope): Promise<RecommendationItem[]> {
    checkFirst(first);
    if (!isUuid(learnerId)) throw notFound('Learner');
    const [answer] = await this.loader(ctx, first, scope).load(learnerId);
    if (answer === null) throw notFound('Learner');
    return answer;
  }

  /** The same for a learner row already read (a page of learners): batched with the others of the request. */
  async forKnownLearner(ctx: RequestContext, learnerId: string, first: number, scope: RecommendationScope): Promise<RecommendationItem[]> {
    checkFirst(first);
    const [answer] = await this.loader(ctx, first, scope).load(learnerId);
    return answer ?? [];
  }

  /** Every learner asked for in one request (one field or many, aliases, a page of learners) is one batch: one model call. */
  private loader(ctx: RequestContext, first: number, scope: RecommendationScope) {
    return ctx.loader<string, [RecommendationItem[] | null]>(`recommend.${scope}.${first}`, async (ids) => {
      const answers = await this.recommend(ctx, ids, first, scope);
      return ids.map((id) => [answers.get(id) ?? null]);
    });
  }

  private async recommend(ctx: RequestContext, ids: readonly string[], first: number, scope: RecommendationScope): Promise<Map<string, RecommendationItem[]>> {
    const learners = await this.learners(ctx, ids);
    if (learners.length === 0) return new Map();
    const [ranked, popular] = await Promise.all([this.modelRanks(ctx, learners), this.popularity.list(ctx)]);
    const topics = scope === RecommendationScope.ALLIANCE || learners.some((l) => !ranked.byLearner.get(l.id)) ? await this.topicMatches(ctx, learners, scope) : [];
    const candidates = new Map<string, Candidate[]>();
    for (const learner of learners) candidates.set(learner.id, combine(learner, ranked.byLearner.get(learner.id) ?? null, popular, topics, first));
    const courses = await this.checkInRounds(ctx, learners, candidates, first, scope);
    const out = new Map<string, RecommendationItem[]>();
    const pending: { learner: LearnerView; item: RecommendationItem; candidate: Candidate }[] = [];
    for (const learner of learners) {
      const items: RecommendationItem[] = [];
      for (const c of candidates.get(learner.id) ?? []) {
        const course = courses.get(c.courseId);
        if (!course || learner.taken.has(c.courseId)) continue;
        const reason = c.reason === 'DEMAND_MATCH' && course.tenantId !== ctx.brandId && course.allianceId === null ? 'PARTNER' : c.reason;
        const item: RecommendationItem = { course, score: round(c.score), reason, explanation: '' };
        pending.push({ learner, item, candidate: c });
        items.push(item);
        if (items.length === first) break;
      }
      out.set(learner.id, items);
    }
    await this.explain(ranked.versions, pending);
    return out;
  }

  /** Writes each item's explanation; collaborative ones name the learner's most similar past course (one model look-up per version). */
  private async explain(versions: Map<string, ServedVersion>, pending: { learner: LearnerView; item: RecommendationItem; candidate: Candidate }[]): Promise<void> {
    const collaborative = pending.filter((p) => p.item.reason === 'COLLABORATIVE' && versions.has(p.learner.id));
    const similar = new Map<(typeof collaborative)[number], { courseId: string; similarity: number } | null>();
    const byVersion = new Map<ServedVersion, typeof collaborative>();
    for (const p of collaborative) byVersion.set(versions.get(p.learner.id)!, [...(byVersion.get(versions.get(p.learner.id)!) ?? []), p]);
    for (const [version, group] of byVersion) {
      const hits = await this.models.recommenders
        .mostSimilar(version, group.map((p) => ({ courseId: p.item.course.id, history: p.learner.history.map((h) => h.courseId) })))
        .catch(() => group.map(() => null));
      group.forEach((p, i) => similar.set(p, hits[i]));
    }
    for (const p of pending.filter((q) => q.item.reason === 'COLLABORATIVE')) {
      const hit = similar.get(p) ?? null;
      const took = hit ? p.learner.history.find((h) => h.courseId === hit.courseId) : undefined;
      p.item.explanation = took?.title
        ? took.bought
          ? `bought by learners who also bought ${took.title}`
          : `chosen by learners who also looked at ${took.title}`
        : 'chosen by learners whose choices resemble yours';
    }
    for (const { item, candidate } of pending) {
      if (item.reason === 'COLLABORATIVE') continue;
      const topics = (candidate.matched ?? []).slice(0, 2).join(' and ');
      item.explanation =
        item.reason === 'POPULAR'
          ? candidate.thisWeek
            ? 'popular in your catalog this week'
            : 'popular in your catalog'
          : item.reason === 'PARTNER'
            ? `from a partner of your brand; matches your interest in ${topics}`
            : `matches your interest in ${topics}`;
    }
  }

  /**
   * The candidates the brand may show now, checked against the catalog best
   * first: each round asks, for every learner still short of `first`, about
   * its next unchecked candidates (twice as many each round), so a request
   * usually checks a couple of pages' worth instead of every candidate.
   */
  private async checkInRounds(
    ctx: RequestContext,
    learners: LearnerView[],
    candidates: Map<string, Candidate[]>,
    first: number,
    scope: RecommendationScope,
  ): Promise<Map<string, CourseEntity>> {
    const shown = new Map<string, CourseEntity>();
    const checked = new Set<string>();
    for (let take = 2 * first + 8; ; take *= 2) {
      const need = new Set<string>();
      for (const learner of learners) {
        let ok = 0;
        const next: string[] = [];
        for (const c of candidates.get(learner.id) ?? []) {
          if (checked.has(c.courseId)) ok += shown.has(c.courseId) ? 1 : 0;
          else if (next.length < take) next.push(c.courseId);
          if (ok >= first || next.length >= take) break;
        }
        if (ok < first) for (const id of next) need.add(id);
      }
      if (need.size === 0) return shown;
      const found = await this.showable(ctx, [...need], scope);
      for (const id of need) {
        checked.add(id);
        const course = found.get(id);
        if (course) shown.set(id, course);
      }
    }
  }

  /** The learners, their stated demands, their history and what they bought. */
  private async learners(ctx: RequestContext, ids: readonly string[]): Promise<LearnerView[]> {
    const manager = await ctx.manager();
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const rows: { id: string; demands: string[]; course_id: string | null; title: string | null; topics: string[] | null; bought: boolean | null; taken: boolean | null; weight: number | null }[] =
      await manager.query(
        `select l.id, l.demands, h.course_id, c.title, c.topics, h.bought, h.taken, h.weight
         from learners l
         left join lateral (
           select e.course_id, e.course_tenant_id, bool_or(e.type = 'PURCHASE') as bought,
                  bool_or(e.type in ('PURCHASE', 'ENROLL', 'COMPLETE')) as taken,
                  sum(case e.type when 'PURCHASE' then 5 when 'COMPLETE' then 4 when 'ENROLL' then 3 else 1 end)::float8 as weight
           from events e
           where e.tenant_id = l.tenant_id and e.learner_id = l.id and e.course_id is not null
             and e.type in ('VIEW', 'CLICK', 'ENROLL', 'PURCHASE', 'COMPLETE', 'RATING')
           group by e.course_id, e.course_tenant_id
         ) h on true
         left join courses c on c.tenant_id = h.course_tenant_id and c.id = h.course_id
         where l.tenant_id = $1 and l.id = any($2::uuid[])
         order by l.id, h.weight desc nulls last`,
        [ctx.brandId, valid],
      );
    const byId = new Map<string, LearnerView & { topicWeight: Map<string, number> }>();
    for (const row of rows) {
      let learner = byId.get(row.id);
      if (!learner) {
        learner = { id: row.id, interests: [], taken: new Set(), history: [], topicWeight: new Map() };
        for (const d of row.demands ?? []) learner.topicWeight.set(d.toLowerCase().trim(), Number.MAX_SAFE_INTEGER);
        byId.set(row.id, learner);
      }
      if (!row.course_id) continue;
      if (row.taken) learner.taken.add(row.course_id);
      learner.history.push({ courseId: row.course_id, title: row.title ?? '', bought: !!row.bought });
      for (const t of row.topics ?? []) {
        const topic = t.toLowerCase().trim();
        learner.topicWeight.set(topic, (learner.topicWeight.get(topic) ?? 0) + (row.weight ?? 1));
      }
    }
    return [...byId.values()].map(({ topicWeight, ...learner }) => ({
      ...learner,
      interests: [...topicWeight.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([t]) => t),
    }));
  }

  /**
   * The model's ranking per learner it knows: the active version's, or for a
   * learner in a running RECOMMENDER experiment, its arm's version; one
   * model call per version. None without a model.
   */
  private async modelRanks(ctx: RequestContext, learners: LearnerView[]): Promise<Ranks> {
    const active = await this.models.activeVersion(ctx, ModelKind.RECOMMENDER);
    const groups = new Map<string, { row: ModelVersionRow; learners: LearnerView[] }>();
    const versions = new Map<string, Promise<ModelVersionRow | null>>();
    for (const learner of learners) {
      const row = (await this.armVersion(ctx, learner.id, versions)) ?? active;
      if (!row) continue;
      const group = groups.get(row.id) ?? { row, learners: [] };
      group.learners.push(learner);
      groups.set(row.id, group);
    }
    const ranks: Ranks = { versions: new Map(), byLearner: new Map() };
    for (const { row, learners: members } of groups.values()) {
      // A damaged artifact is never served: these learners then get the fallback.
      await this.models.withServed(ctx, row, async (version) => {
        const ranked = await this.models.recommenders.rank(version, members.map((l) => ({ learnerId: l.id, exclude: l.taken })));
        members.forEach((l, i) => {
          ranks.byLearner.set(l.id, ranked[i]?.slice(0, MODEL_CANDIDATES) ?? null);
          ranks.versions.set(l.id, version);
        });
      });
    }
    return ranks;
  }

  /** The READY version a running RECOMMENDER experiment assigns the learner, if any; each version read once per call (`read`). */
  private async armVersion(ctx: RequestContext, learnerId: string, read: Map<string, Promise<ModelVersionRow | null>>): Promise<ModelVersionRow | null> {
    const arm = await this.experiments?.armFor(ctx, { modelKind: ModelKind.RECOMMENDER }, learnerId);
    const id = arm?.modelVersionId;
    if (!id) return null;
    if (!read.has(id)) read.set(id, this.models.registry.get(ctx, id));
    const row = await read.get(id)!;
    return row && row.status === 'READY' ? row : null;
  }

  /** PUBLISHED courses in the scope whose topics meet any learner's interests. */
  private async topicMatches(ctx: RequestContext, learners: LearnerView[], scope: RecommendationScope): Promise<{ courseId: string; topics: string[] }[]> {
    const interests = [...new Set(learners.flatMap((l) => l.interests))];
    if (interests.length === 0) return [];
    const params: unknown[] = [ctx.brandId];
    const visible = await catalogScope(ctx, catalogOf(scope), params);
    params.push(interests, TOPIC_CANDIDATES);
    const rows: { id: string; topics: string[] }[] = await (await ctx.manager()).query(
      `select c.id, c.topics from courses c
       where ${visible} and c.status = 'PUBLISHED'
         and exists (select 1 from unnest(c.topics) t where lower(t) = any($${params.length - 1}::text[]))
       order by c.created_at desc
       limit $${params.length}`,
      params,
    );
    return rows.map((r) => ({ courseId: r.id, topics: r.topics.map((t) => t.toLowerCase()) }));
  }

  /** Of `ids`, the courses the brand may show in the scope now: PUBLISHED and visible. */
  private async showable(ctx: RequestContext, ids: string[], scope: RecommendationScope): Promise<Map<string, CourseEntity>> {
    if (ids.length === 0) return new Map();
    const params: unknown[] = [ctx.brandId, ids];
    const visible = await catalogScope(ctx, catalogOf(scope), params);
    const rows: Record<string, unknown>[] = await (await ctx.manager()).query(
      `select ${COURSE_COLUMNS} from courses c where c.id = any($2::uuid[]) and c.status = 'PUBLISHED' and ${visible}`,
      params,
    );
    return new Map(rows.map((r) => [r.id as string, courseFromRow(r)]));
  }
}

function checkFirst(first: number): void {
  if (!Number.isInteger(first) || first < 1 || first > MAX_RECOMMENDATIONS) {
    throw badInput(`first must be between 1 and ${MAX_RECOMMENDATIONS}.`, { field: 'first' });
  }
}

const catalogOf = (scope: RecommendationScope) => (scope === RecommendationScope.OWN ? CatalogScope.OWN : CatalogScope.PARTNERS);
const round = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * One learner's candidates, best first: the model's ranks (collaborative,
 * scaled into 0.5–1), then courses the model has not ranked that match the
 * learner's interests (0.3–0.8 by the share of interests met), then popular
 * courses (0–0.3). A course appears once, under its best source.
 */
function combine(
  learner: LearnerView,
  ranked: Ranked[] | null,
  popular: Popular[],
  topics: { courseId: string; topics: string[] }[],
  first: number,
): Candidate[] {
  const best = new Map<string, Candidate>();
  const offer = (c: Candidate) => {
    if (learner.taken.has(c.courseId)) return;
    const had = best.get(c.courseId);
    if (!had || had.score < c.score) best.set(c.courseId, c);
  };
  if (ranked && ranked.length > 0) {
    const hi = ranked[0].score;
    const lo = ranked[ranked.length - 1].score;
    const span = hi - lo || 1;
    for (const r of ranked) offer({ courseId: r.courseId, score: 0.5 + (0.5 * (r.score - lo)) / span, reason: 'COLLABORATIVE' });
  }
  const interests = new Set(learner.interests);
  if (interests.size > 0) {
    const modelled = new Set(ranked?.map((r) => r.courseId));
    for (const t of topics) {
      if (modelled.has(t.courseId)) continue;
      const matched = t.topics.filter((topic) => interests.has(topic));
      if (matched.length === 0) continue;
      offer({ courseId: t.courseId, score: 0.3 + (0.5 * matched.length) / Math.max(matched.length, Math.min(interests.size, 3)), reason: 'DEMAND_MATCH', matched });
    }
  }
  // Popular courses only fill what the others leave: a few pages' worth is enough.
  let offered = 0;
  for (const p of popular) {
    if (offered >= 3 * first + learner.taken.size) break;
    if (learner.taken.has(p.courseId)) continue;
    offer({ courseId: p.courseId, score: 0.3 * p.score, reason: 'POPULAR', thisWeek: p.thisWeek });
    offered++;
  }
  return [...best.values()].sort((a, b) => b.score - a.score);
}
