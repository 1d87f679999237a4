import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MoneyInput } from './common.types';
import { EventContactInput } from './email.types';
import { DateTimeScalar } from './scalars';
import { EventType } from '../entities/enums';
export { EventType };

registerEnumType(EventType, { name: 'EventType' });

/**
 * One event. Deliberately without edge validators: a bad event is returned
 * in `rejected` with its index, and the rest of the batch is stored.
 */
@InputType()
export class EventInput {
  @Field({ description: 'Unique per brand. A repeated key is acknowledged as a duplicate and never stored twice, whatever else the event says.' })
  idempotencyKey!: string;
  @Field(() => EventType) type!: EventType;
  @Field() learnerExternalId!: string;
  @Field(() => DateTimeScalar) occurredAt!: Date;
  @Field(() => ID, { nullable: true }) courseId?: string | null;
  @Field(() => ID, { nullable: true }) campaignId?: string | null;
  @Field(() => ID, { nullable: true }) creativeId?: string | null;
  @Field(() => MoneyInput, { nullable: true, description: 'PURCHASE and REFUND only.' }) amount?: MoneyInput | null;
  @Field(() => Int, { nullable: true, description: 'RATING only, 1..5.' }) rating?: number | null;
  @Field(() => String, { nullable: true, description: 'FEEDBACK only.' }) text?: string | null;
  @Field(() => String, { nullable: true, description: 'REFUND only: the idempotencyKey of the purchase being refunded.' })
  refundOf?: string | null;
  @Field(() => EventContactInput, { nullable: true, description: "The learner's email address and consent, stored as its contact (see upsertLearnerContact)." })
  contact?: EventContactInput | null;
}

@ObjectType()
export class EventRejection {
  @Field(() => Int) index!: number;
  @Field() code!: string;
  @Field() message!: string;
}

@ObjectType()
export class RecordEventsResult {
  @Field(() => Int) accepted!: number;
  @Field(() => Int) duplicates!: number;
  @Field(() => [EventRejection]) rejected!: EventRejection[];
}
