import { badInput, notFound } from '../errors';
import { FunnelStageName, MetricsBucket } from '../entities/enums';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AllianceService } from './alliance.service';
import { fitSatisfaction, MIN_RATINGS, type FitPoint } from './impact-model';
import { bucketStarts, satisfaction } from './metrics.service';

/** What allied_funnel counts for one period. */
interface FunnelCounts {
  reach: number;
  acquired: number;
  activated: number;
  converted: number;
  retained: number;
  ratings: number;
  ratingSum: number;
  marketSize: number | null;
}

export interface FunnelStage {
  stage: FunnelStageName;
  count: number;
  /** count ÷ the previous stage's count; null for the first stage or after an empty one. */
  rate: number | null;
  /** Against the previous period; null in the previous period itself. */
  countDelta: number | null;
  rateDelta: number | null;
}

export interface FunnelPeriod {
  from: Date;
  to: Date;
  stages: FunnelStage[];
  satisfaction: number | null;
  ratings: number;
  awareness: number | null;
  index: number | null;
  /** Why the index (or awareness) is null; empty when both are known. */
  unknown: string[];
}

export interface Funnel {
  allianceId: string | null;
  campaignId: string | null;
  marketSize: number | null;
  current: FunnelPeriod;
  previous: FunnelPeriod;
  satisfactionDelta: number | null;
  awarenessDelta: number | null;
  indexDelta: number | null;
}

const ORDER: [FunnelStageName, keyof FunnelCounts][] = [
  [FunnelStageName.REACH, 'reach'],
  [FunnelStageName.ACQUIRED, 'acquired'],
  [FunnelStageName.ACTIVATED, 'activated'],
  [FunnelStageName.CONVERTED, 'converted'],
  [FunnelStageName.RETAINED, 'retained'],
];

const minus = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

/**
 * One period's funnel from its counts. The composite index is the
 * playbook's value ≈ (acquired ÷ market) × (converted ÷ acquired) ×
 * satisfaction × awareness, awareness = reach ÷ market: null, with the
 * reasons, when a factor is unknown (no market size set, no ratings, no one
 * acquired).
 */
export function funnelPeriod(counts: FunnelCounts, from: Date, to: Date, market: number | null, marketUnknown: string): FunnelPeriod {
  const stages = ORDER.map(([stage, key], i) => {
    const count = counts[key] as number;
    const before = i === 0 ? null : (counts[ORDER[i - 1][1]] as number);
    return { stage, count, rate: before ? count / before : null, countDelta: null, rateDelta: null };
  });
  const sat = satisfaction(counts);
  const awareness = market ? counts.reach / market : null;
  const unknown: string[] = [];
  if (!market) unknown.push(marketUnknown);
  if (sat === null) unknown.push('No ratings in the period: satisfaction is unknown.');
  if (counts.acquired === 0) unknown.push('No learner was acquired in the period: converted ÷ acquired is unknown.');
  const index = unknown.length === 0 ? (counts.acquired / market!) * (counts.converted / counts.acquired) * sat! * awareness! : null;
  return { from, to, stages, satisfaction: sat, ratings: counts.ratings, awareness, index, unknown };
}

/**
 * The alliance-impact figures: the promotion funnel, the satisfaction
 * model of joint offers (src/services/impact-model.ts) and the market
 * sizes awareness is measured against.
 */
export class ImpactService {
  constructor(private readonly alliances: AllianceService) {}

  /** The size of the market the brand, or one of its campaigns, targets; null clears it. */
  async setTargetMarketSize(ctx: RequestContext, size: number | null, campaignId: string | null): Promise<{ campaignId: string | null; size: number | null }> {
    if (size !== null && !(Number.isSafeInteger(size) && size >= 1)) throw badInput('size must be a whole number of learners, at least 1 (or null to clear it).');
    const manager = await ctx.manager();
    if (campaignId === null) {
      await manager.query(`update brands set target_market_size = $2 where id = $1`, [ctx.brandId, size]);
      return { campaignId, size };
    }
    const updated = isUuid(campaignId)
      ? await manager.query(`update campaigns set target_market_size = $3 where tenant_id = $1 and id = $2 returning id`, [ctx.brandId, campaignId, size])
      : [[]];
    if ((updated[0] as unknown[]).length === 0) throw notFound('Campaign');
    return { campaignId, size };
  }

