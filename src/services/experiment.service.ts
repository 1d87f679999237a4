import crypto from 'node:crypto';
import { ModelKind, ModelStatus, CampaignStatus, EventType } from '../entities/enums';
import { AlliedError, badInput, conflict, forbidden, notFound, PG, pgCode } from '../errors';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { CampaignService } from './campaign.service';
import type { AfterStoreHook, StoredEvent } from './event.service';
import { assignArm, compareProportions, type ArmCounts } from './experiment-stats';
import type { ModelService } from './model.service';
import { newestFirst, paginate, type Page, type PageArgs } from './pagination';
import { ownOrJoint } from './visibility';

/**
 * A/B experiments: a brand splits its learners between two or more arms (model
 * versions of one kind, or creatives of one of its campaigns), arm 0 being
 * the control.
 *
 * - **Assignment** is `assignArm(experimentId, learnerId, weights)`: a hash,
 *   so the same learner is always in the same arm without any stored state,
 *   and serving (`armFor`) and recording agree by construction.
 * - **Recording**: the after-store hook (`afterStore`) writes, in the events'
 *   own transaction, one `experiment_assignments` row per event a RUNNING
 *   experiment affects, with the learner's arm. A MODEL experiment affects
 *   the brand's IMPRESSION, CLICK, ENROLL and PURCHASE events; a CREATIVE
 *   one the IMPRESSION, CLICK and PURCHASE events naming its campaign (or a
 *   creative of it), and purchases naming none that the learner's last click
 *   attributes to it when they are stored. Only events occurring at or after
 *   the experiment's start count; an ENDED experiment records nothing.
 * - **Figures** per arm, in learners (the unit of assignment): exposures
 *   (learners with an affected event; for a CREATIVE experiment, with an
 *   IMPRESSION), and of them those who clicked and who purchased, with their
 *   purchases per currency. Treatment arms are compared with the control by
 *   `compareProportions`. A joint campaign's experiment counts its alliance
 *   members' traffic too, read as aggregates only (allied_experiment_figures).
 */

export type ExperimentKind = 'MODEL' | 'CREATIVE';
export type ExperimentStatus = 'RUNNING' | 'ENDED';
export type ExperimentMetric = 'CLICK_RATE' | 'CONVERSION_RATE';

/** Experiments serve per learner, so only these kinds can be compared. */
export const EXPERIMENT_MODEL_KINDS: readonly ModelKind[] = [ModelKind.RECOMMENDER, ModelKind.CTR];
export const MIN_ARMS = 2;
export const MAX_ARMS = 10;
/** The confidence of every reported interval, and 1 − the significance level of its test. */
export const CONFIDENCE = 0.95;

/**
 * The metric a promotion is decided by: a recommender is there to sell
 * courses, so its arms are judged by conversion (learners who purchased);
 * CTR models and creatives are there to be clicked, so by click rate.
 */
export function primaryMetric(kind: ExperimentKind, modelKind: ModelKind | null): ExperimentMetric {
  return kind === 'MODEL' && modelKind === ModelKind.RECOMMENDER ? 'CONVERSION_RATE' : 'CLICK_RATE';
}

const MODEL_EVENTS: ReadonlySet<string> = new Set([EventType.IMPRESSION, EventType.CLICK, EventType.ENROLL, EventType.PURCHASE]);
const CREATIVE_EVENTS: ReadonlySet<string> = new Set([EventType.IMPRESSION, EventType.CLICK, EventType.PURCHASE]);

export interface ExperimentRow {
  id: string;
  brandId: string;
  allianceId: string | null;
  name: string;
  kind: ExperimentKind;
  modelKind: ModelKind | null;
  campaignId: string | null;
  status: ExperimentStatus;
  startedAt: Date;
  endedAt: Date | null;
  outcome: ExperimentOutcome | null;
  createdBy: string;
  createdAt: Date;
}

export interface ArmDefinition {
  arm: number;
  weight: number;
  modelVersionId: string | null;
  creativeId: string | null;
}

/** What endExperiment decided; stored with the experiment. */
export interface ExperimentOutcome {
  promoteRequested: boolean;
  metric: ExperimentMetric;
  /** The treatment arm whose primary metric beat the control's significantly (the largest lift, if several), or null. */
  winningArm: number | null;
  /** Whether the winning arm's model version was activated. */
  promoted: boolean;
  reason: string;
}

