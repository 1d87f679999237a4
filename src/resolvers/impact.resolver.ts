import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { forbidden } from '../errors';
import { BudgetObjective } from '../entities/enums';
import { MoneyInput } from '../schema/common.types';
import { AllianceImpact, BudgetSuggestion, Funnel, TargetMarket } from '../schema/impact.types';
import { MetricsBucket } from '../schema/metrics.types';
import { DateTimeScalar, SafeIntScalar } from '../schema/scalars';
import type { Services } from '../services';
import { coefficientName, SATISFACTION_MODEL } from '../services/impact-model';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver()
export class ImpactResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => Funnel, {
    description:
      "The promotion funnel over [from, to) and the period of equal length before it: the caller's brand, an alliance it is an ACTIVE member of (joint courses and campaigns only), or one campaign (its own, or a joint one of such an alliance).",
  })
  funnel(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('allianceId', () => ID, { nullable: true }) allianceId?: string | null,
    @Arg('campaignId', () => ID, { nullable: true }) campaignId?: string | null,
  ) {
    return this.services.impact.funnel(ctx, from, to, allianceId ?? null, campaignId ?? null);
  }

  @Authorized(Role.ANALYST)
  @Query(() => AllianceImpact, {
    description:
      "Per bucket of [from, to), the satisfaction of each ACTIVE member's own offer and of the alliance's joint offer, the uplift, and the weights fitted over the buckets (ACTIVE members; aggregates only).",
  })
  async allianceImpact(
    @Ctx() ctx: RequestContext,
    @Arg('allianceId', () => ID) allianceId: string,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('bucket', () => MetricsBucket, { nullable: true, defaultValue: MetricsBucket.WEEK }) bucket: MetricsBucket | null,
  ): Promise<AllianceImpact> {
    const impact = await this.services.impact.allianceImpact(ctx, allianceId, from, to, bucket ?? MetricsBucket.WEEK);
    const members = impact.memberIds.length;
    const fit = impact.fit;
    return {
      ...impact,
      points: impact.points.map((p) => ({ ...p, joint: { satisfaction: p.joint.satisfaction, ratings: p.joint.ratings } })),
      fit: fit.fitted
        ? {
            model: SATISFACTION_MODEL,
            coefficients: fit.coefficients.map((c, i) => ({ name: coefficientName(i, members), brandId: impact.memberIds[i] ?? null, ...c })),
            rSquared: fit.rSquared,
            points: fit.points,
            residualDegreesOfFreedom: fit.residualDf,
            reason: null,
          }
        : { model: SATISFACTION_MODEL, coefficients: null, rSquared: null, points: fit.points, residualDegreesOfFreedom: null, reason: fit.reason },
    };
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => TargetMarket, {
    description:
      "Sets the size of the market (learners) your brand targets (OWNER, ADMIN), or one of its campaigns does (EDITOR and above): what the funnel's awareness is measured against. null clears it.",
  })
  setTargetMarketSize(
    @Ctx() ctx: RequestContext,
    @Arg('size', () => SafeIntScalar, { nullable: true }) size: number | null,
    @Arg('campaignId', () => ID, { nullable: true }) campaignId?: string | null,
  ) {
    if (campaignId == null && !ctx.caller.hasAny([Role.ADMIN])) throw forbidden("Your brand's target market is set by an OWNER or ADMIN.");
    return this.services.impact.setTargetMarketSize(ctx, size ?? null, campaignId ?? null);
  }

  @Authorized(Role.ANALYST)
  @Query(() => BudgetSuggestion, {
    description:
      "Splits a total budget across your brand's campaigns to maximise the expected conversions or revenue, from each campaign's own spend history (diminishing returns), with the expected outcome per campaign, its interval and the assumptions.",
  })
  suggestBudget(
    @Ctx() ctx: RequestContext,
    @Arg('campaignIds', () => [ID]) campaignIds: string[],
    @Arg('total', () => MoneyInput) total: MoneyInput,
    @Arg('objective', () => BudgetObjective, { defaultValue: BudgetObjective.CONVERSIONS }) objective: BudgetObjective,
    @Arg('weeks', () => Int, { defaultValue: 4, description: 'The weeks the total is spent over, evenly (1..52).' }) weeks: number,
  ) {
    return this.services.budget.suggest(ctx, campaignIds, total, objective, weeks);
  }
}
