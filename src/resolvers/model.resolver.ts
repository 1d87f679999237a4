import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { LearnerEntity } from '../entities';
import { notFound } from '../errors';
import { Learner } from '../schema/learner.types';
import { ModelKind, ModelVersion, Recommendation, RecommendationScope } from '../schema/model.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver()
export class ModelResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => [ModelVersion], { description: "The brand's model versions, newest first (at most 200), optionally of one kind." })
  models(@Ctx() ctx: RequestContext, @Arg('kind', () => ModelKind, { nullable: true }) kind?: ModelKind | null) {
    return this.services.models.list(ctx, kind);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ModelVersion, {
    description:
      'Starts training in the background and returns at once (status TRAINING); follow it with the modelTraining subscription. CONFLICT while another version of the kind is training.',
  })
  trainModel(@Ctx() ctx: RequestContext, @Arg('kind', () => ModelKind) kind: ModelKind) {
    return this.services.models.train(ctx, kind);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ModelVersion, { description: 'Serves this READY version from now on, on every instance; rolling back is activating an older version.' })
  async activateModel(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.models.activate(ctx, id);
  }

  @Authorized(Role.ANALYST)
  @Query(() => [Recommendation], {
    description:
      "Courses to offer the learner, best first (first: 1..50): never one they bought, nor one the brand cannot show in the scope or that is not PUBLISHED. Each says why (reason, explanation).",
  })
  recommendCourses(
    @Ctx() ctx: RequestContext,
    @Arg('learnerId', () => ID) learnerId: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number,
    @Arg('scope', () => RecommendationScope, { nullable: true, defaultValue: RecommendationScope.ALLIANCE }) scope: RecommendationScope,
  ) {
    return this.services.recommendations.forLearner(ctx, learnerId, first ?? 10, scope ?? RecommendationScope.ALLIANCE);
  }
}

@Resolver(() => Learner)
export class LearnerRecommendationResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => [Recommendation], {
    description: 'As recommendCourses for this learner; a page of learners is one model call.',
  })
  recommendations(
    @Ctx() ctx: RequestContext,
    @Root() learner: LearnerEntity,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number,
    @Arg('scope', () => RecommendationScope, { nullable: true, defaultValue: RecommendationScope.ALLIANCE }) scope: RecommendationScope,
  ) {
    if (!learner.id) throw notFound('Learner');
    return this.services.recommendations.forKnownLearner(ctx, learner.id, first ?? 10, scope ?? RecommendationScope.ALLIANCE);
  }
}
