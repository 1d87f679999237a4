import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CourseFormat, CourseLevel } from './course.types';
import { SafeIntScalar } from './scalars';
import { DEMAND_TYPES } from '../ml/ner/types';

export enum DemandType {
  TOPIC = 'TOPIC',
  LEVEL = 'LEVEL',
  FORMAT = 'FORMAT',
  TIME = 'TIME',
  BUDGET = 'BUDGET',
  PERSON = 'PERSON',
  ORG = 'ORG',
  LOC = 'LOC',
}
registerEnumType(DemandType, { name: 'DemandType' });
// The enum and the extractor's list must be the same.
if (Object.values(DemandType).join() !== DEMAND_TYPES.join()) throw new Error('DemandType and DEMAND_TYPES differ');

@ObjectType({ description: 'A budget in minor units of its currency: at most maxMinor, at least minMinor.' })
export class BudgetRange {
  @Field() currency!: string;
  @Field(() => SafeIntScalar, { nullable: true }) minMinor!: number | null;
  @Field(() => SafeIntScalar, { nullable: true }) maxMinor!: number | null;
}

@ObjectType({ description: 'What a LEVEL, FORMAT, TIME or BUDGET entity means, normalised; null for the other types and for text that could not be read.' })
export class DemandValue {
  @Field(() => CourseLevel, { nullable: true }) level!: CourseLevel | null;
  @Field(() => CourseFormat, { nullable: true }) format!: CourseFormat | null;
  @Field(() => String, {
    nullable: true,
    description: 'A coarse slot: WEEKDAY_EVENING, WEEKDAY_MORNING, WEEKDAY_DAYTIME, WEEKEND, WEEKEND_EVENING, EVENING, MORNING, LUNCH, DAILY or FLEXIBLE.',
  })
  timeSlot!: string | null;
  @Field(() => BudgetRange, { nullable: true }) budget!: BudgetRange | null;
}

@ObjectType()
export class DemandEntity {
  @Field(() => DemandType) type!: DemandType;
  @Field() text!: string;
  @Field(() => Int, { description: 'Offsets in UTF-16 code units of the input, end exclusive.' }) start!: number;
  @Field(() => Int) end!: number;
  @Field(() => Float, { description: "The tagger's mean probability of the entity's labels, 0..1." }) confidence!: number;
  @Field(() => DemandValue, { nullable: true }) value!: DemandValue | null;
}

@ObjectType()
export class DemandExtraction {
  @Field(() => [DemandEntity]) entities!: DemandEntity[];
  @Field({ description: "The model used: the brand's NER version id, or the shipped model's name." }) model!: string;
}

@ObjectType({ description: 'A demand ranked by the learners voicing it in a window, against the window before.' })
export class DemandTrend {
  @Field({ description: 'What is asked for: a topic by its canonical name, a level, a format, a time slot, or a budget as "CNY ≤20000" (minor units).' })
  demand!: string;
  @Field(() => DemandType) type!: DemandType;
  @Field(() => Int, { description: 'Distinct learners who voiced it in the window.' }) learners!: number;
  @Field(() => Int, { description: 'Distinct learners who voiced it in the window of equal length before.' }) previousLearners!: number;
  @Field(() => Int, { description: 'learners − previousLearners.' }) change!: number;
  @Field({
    description:
      "Whether the caller's PUBLISHED catalog meets it: a course with the topic (or the topic in its title), the level, the format, a price within the budget in its currency; a time by any course that is not LIVE.",
  })
  coveredByCatalog!: boolean;
}

@InputType({ description: 'One entity of a corrected feedback text, by its UTF-16 offsets (end exclusive).' })
export class DemandEntityInput {
  @Field(() => DemandType) type!: DemandType;
  @Field(() => Int) start!: number;
  @Field(() => Int) end!: number;
}
