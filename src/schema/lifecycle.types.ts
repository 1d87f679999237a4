import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { LIFECYCLE_STAGES } from '../entities/rows';

export enum LifecycleStage {
  PROSPECT = 'PROSPECT',
  NEW = 'NEW',
  ACTIVE = 'ACTIVE',
  LAPSED = 'LAPSED',
}
registerEnumType(LifecycleStage, {
  name: 'LifecycleStage',
  description:
    'Where a learner is with the brand, now: LAPSED (nothing recorded for lapsedDays), PROSPECT (seen, never bought), NEW (first purchase under newDays old), ACTIVE (bought before that, still seen). See lifecycleSettings.',
});
if (Object.values(LifecycleStage).join() !== LIFECYCLE_STAGES.join()) throw new Error('LifecycleStage and LIFECYCLE_STAGES differ');

@ObjectType({ description: "The brand's learners per lifecycle stage now." })
export class LifecycleCounts {
  @Field(() => Int) prospect!: number;
  @Field(() => Int, { name: 'new' }) new!: number;
  @Field(() => Int) active!: number;
  @Field(() => Int) lapsed!: number;
}

@ObjectType({ description: "The brand's lifecycle thresholds, in days (defaults 30 and 90)." })
export class LifecycleSettings {
  @Field(() => Int, { description: 'A learner whose first purchase is younger than this is NEW.' }) newDays!: number;
  @Field(() => Int, { description: 'A learner with nothing recorded for this long is LAPSED.' }) lapsedDays!: number;
}
