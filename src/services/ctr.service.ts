import { randomInt } from 'node:crypto';
import type { CampaignEntity, CreativeEntity } from '../entities';
import { CampaignStatus, ModelKind } from '../entities/enums';
import { badInput, notFound } from '../errors';
import { inDailyWindow, localClock, utcOffsetMs } from '../ml/ctr/clock';
import { impressionOf, loadCreativeContexts, loadLearnerFeatures, type CreativeContext, type LearnerActivity } from '../ml/ctr/data';
import { ctrPrior } from '../ml/ctr/train';
import type { ModelLayer } from '../ml/layer';
import type { ModelVersionRow } from '../ml/registry/registry';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { CampaignService } from './campaign.service';
import { Random } from '../ml/train/random';
import { TtlCache } from '../ml/ttl-cache';
import { thompsonPick } from './thompson';

/** Most learners one predictCtr call scores (one model call). */
export const MAX_CTR_LEARNERS = 1000;
/** Learners of the target segments Creative.predictedCtr averages over: the most recently seen. */
export const AUDIENCE_SAMPLE = 1000;
/**
 * The prior of a campaign's click rate: 2%, worth 100 impressions; a
 * creative's prior is its campaign's smoothed rate, worth 50 impressions.
 */
export const BASE_CTR = 0.02;
export const BASE_WEIGHT = 100;
export const CAMPAIGN_WEIGHT = 50;
/**
 * Observed counts are statistics of many events: one read serves a brand's
 * view of a campaign for this long (a fresh count per request cost more
 * than everything else in bestCreative together). Creatives never change,
 * and what a campaign promotes rarely does: their features are kept longer.
 */
export const COUNTS_TTL_MS = 30_000;
export const CONTEXT_TTL_MS = 60_000;

export type CtrSource = 'MODEL' | 'PRIOR';

export interface CtrPredictions {
  predictions: { learnerId: string; probability: number }[];
  source: CtrSource;
  version: ModelVersionRow | null;
}

export type BestCreativeReason =
  | 'PREDICTED_CTR'
  | 'OBSERVED_CTR'
  | 'EXPLORATION'
  | 'EXPERIMENT'
  | 'CAMPAIGN_NOT_ACTIVE'
  | 'NOT_STARTED'
  | 'ENDED'
  | 'OUTSIDE_DELIVERY_WINDOW'
  | 'NO_CREATIVES';

export interface BestCreativeResult {
  creative: CreativeEntity | null;
  probability: number | null;
  reason: BestCreativeReason;
  explanation: string;
  /** The moment judged, in the campaign's time zone (ISO 8601 with its offset). */
  localTime: string;
  experimentId: string | null;
  version: ModelVersionRow | null;
}

/** How serving meets a running experiment (src/services/experiment.service.ts). */
export interface ExperimentRouting {
  armFor(
    ctx: RequestContext,
    target: { campaignId: string } | { modelKind: ModelKind },
    learnerId: string,
  ): Promise<{ experimentId: string; arm: number; creativeId: string | null; modelVersionId: string | null } | null>;
}

/** A learner as a CTR impression sees them now. */
type LearnerNow = { segment: string | null } & LearnerActivity;

interface CreativeCounts {
  clicks: number;
  impressions: number;
}

interface Priors {
  campaignRate: number;
  byCreative: Map<string, CreativeCounts & { rate: number }>;
}

/**
 * Click-through rates: the brand's active CTR model (a factorisation
 * machine served from its ONNX graph) where there is one, otherwise a
 * smoothed prior from the observed counts; the creative to show a learner
 * now; and the expected rate of a creative for its campaign's audience.
 * Only the caller's own learners are ever scored; a joint campaign's
 * counts come from an aggregate function across its members.
 */
export class CtrService {
  private readonly random = new Random(randomInt(2 ** 31));
  private readonly counts = new TtlCache<Priors>(COUNTS_TTL_MS);
  private readonly contextCache = new TtlCache<CreativeContext | null>(CONTEXT_TTL_MS);

  constructor(
    private readonly models: ModelLayer,
    private readonly campaigns: CampaignService,
    private readonly options: { explorationShare: number; random?: Random },
    private readonly experiments: ExperimentRouting | null = null,
  ) {}