export interface ArmComparison {
  rateControl: number;
  rateTreatment: number;
  absoluteLift: number;
  relativeLift: number | null;
  ciLow: number;
  ciHigh: number;
  pValue: number;
  significant: boolean;
}

export interface ArmReport extends ArmDefinition {
  control: boolean;
  /** weight / Σ weights: the share of learners the arm is meant to get. */
  share: number;
  exposures: number;
  clicks: number;
  conversions: number;
  revenue: { amountMinor: number; currency: string }[];
  clickRate: number;
  conversionRate: number;
  /** Against the control; null for the control itself. */
  clickLift: ArmComparison | null;
  conversionLift: ArmComparison | null;
}

export interface ExperimentTarget {
  modelKind?: ModelKind | null;
  modelVersionIds?: readonly string[] | null;
  campaignId?: string | null;
  creativeIds?: readonly string[] | null;
}

export interface CreateExperimentSpec extends ExperimentTarget {
  name: string;
  weights?: readonly number[] | null;
}

/** A RUNNING experiment the caller's events may be recorded under, with its arms. */
interface Running {
  id: string;
  brandId: string;
  kind: ExperimentKind;
  modelKind: ModelKind | null;
  campaignId: string | null;
  startedAt: Date;
  arms: ArmDefinition[];
  weights: number[];
}

interface Figures {
  exposures: number;
  clicks: number;
  conversions: number;
  revenue: { amountMinor: number; currency: string }[];
}

const COLUMNS = `x.tenant_id, x.id, x.alliance_id, x.name, x.kind, x.model_kind, x.campaign_id, x.status, x.started_at, x.ended_at,
  x.outcome, x.created_by, x.created_at`;

function fromRow(r: Record<string, unknown>): ExperimentRow {
  return {
    id: r.id as string,
    brandId: r.tenant_id as string,
    allianceId: (r.alliance_id as string | null) ?? null,
    name: r.name as string,
    kind: r.kind as ExperimentKind,
    modelKind: (r.model_kind as ModelKind | null) ?? null,
    campaignId: (r.campaign_id as string | null) ?? null,
    status: r.status as ExperimentStatus,
    startedAt: new Date(r.started_at as string),
    endedAt: r.ended_at ? new Date(r.ended_at as string) : null,
    outcome: (r.outcome as ExperimentOutcome | null) ?? null,
    createdBy: r.created_by as string,
    createdAt: new Date(r.created_at as string),
  };
}

export class ExperimentService {
  constructor(
    private readonly campaigns: CampaignService,
    private readonly models: ModelService,
  ) {}

  /**
   * Records the arms of stored events; pass it to EventService with the other
   * after-store hooks. The running experiments are read while the events are
   * written (the hook's `prepare`), in the same round trip.
   */
  readonly afterStore: AfterStoreHook = Object.assign((ctx: RequestContext, stored: readonly StoredEvent[]) => this.recordArms(ctx, stored), {
    prepare: (ctx: RequestContext, types: ReadonlySet<string>) => {
      if ([...types].some((t) => MODEL_EVENTS.has(t) || CREATIVE_EVENTS.has(t))) {
        // The hook loads the same key and sees any failure; this only keeps the early one handled.
        this.running(ctx).load('all').catch(() => undefined);
      }
    },
  });

