import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JobState } from '../jobs/job';
import { connectionTypes } from './connection';
import { DateTimeScalar } from './scalars';

registerEnumType(JobState, {
  name: 'JobState',
  description: 'PENDING waits for runAt; RUNNING is being worked on; DONE finished; DEAD failed its last attempt (see lastError).',
});

/** Work Allied does later for the brand (training, extraction, email, loyalty), as its operators see it. */
@ObjectType()
export class Job {
  @Field(() => ID) id!: string;
  @Field({ description: 'What the job does, e.g. ml.train.' }) kind!: string;
  @Field(() => JobState) state!: JobState;
  @Field(() => Int, { description: 'Attempts started so far, the running one included.' }) attempts!: number;
  @Field(() => Int) maxAttempts!: number;
  @Field(() => String, { nullable: true, description: 'Why the latest failed attempt failed.' }) lastError!: string | null;
  @Field(() => DateTimeScalar, { description: 'When the job is (or was) due; after a failure, when it is retried.' }) runAt!: Date;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true, description: 'When it became DONE or DEAD.' }) finishedAt!: Date | null;
}

export const { Edge: JobEdge, Connection: JobConnection } = connectionTypes('Job', Job);
