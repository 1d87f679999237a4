import { Field, ObjectType } from 'type-graphql';
import { Node } from './common.types';
import { connectionTypes } from './connection';
import { LifecycleStage } from './lifecycle.types';
import { DateTimeScalar } from './scalars';

/** An end user of the brand's platform; never visible to another brand. */
@ObjectType({ implements: Node })
export class Learner extends Node {
  @Field() externalId!: string;
  @Field(() => String, { nullable: true }) segment!: string | null;
  @Field(() => [String], { description: 'Topics the learner asked for in FEEDBACK, most recently first (at most 20).' }) demands!: string[];
  @Field(() => LifecycleStage) lifecycleStage!: LifecycleStage;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

export const { Edge: LearnerEdge, Connection: LearnerConnection } = connectionTypes('Learner', Learner);
