import { badInput, notFound } from '../errors';
import type { CampaignMetrics } from '../schema/campaign.types';
import type { Money } from '../schema/common.types';
import { MetricsBucket, MetricsWindow } from '../entities/enums';
import type { MetricsPoint, MetricsSeries, MetricsSnapshot } from '../schema/metrics.types';
import type { LifecycleService } from './lifecycle.service';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AllianceService } from './alliance.service';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WINDOW_MS: Record<MetricsWindow, number> = {
  [MetricsWindow.LAST_HOUR]: HOUR,
  [MetricsWindow.LAST_24_HOURS]: DAY,
  [MetricsWindow.LAST_7_DAYS]: 7 * DAY,
  [MetricsWindow.LAST_30_DAYS]: 30 * DAY,
};
export const MAX_SERIES_POINTS = 2000;

/** One bucket's figures as the database aggregates them (allied_event_metrics). */
export interface Figures {
  purchases: number;
  refunds: number;
  impressions: number;
  clicks: number;
  ratings: number;
  ratingSum: number;
  learners: number;
  conversions: number;
  revenue: Record<string, string>;
}

const NONE: Figures = { purchases: 0, refunds: 0, impressions: 0, clicks: 0, ratings: 0, ratingSum: 0, learners: 0, conversions: 0, revenue: {} };

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

/** Satisfaction = (mean rating − 1) / 4, in 0..1; null without ratings. */
export const satisfaction = (f: Pick<Figures, 'ratings' | 'ratingSum'>) =>
  f.ratings > 0 ? (f.ratingSum / f.ratings - 1) / 4 : null;

/** Amounts per currency (as the database sums them, in text) as Money, in currency order. */
function moneyList(byCurrency: Record<string, string>): Money[] {
  return Object.entries(byCurrency).map(([currency, sum]) => {
    const amountMinor = Number(sum);
    if (!Number.isSafeInteger(amountMinor)) throw new Error(`${sum} ${currency} exceeds the safe integer range`);
    return { amountMinor, currency };
  });
}

const revenue = (f: Figures) => moneyList(f.revenue);

/** What allied_campaign_metrics returns for a campaign. */
interface CampaignFigures {
  impressions: number;
  clicks: number;
  conversions: number;
  revenue: Record<string, string>;
  spend: Record<string, string>;
}

/**
 * ROI = (revenue − spend) / spend, in the currency the campaign spent in.
 * Null when nothing was spent, or when spend is in several currencies (no
 * single figure without an exchange rate).
 */
export function roi(revenue: Money[], spend: Money[]): number | null {
  if (spend.length !== 1 || spend[0].amountMinor <= 0) return null;
  const [{ amountMinor: spent, currency }] = spend;
  const earned = revenue.find((m) => m.currency === currency)?.amountMinor ?? 0;
  return (earned - spent) / spent;
}

/** Start of the UTC bucket holding `t` (weeks start on Monday, as PostgreSQL's date_trunc). */
export function bucketStart(t: Date, bucket: MetricsBucket): Date {
  const d = new Date(t);
  d.setUTCMinutes(0, 0, 0);
  if (bucket === MetricsBucket.HOUR) return d;
  d.setUTCHours(0);
  if (bucket === MetricsBucket.DAY) return d;
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d;
}

const STEP: Record<MetricsBucket, number> = { HOUR, DAY, WEEK: 7 * DAY };

/**
 * The start (ms) of every bucket from the one holding `from` up to `to`
 * (exclusive); BAD_USER_INPUT for an empty range or more than
 * MAX_SERIES_POINTS buckets.
 */
export function bucketStarts(from: Date, to: Date, bucket: MetricsBucket): number[] {
  const { first, count } = bucketRange(from, to, bucket, MAX_SERIES_POINTS);
  return Array.from({ length: count }, (_, i) => first + i * STEP[bucket]);
}

/** The first bucket's start (ms) and the number of buckets over [from, to); BAD_USER_INPUT past `most`. */
function bucketRange(from: Date, to: Date, bucket: MetricsBucket, most: number): { first: number; count: number } {
  if (!(from < to)) throw badInput('from must be earlier than to.');
  const first = bucketStart(from, bucket).getTime();
  const count = Math.ceil((to.getTime() - first) / STEP[bucket]);
  if (count > most) throw badInput(`That is ${count} ${bucket} buckets; at most ${most}. Choose a larger bucket or a shorter range.`);
  return { first, count };
}

/** Buckets one export may stream (GET /exports/metrics.csv): over a century of hours. */
export const MAX_EXPORT_BUCKETS = 1_000_000;

/**
 * [from, to) cut into ranges of at most MAX_SERIES_POINTS buckets, each one
 * series() call: what an export streams, one range at a time, without
 * holding the rest. The first range starts at `from`, the others on bucket
 * boundaries, so the ranges' points are the points series() gives for
 * [from, to). BAD_USER_INPUT for an empty range or more than
 * MAX_EXPORT_BUCKETS buckets.
 */
export function seriesRanges(from: Date, to: Date, bucket: MetricsBucket): { from: Date; to: Date }[] {
  const { first, count } = bucketRange(from, to, bucket, MAX_EXPORT_BUCKETS);
  const ranges: { from: Date; to: Date }[] = [];
  for (let i = 0; i < count; i += MAX_SERIES_POINTS) {
    const end = first + (i + MAX_SERIES_POINTS) * STEP[bucket];
    ranges.push({ from: i === 0 ? from : new Date(first + i * STEP[bucket]), to: end < to.getTime() ? new Date(end) : to });
  }
  return ranges;
}