  /** The funnel over [from, to) and the period of equal length before it, with deltas. */
  async funnel(ctx: RequestContext, from: Date, to: Date, allianceId: string | null, campaignId: string | null): Promise<Funnel> {
    if (!(from < to)) throw badInput('from must be earlier than to.');
    for (const [name, id] of [['allianceId', allianceId], ['campaignId', campaignId]] as const) {
      if (id !== null && !isUuid(id)) throw notFound(name === 'allianceId' ? 'Alliance' : 'Campaign');
    }
    void ctx.brandId; // FORBIDDEN for a platform admin: funnels belong to a brand or its alliance
    const before = new Date(from.getTime() - (to.getTime() - from.getTime()));
    const manager = await ctx.manager();
    const [{ funnel: row }]: { funnel: { current: FunnelCounts; previous: FunnelCounts } | null }[] = await manager.query(
      `select allied_funnel($1, $2, $3, $4, $5) as funnel`,
      [allianceId, campaignId, before, from, to],
    );
    if (!row) throw notFound(campaignId ? 'Campaign' : 'Alliance');
    const market = row.current.marketSize;
    const marketUnknown = campaignId
      ? 'No target market size is set for the campaign (setTargetMarketSize with its campaignId): awareness is unknown.'
      : allianceId
        ? "An alliance's market is its members' markets, which overlap: awareness needs a joint campaign's target market size (funnel with its campaignId)."
        : 'No target market size is set for your brand (setTargetMarketSize): awareness is unknown.';
    const current = funnelPeriod(row.current, from, to, market, marketUnknown);
    const previous = funnelPeriod(row.previous, before, from, market, marketUnknown);
    current.stages.forEach((s, i) => {
      s.countDelta = s.count - previous.stages[i].count;
      s.rateDelta = minus(s.rate, previous.stages[i].rate);
    });
    return {
      allianceId,
      campaignId,
      marketSize: market,
      current,
      previous,
      satisfactionDelta: minus(current.satisfaction, previous.satisfaction),
      awarenessDelta: minus(current.awareness, previous.awareness),
      indexDelta: minus(current.index, previous.index),
    };
  }

  /** Per bucket, each ACTIVE member's own satisfaction and the joint offer's, the uplift, and the fitted model. */
  async allianceImpact(ctx: RequestContext, allianceId: string, from: Date, to: Date, bucket: MetricsBucket): Promise<AllianceImpact> {
    const starts = bucketStarts(from, to, bucket);
    if (!isUuid(allianceId) || !(await this.alliances.isActiveMember(ctx, allianceId))) throw notFound('Alliance');
    const members = [...(await this.alliances.activeMemberIds(ctx, allianceId))].sort();
    const manager = await ctx.manager();
    const rows: { bucket_start: Date; brand_id: string | null; ratings: string; rating_sum: string; rating_squares: string }[] = await manager.query(
      `select bucket_start, brand_id, ratings, rating_sum, rating_squares from allied_alliance_satisfaction($1, $2, $3, $4)`,
      [allianceId, from, to, bucket.toLowerCase()],
    );
    const byKey = new Map(rows.map((r) => [`${new Date(r.bucket_start).getTime()}|${r.brand_id ?? ''}`, r]));
    const figure = (t: number, brandId: string | null): ImpactFigure => {
      const r = byKey.get(`${t}|${brandId ?? ''}`);
      return r ? reading(Number(r.ratings), Number(r.rating_sum), Number(r.rating_squares)) : { satisfaction: null, ratings: 0, variance: null };
    };
    const points: ImpactPoint[] = [];
    for (const t of starts) {
      const joint = figure(t, null);
      const own = members.map((brandId) => ({ brandId, ...figure(t, brandId) }));
      const rated = own.filter((m) => m.satisfaction !== null);
      const weight = rated.reduce((s, m) => s + m.ratings, 0);
      const mean = weight > 0 ? rated.reduce((s, m) => s + m.satisfaction! * m.ratings, 0) / weight : null;
      const usable = joint.ratings >= MIN_RATINGS && own.every((m) => m.ratings >= MIN_RATINGS);
      points.push({ bucketStart: new Date(t), joint, members: own, uplift: joint.satisfaction !== null && mean !== null ? joint.satisfaction - mean : null, usable });
    }
    const fitPoints: FitPoint[] = points
      .filter((p) => p.usable)
      .map((p) => ({ xs: p.members.map((m) => m.satisfaction!), xVariances: p.members.map((m) => m.variance ?? 0), y: p.joint.satisfaction! }));
    return { allianceId, from, to, bucket, memberIds: members, points, fit: fitSatisfaction(fitPoints, members.length) };
  }
}

export interface ImpactFigure {
  satisfaction: number | null;
  ratings: number;
  /** The sampling variance of `satisfaction` (its ratings' variance on 0..1 ÷ their number); null below two ratings. */
  variance: number | null;
}

export interface ImpactPoint {
  bucketStart: Date;
  joint: ImpactFigure;
  members: (ImpactFigure & { brandId: string })[];
  uplift: number | null;
  usable: boolean;
}

export interface AllianceImpact {
  allianceId: string;
  from: Date;
  to: Date;
  bucket: MetricsBucket;
  memberIds: string[];
  points: ImpactPoint[];
  fit: ReturnType<typeof fitSatisfaction>;
}

/** Satisfaction and its sampling variance from a count, a sum and a sum of squares of ratings 1..5. */
export function reading(n: number, sum: number, squares: number): ImpactFigure {
  if (n === 0) return { satisfaction: null, ratings: 0, variance: null };
  // On the 0..1 scale, u = (r − 1) / 4: Σu = (Σr − n) / 4, Σu² = (Σr² − 2Σr + n) / 16.
  const mean = (sum - n) / 4 / n;
  const meanSquare = (squares - 2 * sum + n) / 16 / n;
  return { satisfaction: mean, ratings: n, variance: n > 1 ? Math.max(0, meanSquare - mean * mean) / (n - 1) : null };
}
