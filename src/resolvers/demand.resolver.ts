import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { DemandEntityInput, DemandExtraction, DemandTrend } from '../schema/demand.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver()
export class DemandResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => DemandExtraction, {
    description:
      "Demands in a learner's words (Chinese, English or mixed): TOPIC, LEVEL, FORMAT, TIME, BUDGET, PERSON, ORG and LOC entities with UTF-16 offsets, a confidence and a normalised value, by the brand's NER model or the shipped one. Empty or blank text gives none; over 4,000 characters is BAD_USER_INPUT.",
  })
  extractDemands(@Ctx() ctx: RequestContext, @Arg('text') text: string) {
    return this.services.demands.extract(ctx, text);
  }

  @Authorized(Role.ANALYST)
  @Query(() => [DemandTrend], {
    description:
      "Demands (TOPIC, LEVEL, FORMAT, TIME, BUDGET) ranked by the learners who voiced them in FEEDBACK over the last `days` days, with the window before for comparison: the brand's own learners, or with allianceId every ACTIVE member's, as counts only and only demands at least two learners voiced.",
  })
  demandTrends(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20, description: '1..100.' }) first: number | null,
    @Arg('days', () => Int, { nullable: true, defaultValue: 30, description: 'The window, 1..365 days up to now.' }) days: number | null,
    @Arg('allianceId', () => ID, { nullable: true }) allianceId: string | null,
  ) {
    return this.services.demands.trends(ctx, first ?? 20, days ?? 30, allianceId ?? null);
  }

  @Authorized(Role.ANALYST)
  @Mutation(() => DemandExtraction, {
    description:
      "Corrects the demands extracted from one FEEDBACK event: `entities` is the whole answer (types and UTF-16 offsets into its text, in any order, not overlapping). Stored as a gold label the brand's NER model is trained on, and replacing the extracted demands of that event. The answer's model is \"correction\".",
  })
  correctDemands(
    @Ctx() ctx: RequestContext,
    @Arg('feedbackId', () => ID) feedbackId: string,
    @Arg('entities', () => [DemandEntityInput]) entities: DemandEntityInput[],
  ) {
    return this.services.demands.correct(ctx, feedbackId, entities);
  }
}