  /** The click probability of each learner for a creative at `at` (now by default); one model call. */
  async predict(ctx: RequestContext, creativeId: string, learnerIds: readonly string[], at: Date = new Date()): Promise<CtrPredictions> {
    if (learnerIds.length > MAX_CTR_LEARNERS) throw badInput(`At most ${MAX_CTR_LEARNERS} learnerIds per call; got ${learnerIds.length}.`);
    const creative = await this.campaigns.creative(ctx, creativeId);
    if (!creative) throw notFound('Creative');
    const unique = [...new Set(learnerIds)];
    const learners = await loadLearnerFeatures(ctx, unique.filter(isUuid), at);
    const unknown = unique.filter((id) => !learners.has(id));
    if (unknown.length) {
      const shown = unknown.slice(0, 5).join(', ');
      throw badInput(`learnerIds: ${unknown.length} ${unknown.length === 1 ? 'is not a learner' : 'are not learners'} of this brand (${shown}${unknown.length > 5 ? ', …' : ''}).`);
    }
    const active = await this.models.activeVersion(ctx, ModelKind.CTR);
    const [context] = await this.contexts(ctx, [creative.id]);
    if (active && context) {
      const scores = await this.score(ctx, active, unique.map((id) => impressionOf(context, at.getTime(), learners.get(id)!)));
      if (scores) {
        const byId = new Map(unique.map((id, i) => [id, scores[i]]));
        return { predictions: learnerIds.map((id) => ({ learnerId: id, probability: byId.get(id)! })), source: 'MODEL', version: active };
      }
    }
    const priors = await this.priors(ctx, creative.campaignId);
    const rate = priors.byCreative.get(creative.id)?.rate ?? priors.campaignRate;
    return { predictions: learnerIds.map((id) => ({ learnerId: id, probability: rate })), source: 'PRIOR', version: null };
  }

  /** The campaign's expected click rate by the active CTR model: the mean of its creatives' (audienceCtr); null without a model or creatives. */
  async campaignPredictedCtr(ctx: RequestContext, campaignId: string): Promise<number | null> {
    if (!(await this.models.activeVersion(ctx, ModelKind.CTR))) return null;
    const creatives = await this.campaigns.creatives(ctx).load(campaignId);
    if (creatives.length === 0) return null;
    const rates = await Promise.all(creatives.map((c) => this.audienceCtr(ctx, c)));
    return rates.reduce((a, b) => a + b, 0) / rates.length;
  }

  /**
   * The creative's expected click rate for its campaign's audience now: the
   * mean prediction over the brand's most recently seen learners in the
   * campaign's target segments (all learners when it targets none), up to
   * AUDIENCE_SAMPLE; with no such learner, the mean over one learner per
   * target segment with no recent activity; the prior without a model.
   */
  async audienceCtr(ctx: RequestContext, creative: CreativeEntity): Promise<number> {
    const campaign = await this.campaigns.get(ctx, creative.campaignId);
    const active = await this.models.activeVersion(ctx, ModelKind.CTR);
    if (campaign && active) {
      const [context] = await this.contexts(ctx, [creative.id]);
      if (context) {
        const now = Date.now();
        const audience = await this.audience(ctx, campaign);
        const impressions = audience.length
          ? audience.map((learner) => impressionOf(context, now, learner))
          : (campaign.targetSegments.length ? campaign.targetSegments : [null]).map((segment) =>
              impressionOf(context, now, { segment, views30d: 0, purchases30d: 0, interests: [] }),
            );
        const scores = await this.score(ctx, active, impressions);
        if (scores) return scores.reduce((a, b) => a + b, 0) / scores.length;
      }
    }
    const priors = await this.priors(ctx, creative.campaignId);
    return priors.byCreative.get(creative.id)?.rate ?? priors.campaignRate;
  }