/** The window [at − length, at) ending now. */
export function windowOf(window: MetricsWindow): { at: Date; windowStart: Date } {
  const at = new Date();
  return { at, windowStart: new Date(at.getTime() - WINDOW_MS[window]) };
}

/** A snapshot from the database's figures for a window (none: all zero). */
export function snapshotOf(figures: Figures | null, at: Date, windowStart: Date): MetricsSnapshot {
  const f = figures ?? NONE;
  return {
    at,
    windowStart,
    revenue: revenue(f),
    purchases: f.purchases,
    refunds: f.refunds,
    impressions: f.impressions,
    clicks: f.clicks,
    ctr: ratio(f.clicks, f.impressions),
    conversions: f.conversions,
    conversionRate: ratio(f.conversions, f.clicks),
    satisfaction: satisfaction(f),
    ratings: f.ratings,
    activeLearners: f.learners,
  };
}

/** Revenue, engagement and satisfaction for the caller's brand, or for an alliance it is an ACTIVE member of. */
export class MetricsService {
  constructor(
    private readonly alliances: AllianceService,
    private readonly lifecycle: LifecycleService,
  ) {}

  async snapshot(ctx: RequestContext, window: MetricsWindow, allianceId?: string | null): Promise<MetricsSnapshot> {
    await this.checkScope(ctx, allianceId);
    const { at, windowStart } = windowOf(window);
    const [row] = await this.figures(ctx, allianceId, windowStart, at, null);
    // A brand's lifecycle counts are read only when asked for (MetricsSnapshotResolver); an alliance has none.
    return { ...snapshotOf(row?.figures ?? null, at, windowStart), lifecycle: allianceId ? null : undefined };
  }

  /** Every bucket from the one holding `from` up to `to` (exclusive), empty ones included. */
  async series(ctx: RequestContext, from: Date, to: Date, bucket: MetricsBucket, allianceId?: string | null): Promise<MetricsSeries> {
    const starts = bucketStarts(from, to, bucket);
    await this.checkScope(ctx, allianceId);
    const rows = await this.figures(ctx, allianceId, from, to, bucket.toLowerCase());
    const byStart = new Map(rows.map((r) => [new Date(r.bucket_start).getTime(), r.figures]));
    const points: MetricsPoint[] = [];
    for (const t of starts) {
      const f = byStart.get(t) ?? NONE;
      points.push({
        bucketStart: new Date(t),
        revenue: revenue(f),
        purchases: f.purchases,
        impressions: f.impressions,
        clicks: f.clicks,
        conversions: f.conversions,
        satisfaction: satisfaction(f),
        ratings: f.ratings,
      });
    }
    return { from, to, bucket, points };
  }

  /** Campaign.metrics, batched per request: everything attributed to each campaign since it began. */
  campaign(ctx: RequestContext) {
    return ctx.loader<string, CampaignMetrics>('metrics.campaign', async (ids) => {
      const manager = await ctx.manager();
      const rows: { id: string; figures: CampaignFigures | null }[] = await manager.query(
        `select id, allied_campaign_metrics(id) as figures from unnest($1::uuid[]) as id`,
        [ids],
      );
      const byId = new Map(rows.map((r) => [r.id, r.figures]));
      return ids.map((id) => {
        const f = byId.get(id);
        if (!f) return notFound('Campaign');
        const spend = moneyList(f.spend);
        const earned = moneyList(f.revenue);
        return {
          impressions: f.impressions,
          clicks: f.clicks,
          ctr: ratio(f.clicks, f.impressions),
          conversions: f.conversions,
          conversionRate: ratio(f.conversions, f.clicks),
          spend,
          revenue: earned,
          roi: roi(earned, spend),
        };
      });
    });
  }

  /**
   * A live snapshot as the caller's brand sees it, with the alliance's ACTIVE
   * members as that brand sees them (for the brand's own scope, the brand), in
   * one statement: the live hub asks this once per changed scope a second and
   * decides from `active` who may still receive it.
   */
  async liveSnapshot(ctx: RequestContext, window: MetricsWindow, allianceId: string | null): Promise<{ active: Set<string>; snapshot: MetricsSnapshot }> {
    const brandId = ctx.brandId;
    const { at, windowStart } = windowOf(window);
    const manager = await ctx.manager();
    // Issued together: one round trip on a pipelining connection, where each one is a wait for a busy event loop.
    const [[row], lifecycle] = await Promise.all([
      manager.query(
        `select (select coalesce(array_agg(m.brand_id::text), '{}') from alliance_members m where m.alliance_id = $1 and m.status = 'ACTIVE') as active,
                (select f.figures from allied_event_metrics($1, $2, $3, null) f) as figures`,
        [allianceId, windowStart, at],
      ) as Promise<{ active: string[]; figures: Figures | null }[]>,
      allianceId ? null : this.lifecycle.counts(ctx),
    ]);
    return { active: new Set(allianceId ? row.active : [brandId]), snapshot: { ...snapshotOf(row.figures, at, windowStart), lifecycle } };
  }

  private async checkScope(ctx: RequestContext, allianceId?: string | null): Promise<void> {
    if (allianceId == null) return;
    if (!isUuid(allianceId) || !(await this.alliances.isActiveMember(ctx, allianceId))) throw notFound('Alliance');
  }

  private async figures(ctx: RequestContext, allianceId: string | null | undefined, from: Date, to: Date, bucket: string | null) {
    void ctx.brandId; // FORBIDDEN for a platform admin: figures belong to a brand or its alliance
    const manager = await ctx.manager();
    return (await manager.query(`select bucket_start, figures from allied_event_metrics($1, $2, $3, $4)`, [
      allianceId ?? null,
      from,
      to,
      bucket,
    ])) as { bucket_start: Date; figures: Figures }[];
  }
}
