import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ModelKind, ModelStatus, RecommendationScope } from '../entities/enums';
import { Node } from './common.types';
import { Course } from './course.types';
import { DateTimeScalar, JSONScalar } from './scalars';

registerEnumType(ModelKind, { name: 'ModelKind' });
registerEnumType(ModelStatus, { name: 'ModelStatus' });
registerEnumType(RecommendationScope, {
  name: 'RecommendationScope',
  description: "OWN: the brand's own catalog; ALLIANCE: also joint courses and partners' PUBLISHED courses.",
});

export { ModelKind, ModelStatus, RecommendationScope };

/** One trained (or training) version of one of the brand's models. */
@ObjectType({ implements: Node })
export class ModelVersion extends Node {
  @Field(() => ModelKind) kind!: ModelKind;
  @Field(() => ModelStatus) status!: ModelStatus;
  @Field({ description: 'The version the brand is served by; exactly one per kind, once one is READY.' }) active!: boolean;
  @Field(() => JSONScalar, {
    nullable: true,
    description:
      'Held-out quality: e.g. ndcg10/recall10 (RECOMMENDER), auc/logloss (CTR), f1 per entity type (NER), inertia/silhouette (SEGMENTATION). Recommenders also report popularityNdcg10 and popularityRecall10, the popularity baseline on the same split.',
  })
  metrics!: Record<string, unknown> | null;
  @Field({ description: 'Where it runs: cpu, webgpu or cuda.' }) device!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) trainedAt!: Date | null;
  @Field(() => Float, { description: 'Training progress, 0..1 (1 once READY).' }) progress!: number;
  @Field(() => String, { nullable: true, description: 'What the training is doing now; once READY, the activation decision.' }) message!: string | null;
  @Field(() => String, { nullable: true, description: 'Why it FAILED.' }) failure!: string | null;
  @Field(() => JSONScalar, {
    nullable: true,
    description:
      'Why it was or was not made active when training ended: { activated, metric, candidate, previous: { id, value }, reason }.',
  })
  decision!: Record<string, unknown> | null;
  @Field(() => JSONScalar, { description: 'The hyper-parameters it was trained with.' }) hyper!: Record<string, unknown>;
  @Field({ description: 'Who asked for the training: a user, an API key or Allied itself.' }) trainedBy!: string;
}

@ObjectType()
export class TrainingProgress {
  @Field(() => ModelVersion) model!: ModelVersion;
  @Field(() => Float, { description: '0..1' }) progress!: number;
  @Field(() => Int, { nullable: true }) epoch!: number | null;
  @Field(() => Float, { nullable: true }) loss!: number | null;
  @Field(() => String, { nullable: true }) message!: string | null;
}

@ObjectType()
export class Recommendation {
  @Field(() => Course) course!: Course;
  @Field(() => Float, { description: 'Higher is better; comparable within one answer.' }) score!: number;
  @Field({ description: 'COLLABORATIVE, DEMAND_MATCH, POPULAR or PARTNER.' }) reason!: string;
  @Field({ description: 'Why, for a person: e.g. "bought by learners who also bought Data Analysis 101".' }) explanation!: string;
}