  /**
   * The creative to show `learnerId` now (or at `at`) in a campaign: none
   * unless the campaign is ACTIVE, started, not ended and inside its daily
   * window in its time zone; a running creative experiment's arm; else, in
   * the configured exploration share of answers, the winner of a Thompson
   * draw on the creatives' observed clicks; else the highest predicted
   * click rate (the model, or the prior without one).
   */
  async bestCreative(ctx: RequestContext, campaignId: string, learnerId: string, at: Date = new Date()): Promise<BestCreativeResult> {
    const campaign = await this.campaigns.get(ctx, campaignId);
    if (!campaign) throw notFound('Campaign');
    const learner = isUuid(learnerId) ? (await loadLearnerFeatures(ctx, [learnerId], at)).get(learnerId) : undefined;
    if (!learner) throw notFound('Learner');
    const base = { localTime: localIso(campaign.timeZone, at), experimentId: null, version: null, creative: null, probability: null };
    const closed = deliveryProblem(campaign, at);
    if (closed) return { ...base, ...closed };
    const creatives = await this.campaigns.creatives(ctx).load(campaign.id);
    if (creatives.length === 0) return { ...base, reason: 'NO_CREATIVES', explanation: 'The campaign has no creatives yet.' };

    const arm = await this.experiments?.armFor(ctx, { campaignId: campaign.id }, learnerId);
    const armCreative = arm?.creativeId ? creatives.find((c) => c.id === arm.creativeId) : undefined;
    if (arm && armCreative) {
      return {
        ...base,
        creative: armCreative,
        reason: 'EXPERIMENT',
        experimentId: arm.experimentId,
        explanation: `Experiment ${arm.experimentId} assigns this learner to arm ${arm.arm}.`,
      };
    }
    const priors = await this.priors(ctx, campaign.id);
    const counts = creatives.map((c) => priors.byCreative.get(c.id) ?? { clicks: 0, impressions: 0, rate: priors.campaignRate });
    const version = await this.ctrVersion(ctx, learnerId);
    let scores: ArrayLike<number> | null = null;
    if (version.row) {
      const contexts = await this.contexts(ctx, creatives.map((c) => c.id));
      const impressions = contexts.filter((c): c is CreativeContext => c !== null);
      if (impressions.length === creatives.length) scores = await this.score(ctx, version.row, impressions.map((c) => impressionOf(c, at.getTime(), learner)));
    }
    const predicted = (i: number) => (scores ? scores[i] : counts[i].rate);
    const random = this.options.random ?? this.random;
    if (creatives.length > 1 && random.next() < this.options.explorationShare) {
      const prior = { a: priors.campaignRate * CAMPAIGN_WEIGHT, b: (1 - priors.campaignRate) * CAMPAIGN_WEIGHT };
      const i = thompsonPick(counts, prior, random);
      return {
        ...base,
        creative: creatives[i],
        probability: predicted(i),
        reason: 'EXPLORATION',
        experimentId: version.experimentId,
        version: scores ? version.row : null,
        explanation: `Exploring (${Math.round(this.options.explorationShare * 100)}% of answers): this creative won a Thompson draw on its ${counts[i].clicks} clicks in ${counts[i].impressions} impressions.`,
      };
    }
    let best = 0;
    for (let i = 1; i < creatives.length; i++) if (predicted(i) > predicted(best)) best = i;
    return {
      ...base,
      creative: creatives[best],
      probability: predicted(best),
      reason: scores ? 'PREDICTED_CTR' : 'OBSERVED_CTR',
      experimentId: version.experimentId,
      version: scores ? version.row : null,
      explanation: scores
        ? `Highest click probability for this learner now by CTR model ${version.row!.id}: ${percent(predicted(best))}.`
        : `No CTR model yet: highest smoothed observed click rate, ${percent(predicted(best))} (${counts[best].clicks} clicks in ${counts[best].impressions} impressions).`,
    };
  }

  /** The CTR version for this learner: a running CTR experiment's arm, else the active one. */
  private async ctrVersion(ctx: RequestContext, learnerId: string): Promise<{ row: ModelVersionRow | null; experimentId: string | null }> {
    const arm = await this.experiments?.armFor(ctx, { modelKind: ModelKind.CTR }, learnerId);
    if (arm?.modelVersionId) {
      const row = await this.models.registry.get(ctx, arm.modelVersionId);
      if (row && row.status === 'READY') return { row, experimentId: arm.experimentId };
    }
    return { row: await this.models.activeVersion(ctx, ModelKind.CTR), experimentId: null };
  }

  /** Scores impressions with a version; null when its artifact fails its check (it is then forgotten and the prior serves). */
  private score(ctx: RequestContext, version: ModelVersionRow, impressions: Parameters<ModelLayer['ctr']['predict']>[1]): Promise<Float32Array | null> {
    return this.models.withServed(ctx, version, (served) => this.models.ctr.predict(served, impressions));
  }

