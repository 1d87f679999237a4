import { Field, ObjectType } from 'type-graphql';
import { Node } from './common.types';
import { connectionTypes } from './connection';
import { DateTimeScalar } from './scalars';

/** An end user of the brand's platform; never visible to another brand. */
@ObjectType({ implements: Node })
export class Learner extends Node {
  @Field() externalId!: string;
  @Field(() => String, { nullable: true }) segment!: string | null;
  @Field(() => [String]) demands!: string[];
  @Field(() => DateTimeScalar) createdAt!: Date;
}

export const { Edge: LearnerEdge, Connection: LearnerConnection } = connectionTypes('Learner', Learner);