  /**
   * Starts a RUNNING experiment. Its arms are READY versions of the brand's
   * own of one kind (RECOMMENDER or CTR), or creatives of one campaign the
   * brand owns (a joint campaign's experiment is visible to the alliance's
   * ACTIVE members and counts their traffic). Weights default to equal.
   * At most one RUNNING experiment per brand and model kind, and per
   * campaign (CONFLICT).
   */
  async create(ctx: RequestContext, spec: CreateExperimentSpec): Promise<ExperimentRow> {
    const target = await this.resolveTarget(ctx, spec);
    const weights = checkWeights(spec.weights, target.arms.length);
    await this.refuseSecondRunning(ctx, target);
    const manager = await ctx.manager();
    const id = crypto.randomUUID();
    try {
      await manager.query(
        `insert into experiments (tenant_id, id, alliance_id, name, kind, model_kind, campaign_id, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [ctx.brandId, id, target.allianceId, spec.name.trim(), target.kind, target.modelKind, target.campaignId, ctx.caller.subject.slice(0, 200)],
      );
    } catch (error) {
      if (pgCode(error) === PG.uniqueViolation) throw conflict(`Another experiment is already RUNNING for ${describeTarget(target)}; end it first.`);
      throw error;
    }
    await manager.query(
      `insert into experiment_arms (tenant_id, experiment_id, arm, alliance_id, weight, model_version_id, creative_id)
       select $1, $2, u.ord - 1, $3, u.weight, u.version, u.creative
       from unnest($4::float8[], $5::uuid[], $6::uuid[]) with ordinality as u(weight, version, creative, ord)`,
      [
        ctx.brandId, id, target.allianceId, weights,
        target.arms.map((a) => a.modelVersionId), target.arms.map((a) => a.creativeId),
      ],
    );
    this.running(ctx).clearAll();
    return this.reload(ctx, id);
  }

  /**
   * Ends a RUNNING experiment of the caller's brand (ENDED, endedAt now) and
   * records its outcome. The winner is the treatment arm whose primary metric
   * (see primaryMetric) beats the control's with p below 0.05 divided by the
   * number of treatment arms (Bonferroni: several arms tried at once must not
   * make a lucky one likelier), the largest lift if several do. With
   * `promote` on a MODEL experiment, the winner's version is activated through
   * ModelService.activate; otherwise, or without a winner, nothing is, and
   * the outcome says why.
   */
  async end(ctx: RequestContext, id: string, promote: boolean): Promise<ExperimentRow> {
    const experiment = await this.owned(ctx, id);
    const manager = await ctx.manager();
    // Locked first, so of two concurrent ends one waits and then finds it ENDED.
    const [locked] = await manager.query(
      `select status from experiments where tenant_id = $1 and id = $2 for update`,
      [ctx.brandId, experiment.id],
    );
    if (locked?.status !== 'RUNNING') throw conflict('The experiment has already ENDED.');
    await manager.query(
      `update experiments set status = 'ENDED', ended_at = greatest(now(), started_at) where tenant_id = $1 and id = $2`,
      [ctx.brandId, experiment.id],
    );
    this.forget(ctx, experiment.id);
    const current = await this.reload(ctx, experiment.id);
    const outcome = await this.decide(ctx, current, await this.report(ctx, current), promote);
    await manager.query(`update experiments set outcome = $3 where tenant_id = $1 and id = $2`, [ctx.brandId, experiment.id, outcome]);
    this.forget(ctx, experiment.id);
    return this.reload(ctx, experiment.id);
  }

  /** An experiment the caller may read (its own, or a joint campaign's of its alliances), or null. */
  async get(ctx: RequestContext, id: string): Promise<ExperimentRow | null> {
    return isUuid(id) ? this.byId(ctx).load(id) : null;
  }

  /** The caller's experiments and those of its alliances' joint campaigns, newest first. */
  async list(ctx: RequestContext, args: PageArgs & { status?: ExperimentStatus | null }): Promise<Page<ExperimentRow>> {
    const params: unknown[] = [ctx.brandId];
    const where = [await ownOrJoint(ctx, 'x', params)];
    if (args.status) {
      params.push(args.status);
      where.push(`x.status = $${params.length}`);
    }
    return paginate(
      await ctx.manager(),
      { list: 'experiments', select: COLUMNS, from: 'experiments x', where, params, ...newestFirst<ExperimentRow>('x'), map: fromRow },
      args,
    );
  }

  /** Each arm's definition, figures and comparison with the control, arm 0 first; batched per request. */
  async report(ctx: RequestContext, experiment: ExperimentRow): Promise<ArmReport[]> {
    const [arms, figures] = await Promise.all([this.armsOf(ctx).load(experiment.id), this.figures(ctx).load(experiment.id)]);
    const total = arms.reduce((s, a) => s + a.weight, 0);
    const counted = arms.map((a) => figures.get(a.arm) ?? { exposures: 0, clicks: 0, conversions: 0, revenue: [] });
    const control = counted[0];
    return arms.map((a, i) => {
      const f = counted[i];
      return {
        ...a,
        control: i === 0,
        share: a.weight / total,
        exposures: f.exposures,
        clicks: f.clicks,
        conversions: f.conversions,
        revenue: f.revenue,
        clickRate: rate(f.clicks, f.exposures),
        conversionRate: rate(f.conversions, f.exposures),
        clickLift: i > 0 ? compare(control, f, 'clicks') : null,
        conversionLift: i > 0 ? compare(control, f, 'conversions') : null,
      };
    });
  }

  /**
   * The RUNNING experiment's arm for this learner, or null when none runs for
   * the target. `learnerId` is the learner's id (Learner.id, as events store
   * it); the arm is the one the after-store hook records for the learner's
   * events. A campaign target finds the caller's own experiment on it or a
   * joint campaign's of its alliances; a model kind the brand's own. Running
   * experiments are read once per request.
   */
  async armFor(
    ctx: RequestContext,
    target: { campaignId: string } | { modelKind: ModelKind },
    learnerId: string,
  ): Promise<{ experimentId: string; arm: number; creativeId: string | null; modelVersionId: string | null } | null> {
    const running = await this.running(ctx).load('all');
    const experiment = running.find((x) =>
      'campaignId' in target
        ? x.kind === 'CREATIVE' && x.campaignId === target.campaignId
        : x.kind === 'MODEL' && x.modelKind === target.modelKind && x.brandId === ctx.brandId,
    );
    if (!experiment) return null;
    const arm = assignArm(experiment.id, learnerId, experiment.weights);
    const chosen = experiment.arms[arm];
    return { experimentId: experiment.id, arm, creativeId: chosen.creativeId, modelVersionId: chosen.modelVersionId };
  }

  /** Arm definitions of an experiment, by arm; batched per request. */
  private armsOf(ctx: RequestContext) {
    return ctx.loader<string, ArmDefinition[]>('experiment.arms', async (ids) => {
      const params: unknown[] = [ctx.brandId, ids];
      const visible = await ownOrJoint(ctx, 'a', params);
      const rows: { experiment_id: string; arm: number; weight: number; model_version_id: string | null; creative_id: string | null }[] =
        await (await ctx.manager()).query(
          `select a.experiment_id, a.arm, a.weight, a.model_version_id, a.creative_id from experiment_arms a
           where a.experiment_id = any($2::uuid[]) and ${visible} order by a.arm`,
          params,
        );
      return ids.map((id) =>
        rows
          .filter((r) => r.experiment_id === id)
          .map((r) => ({ arm: r.arm, weight: Number(r.weight), modelVersionId: r.model_version_id, creativeId: r.creative_id })),
      );
    });
  }

  // --- recording -----------------------------------------------------------------

  /** The after-store hook: one assignment row per (RUNNING experiment, stored event it affects). */
  private async recordArms(ctx: RequestContext, stored: readonly StoredEvent[]): Promise<void> {
    const candidates = stored.filter((e) => MODEL_EVENTS.has(e.type) || CREATIVE_EVENTS.has(e.type));
    if (candidates.length === 0) return;
    const running = await this.running(ctx).load('all');
    if (running.length === 0) return;
    const clicked = running.some((x) => x.kind === 'CREATIVE') ? await this.lastClicks(ctx, candidates) : new Map<string, string>();
    const rows: { experiment: Running; event: StoredEvent; arm: number }[] = [];
    for (const experiment of running) {
      for (const event of candidates) {
        if (affects(ctx.brandId, experiment, event, clicked.get(event.id) ?? null)) {
          rows.push({ experiment, event, arm: assignArm(experiment.id, event.learner, experiment.weights) });
        }
      }
    }
    if (rows.length === 0) return;
    await (await ctx.manager()).query(
      `insert into experiment_assignments (tenant_id, experiment_id, event_id, experiment_tenant_id, arm)
       select $1, u.experiment, u.event, u.owner, u.arm from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::smallint[]) as u(experiment, event, owner, arm)`,
      [ctx.brandId, rows.map((r) => r.experiment.id), rows.map((r) => r.event.id), rows.map((r) => r.experiment.brandId), rows.map((r) => r.arm)],
    );
  }

  /** Purchases naming no campaign, by event id: the campaign their learner's last click attributes them to. */
  private async lastClicks(ctx: RequestContext, events: readonly StoredEvent[]): Promise<Map<string, string>> {
    const purchases = events.filter((e) => e.type === EventType.PURCHASE && e.campaign === null);
    if (purchases.length === 0) return new Map();
    const rows: { ord: number; campaign_id: string | null }[] = await (await ctx.manager()).query(
      `select ord, campaign_id from allied_experiment_last_clicks($1::uuid[], $2::timestamptz[])`,
      [purchases.map((p) => p.learner), purchases.map((p) => p.at)],
    );
    const byEvent = new Map<string, string>();
    for (const r of rows) if (r.campaign_id) byEvent.set(purchases[r.ord - 1].id, r.campaign_id);
    return byEvent;
  }

  /** The RUNNING experiments the caller's events may fall under, with their arms; read once per request. */
  private running(ctx: RequestContext) {
    return ctx.loader<'all', Running[]>('experiment.running', async (keys) => {
      const params: unknown[] = [ctx.brandId];
      const visible = await ownOrJoint(ctx, 'x', params);
      const rows: Record<string, unknown>[] = await (await ctx.manager()).query(
        `select ${COLUMNS} from experiments x where x.status = 'RUNNING' and ${visible} order by x.created_at, x.id`,
        params,
      );
      const running = await Promise.all(
        rows.map(fromRow).map(async (x): Promise<Running> => {
          const arms = await this.armsOf(ctx).load(x.id);
          return { ...x, arms, weights: arms.map((a) => a.weight) };
        }),
      );
      return keys.map(() => running);
    });
  }

  // --- reading -------------------------------------------------------------------

  private byId(ctx: RequestContext) {
    return ctx.loader<string, ExperimentRow | null>('experiment.byId', async (ids) => {
      const params: unknown[] = [ctx.brandId, ids];
      const visible = await ownOrJoint(ctx, 'x', params);
      const rows: Record<string, unknown>[] = await (await ctx.manager()).query(
        `select ${COLUMNS} from experiments x where x.id = any($2::uuid[]) and ${visible}`,
        params,
      );
      const byId = new Map(rows.map((r) => [r.id as string, fromRow(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /** Figures per arm, by experiment; one call of allied_experiment_figures per batch. */
  private figures(ctx: RequestContext) {
    return ctx.loader<string, Map<number, Figures>>('experiment.figures', async (ids) => {
      const rows: { experiment_id: string; arm: number; exposures: string; clicks: string; conversions: string; revenue: { amountMinor: number; currency: string }[] }[] =
        await (await ctx.manager()).query(`select * from allied_experiment_figures($1::uuid[])`, [ids]);
      return ids.map(
        (id) =>
          new Map(
            rows
              .filter((r) => r.experiment_id === id)
              .map((r) => [r.arm, { exposures: Number(r.exposures), clicks: Number(r.clicks), conversions: Number(r.conversions), revenue: r.revenue }]),
          ),
      );
    });
  }

  private async reload(ctx: RequestContext, id: string): Promise<ExperimentRow> {
    this.byId(ctx).clear(id);
    const experiment = await this.get(ctx, id);
    if (!experiment) throw notFound('Experiment');
    return experiment;
  }

  private forget(ctx: RequestContext, id: string): void {
    this.byId(ctx).clear(id);
    this.figures(ctx).clear(id);
    this.running(ctx).clearAll();
  }

  /**
   * A RUNNING experiment of the caller's brand; a joint campaign's experiment of another member is FORBIDDEN,
   * any other id NOT_FOUND, an ENDED one CONFLICT.
   */
  private async owned(ctx: RequestContext, id: string): Promise<ExperimentRow> {
    const experiment = await this.get(ctx, id);
    if (!experiment) throw notFound('Experiment');
    if (experiment.brandId !== ctx.brandId) throw forbidden('Only the brand that runs an experiment may end it.');
    if (experiment.status === 'ENDED') throw conflict('The experiment has already ENDED.');
    return experiment;
  }

  // --- rules ---------------------------------------------------------------------

  /** What the input names, checked: a kind of model with its versions, or a campaign with its creatives. */
  private async resolveTarget(ctx: RequestContext, spec: ExperimentTarget): Promise<ResolvedTarget> {
    const model = spec.modelKind != null;
    const creative = spec.campaignId != null;
    if (model === creative) {
      throw badInput('Give modelKind with modelVersionIds (a model experiment), or campaignId with creativeIds (a creative experiment), not both.');
    }
    if (model && spec.creativeIds != null) throw badInput('A model experiment has no creativeIds; its arms are modelVersionIds.');
    if (creative && spec.modelVersionIds != null) throw badInput('A creative experiment has no modelVersionIds; its arms are creativeIds.');
    const ids = (model ? spec.modelVersionIds : spec.creativeIds) ?? [];
    checkArmCount(ids, model ? 'modelVersionIds' : 'creativeIds');
    return model ? this.modelTarget(ctx, spec.modelKind!, ids) : this.creativeTarget(ctx, spec.campaignId!, ids);
  }

  private async modelTarget(ctx: RequestContext, kind: ModelKind, ids: readonly string[]): Promise<ResolvedTarget> {
    if (!EXPERIMENT_MODEL_KINDS.includes(kind)) {
      throw badInput(`Experiments compare ${EXPERIMENT_MODEL_KINDS.join(' or ')} models, which serve each learner; ${kind} is neither.`);
    }
    const versions = await Promise.all(ids.map((id) => this.models.get(ctx, id)));
    versions.forEach((v, i) => {
      if (!v) throw notFound(`Model version ${ids[i]}`);
      if (v.kind !== kind) throw badInput(`Model version ${v.id} is a ${v.kind} model; this experiment compares ${kind} models.`);
      if (v.status !== ModelStatus.READY) throw badInput(`Model version ${v.id} is ${v.status}; only READY versions can serve an arm.`);
    });
    return { kind: 'MODEL', modelKind: kind, campaignId: null, allianceId: null, arms: ids.map((id) => ({ modelVersionId: id, creativeId: null })) };
  }

  private async creativeTarget(ctx: RequestContext, campaignId: string, ids: readonly string[]): Promise<ResolvedTarget> {
    const campaign = await this.campaigns.get(ctx, campaignId);
    if (!campaign) throw notFound('Campaign');
    if (campaign.tenantId !== ctx.brandId) throw forbidden('Only the brand that owns a campaign may run an experiment on it.');
    if (campaign.status === CampaignStatus.ENDED) throw conflict('The campaign has ENDED; it takes no new experiments.');
    const creatives = await Promise.all(ids.map((id) => this.campaigns.creative(ctx, id)));
    creatives.forEach((c, i) => {
      if (!c) throw notFound(`Creative ${ids[i]}`);
      if (c.campaignId !== campaign.id) throw badInput(`Creative ${c.id} belongs to another campaign; every arm must be a creative of campaign ${campaign.id}.`);
    });
    return {
      kind: 'CREATIVE',
      modelKind: null,
      campaignId: campaign.id,
      allianceId: campaign.allianceId,
      arms: ids.map((id) => ({ modelVersionId: null, creativeId: id })),
    };
  }

  /** A clear CONFLICT before the insert; the partial unique indexes catch a concurrent one. */
  private async refuseSecondRunning(ctx: RequestContext, target: ResolvedTarget): Promise<void> {
    const [column, value] = target.kind === 'MODEL' ? ['model_kind', target.modelKind] : ['campaign_id', target.campaignId];
    const [running]: { id: string }[] = await (await ctx.manager()).query(
      `select id from experiments where tenant_id = $1 and status = 'RUNNING' and ${column} = $2 limit 1`,
      [ctx.brandId, value],
    );
    if (running) throw conflict(`Experiment ${running.id} is already RUNNING for ${describeTarget(target)}; end it first (endExperiment).`);
  }

  /** The outcome of an ended experiment: its winner, and whether (and why not) it was promoted. */
  private async decide(ctx: RequestContext, experiment: ExperimentRow, arms: ArmReport[], promote: boolean): Promise<ExperimentOutcome> {
    const metric = primaryMetric(experiment.kind, experiment.modelKind);
    const winner = chooseWinner(arms, metric);
    const base = { promoteRequested: promote, metric, winningArm: winner.arm, promoted: false };
    if (winner.arm === null) return { ...base, reason: winner.reason };
    if (!promote) return { ...base, reason: `${winner.reason} Not promoted: promote was false.` };
    const versionId = arms[winner.arm].modelVersionId;
    if (experiment.kind !== 'MODEL' || !versionId) {
      return { ...base, reason: `${winner.reason} Not promoted: only model experiments promote; serve the winning creative instead.` };
    }
    try {
      await this.models.activate(ctx, versionId);
    } catch (error) {
      if (error instanceof AlliedError && error.code === 'BAD_USER_INPUT') return { ...base, reason: `${winner.reason} Not promoted: ${error.message}` };
      throw error;
    }
    return { ...base, promoted: true, reason: `${winner.reason} Model version ${versionId} is now active.` };
  }
}

interface ResolvedTarget {
  kind: ExperimentKind;
  modelKind: ModelKind | null;
  campaignId: string | null;
  allianceId: string | null;
  arms: { modelVersionId: string | null; creativeId: string | null }[];
}

/**
 * Whether an experiment records a stored event: only events at or after its
 * start; a MODEL experiment the brand's own learners' events of its types, a
 * CREATIVE one events naming its campaign, or purchases a last click on it
 * brought (`clickedCampaign`).
 */
function affects(brandId: string, x: Running, e: StoredEvent, clickedCampaign: string | null): boolean {
  if (e.at.getTime() < x.startedAt.getTime()) return false;
  if (x.kind === 'MODEL') return x.brandId === brandId && MODEL_EVENTS.has(e.type);
  if (!CREATIVE_EVENTS.has(e.type)) return false;
  if (e.campaign !== null) return e.campaign === x.campaignId;
  return e.type === EventType.PURCHASE && clickedCampaign === x.campaignId;
}

/**
 * The treatment arm whose primary metric beats the control's with a
 * positive lift at p < (1 − CONFIDENCE) / treatments (Bonferroni), the
 * largest lift winning (the lower arm on a tie); with the reason, for a person.
 */
function chooseWinner(arms: readonly ArmReport[], metric: ExperimentMetric): { arm: number | null; reason: string } {
  const treatments = arms.length - 1;
  const alpha = (1 - CONFIDENCE) / Math.max(1, treatments);
  const what = metric === 'CLICK_RATE' ? 'click rate' : 'conversion rate';
  const lift = (a: ArmReport) => (metric === 'CLICK_RATE' ? a.clickLift : a.conversionLift);
  let best: ArmReport | null = null;
  for (const a of arms) {
    const l = lift(a);
    if (!l || !(l.absoluteLift > 0) || !(l.pValue < alpha)) continue;
    if (!best || l.absoluteLift > lift(best)!.absoluteLift) best = a;
  }
  const threshold = `p < ${+alpha.toPrecision(3)}${treatments > 1 ? ` (0.05 over ${treatments} treatment arms)` : ''}`;
  if (!best) return { arm: null, reason: `No treatment arm's ${what} beat the control's significantly (${threshold}).` };
  const l = lift(best)!;
  return {
    arm: best.arm,
    reason: `Arm ${best.arm}'s ${what} beat the control's by ${+l.absoluteLift.toFixed(4)} (p = ${+l.pValue.toPrecision(3)}, ${threshold}).`,
  };
}

function compare(control: Figures, treatment: Figures, key: 'clicks' | 'conversions'): ArmComparison {
  const counts = (f: Figures): ArmCounts => ({ exposures: f.exposures, conversions: f[key] });
  const r = compareProportions(counts(control), counts(treatment), CONFIDENCE);
  return {
    rateControl: r.rateControl,
    rateTreatment: r.rateTreatment,
    absoluteLift: r.absoluteLift,
    relativeLift: r.relativeLift,
    ciLow: r.ci[0],
    ciHigh: r.ci[1],
    pValue: r.pValue,
    significant: r.significant,
  };
}

function checkArmCount(ids: readonly string[], field: string): void {
  if (ids.length < MIN_ARMS) {
    throw badInput(`An experiment needs at least ${MIN_ARMS} arms in ${field}: the control (arm 0) and a treatment; got ${ids.length}.`);
  }
  if (ids.length > MAX_ARMS) throw badInput(`An experiment has at most ${MAX_ARMS} arms; ${field} has ${ids.length}.`);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length) throw badInput(`Each arm must be different; ${field} repeats ${[...new Set(repeated)].join(', ')}.`);
}

/** The weights as given (each positive and finite, one per arm), or equal ones. */
function checkWeights(weights: readonly number[] | null | undefined, arms: number): number[] {
  if (weights == null) return Array.from({ length: arms }, () => 1);
  if (weights.length !== arms) throw badInput(`weights has ${weights.length} entries for ${arms} arms; give one per arm, or none for equal weights.`);
  const bad = weights.find((w) => !Number.isFinite(w) || w <= 0);
  if (bad !== undefined) throw badInput(`Every weight must be a positive number; got ${bad}.`);
  return [...weights];
}

function describeTarget(t: ResolvedTarget): string {
  return t.kind === 'MODEL' ? `your ${t.modelKind} models` : `campaign ${t.campaignId}`;
}

const rate = (part: number, whole: number) => (whole > 0 ? part / whole : 0);