  /**
   * Observed counts per creative of a campaign (every member's traffic, as
   * counts) and the smoothed rates. Call only after the caller is known to
   * see the campaign: the cache is per brand and campaign.
   */
  private priors(ctx: RequestContext, campaignId: string): Promise<Priors> {
    return this.counts.get(`${ctx.brandId}:${campaignId}`, async () => {
      const manager = await ctx.manager();
      const rows: { creative_id: string; impressions: string; clicks: string }[] = await manager.query(
        `select creative_id, impressions, clicks from allied_creative_counts($1)`,
        [campaignId],
      );
      let clicks = 0;
      let impressions = 0;
      for (const r of rows) {
        clicks += Number(r.clicks);
        impressions += Number(r.impressions);
      }
      const campaignRate = ctrPrior(Math.min(clicks, impressions), impressions, BASE_CTR * BASE_WEIGHT, BASE_WEIGHT);
      const byCreative = new Map(
        rows.map((r) => {
          const n = Number(r.impressions);
          const c = Math.min(Number(r.clicks), n);
          return [r.creative_id, { clicks: c, impressions: n, rate: ctrPrior(c, n, campaignRate * CAMPAIGN_WEIGHT, CAMPAIGN_WEIGHT) }];
        }),
      );
      return { campaignRate, byCreative };
    });
  }

  /** What each creative contributes to its impressions' features, cached per brand and creative (null where it cannot read it). */
  private contexts(ctx: RequestContext, ids: readonly string[]): Promise<(CreativeContext | null)[]> {
    return Promise.all(
      ids.map((id) => this.contextCache.get(`${ctx.brandId}:${id}`, async () => (await loadCreativeContexts(ctx, [id])).get(id) ?? null)),
    );
  }

  /**
   * The brand's most recently seen learners in the campaign's target
   * segments (or all), with their features now: read once per request and
   * campaign, so a campaign's creatives { predictedCtr } share one read.
   */
  private audience(ctx: RequestContext, campaign: CampaignEntity): Promise<LearnerNow[]> {
    return ctx.loader<string, LearnerNow[]>('ctr.audience', (ids) => Promise.all(ids.map((id) => this.readAudience(ctx, id)))).load(campaign.id);
  }

  private async readAudience(ctx: RequestContext, campaignId: string): Promise<LearnerNow[]> {
    const campaign = await this.campaigns.get(ctx, campaignId);
    if (!campaign) return [];
    const params: unknown[] = [ctx.brandId, AUDIENCE_SAMPLE];
    let segments = '';
    if (campaign.targetSegments.length) {
      params.push(campaign.targetSegments);
      segments = `and segment = any($3::text[])`;
    }
    const rows: { id: string }[] = await (await ctx.manager()).query(
      `select id from learners where tenant_id = $1 ${segments} order by created_at desc, id limit $2`,
      params,
    );
    return [...(await loadLearnerFeatures(ctx, rows.map((r) => r.id), new Date())).values()];
  }
}

/** Why nothing of the campaign may be shown at `at`, or null when it may. */
export function deliveryProblem(campaign: CampaignEntity, at: Date): { reason: BestCreativeReason; explanation: string } | null {
  if (campaign.status !== CampaignStatus.ACTIVE) {
    return { reason: 'CAMPAIGN_NOT_ACTIVE', explanation: `The campaign is ${campaign.status}; only an ACTIVE campaign delivers.` };
  }
  if (at < campaign.startsAt) return { reason: 'NOT_STARTED', explanation: `The campaign starts at ${campaign.startsAt.toISOString()}.` };
  if (campaign.endsAt && at >= campaign.endsAt) return { reason: 'ENDED', explanation: `The campaign ended at ${campaign.endsAt.toISOString()}.` };
  if (campaign.windowStartHour != null && campaign.windowEndHour != null) {
    const { hourOfDay } = localClock(campaign.timeZone, at.getTime());
    if (!inDailyWindow(hourOfDay, campaign.windowStartHour, campaign.windowEndHour)) {
      return {
        reason: 'OUTSIDE_DELIVERY_WINDOW',
        explanation: `It is ${localIso(campaign.timeZone, at).slice(11, 16)} in ${campaign.timeZone}; the campaign delivers from ${campaign.windowStartHour}:00 to ${campaign.windowEndHour}:59 there.`,
      };
    }
  }
  return null;
}

/** `at` in the zone, as ISO 8601 with the zone's offset, e.g. 2026-12-01T21:30:00.000+08:00. */
export function localIso(timeZone: string, at: Date): string {
  const offset = utcOffsetMs(timeZone, at.getTime());
  const local = new Date(at.getTime() + offset).toISOString().slice(0, -1);
  const minutes = Math.round(offset / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const percent = (p: number) => `${(p * 100).toFixed(2)}%`;
