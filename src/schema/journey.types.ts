import { Length, Max, Min } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { EventType, JourneyBranchCondition, JourneyStatus, JourneyStepKind, JourneyTriggerKind } from '../entities/enums';
export { JourneyBranchCondition, JourneyStatus, JourneyStepKind, JourneyTriggerKind };
import { Money } from './common.types';
import { ExperimentComparison } from './experiment.types';
import { LifecycleStage } from './lifecycle.types';
import { DateTimeScalar } from './scalars';
import { IsNotBlank } from './validators';

registerEnumType(JourneyTriggerKind, {
  name: 'JourneyTriggerKind',
  description:
    'STAGE_ENTERED: learners in `stage`; SEGMENT_ENTERED: learners in `segment`; EVENT_WITHOUT_FOLLOW_UP: learners with an `eventType` event at least `afterDays` days old and no `followUpType` event since; SCHEDULED: at `at`, every learner (in `stage` when given). A learner enters a journey once, and only with consent.',
});

registerEnumType(JourneyStepKind, { name: 'JourneyStepKind' });

registerEnumType(JourneyBranchCondition, {
  name: 'JourneyBranchCondition',
  description: "Since the learner entered the journey: opened or clicked one of the journey's emails, or bought anything.",
});

registerEnumType(JourneyStatus, { name: 'JourneyStatus', description: 'PAUSED holds every learner where it is; ENDED is final.' });

@InputType()
export class JourneyTriggerInput {
  @Field(() => JourneyTriggerKind) kind!: JourneyTriggerKind;
  @Field(() => LifecycleStage, { nullable: true }) stage?: LifecycleStage | null;
  @Field(() => String, { nullable: true }) segment?: string | null;
  @Field(() => EventType, { nullable: true }) eventType?: EventType | null;
  @Field(() => EventType, { nullable: true, description: 'PURCHASE when omitted.' }) followUpType?: EventType | null;
  @Field(() => Int, { nullable: true }) @Min(0) @Max(365) afterDays?: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) at?: Date | null;
}

@InputType({ description: 'WAIT needs minutes; SEND a templateId; BRANCH a condition and the steps to go to (an index after this one, or the number of steps to finish).' })
export class JourneyStepInput {
  @Field(() => JourneyStepKind) kind!: JourneyStepKind;
  @Field(() => Int, { nullable: true }) @Min(1) @Max(525_600) minutes?: number | null;
  @Field(() => ID, { nullable: true }) templateId?: string | null;
  @Field(() => JourneyBranchCondition, { nullable: true }) condition?: JourneyBranchCondition | null;
  @Field(() => Int, { nullable: true }) thenStep?: number | null;
  @Field(() => Int, { nullable: true }) elseStep?: number | null;
}

@InputType()
export class CreateJourneyInput {
  @Field(() => ID, { description: 'An EMAIL campaign the brand owns.' }) campaignId!: string;
  @Field() @Length(1, 200) @IsNotBlank() name!: string;
  @Field(() => JourneyTriggerInput) trigger!: JourneyTriggerInput;
  @Field(() => [JourneyStepInput]) steps!: JourneyStepInput[];
  @Field(() => Boolean, { nullable: true, description: 'A learner who buys leaves the journey (true by default). Unsubscribing and the campaign ending always end it.' })
  exitOnPurchase?: boolean | null;
  @Field(() => Int, { nullable: true, description: 'Share of eligible learners, in percent, kept as a holdout that receives nothing (10 by default, 0..50).' })
  @Min(0)
  @Max(50)
  holdoutPercent?: number | null;
}

@ObjectType()
export class JourneyTrigger {
  @Field(() => JourneyTriggerKind) kind!: JourneyTriggerKind;
  @Field(() => LifecycleStage, { nullable: true }) stage!: LifecycleStage | null;
  @Field(() => String, { nullable: true }) segment!: string | null;
  @Field(() => EventType, { nullable: true }) eventType!: EventType | null;
  @Field(() => EventType, { nullable: true }) followUpType!: EventType | null;
  @Field(() => Int, { nullable: true }) afterDays!: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) at!: Date | null;
}

@ObjectType()
export class JourneyStep {
  @Field(() => JourneyStepKind) kind!: JourneyStepKind;
  @Field(() => Int, { nullable: true }) minutes!: number | null;
  @Field(() => ID, { nullable: true }) templateId!: string | null;
  @Field(() => JourneyBranchCondition, { nullable: true }) condition!: JourneyBranchCondition | null;
  @Field(() => Int, { nullable: true }) thenStep!: number | null;
  @Field(() => Int, { nullable: true }) elseStep!: number | null;
}

@ObjectType({ description: "One group's figures, in learners (sent, delivered and bounced in messages)." })
export class JourneyGroupFigures {
  @Field(() => Int, { description: 'Learners who entered the journey.' }) eligible!: number;
  @Field(() => Int) sent!: number;
  @Field(() => Int) delivered!: number;
  @Field(() => Int) bounced!: number;
  @Field(() => Int, { description: 'Messages held back by consent, quiet hours, the weekly cap or a missing address.' }) suppressed!: number;
  @Field(() => Int) opened!: number;
  @Field(() => Int) clicked!: number;
  @Field(() => Int, { description: 'Learners who bought after entering.' }) converted!: number;
  @Field(() => [Money], { description: 'What they bought after entering, per currency (refunds not deducted).' }) revenue!: Money[];
  @Field(() => Int) unsubscribed!: number;
  @Field(() => Float, { description: 'converted / eligible; 0 without learners.' }) conversionRate!: number;
}

@ObjectType({ description: 'What a journey changed: its treated learners against its holdout.' })
export class JourneyReport {
  @Field(() => JourneyGroupFigures) treated!: JourneyGroupFigures;
  @Field(() => JourneyGroupFigures) holdout!: JourneyGroupFigures;
  @Field(() => ExperimentComparison, { description: 'Conversion rate of treated learners against the holdout (the uplift), with its 95% interval.' })
  uplift!: ExperimentComparison;
  @Field({ description: 'How uplift is computed.' }) method!: string;
}

@ObjectType({ description: 'An email journey on an EMAIL campaign: a trigger, then steps, for each learner who enters.' })
export class Journey {
  @Field(() => ID) id!: string;
  @Field(() => ID) campaignId!: string;
  @Field() name!: string;
  @Field(() => JourneyStatus) status!: JourneyStatus;
  @Field(() => JourneyTrigger) trigger!: JourneyTrigger;
  @Field(() => [JourneyStep]) steps!: JourneyStep[];
  @Field() exitOnPurchase!: boolean;
  @Field(() => Int) holdoutPercent!: number;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) endedAt!: Date | null;
}

@ObjectType({
  description:
    "A journey of a campaign as the alliance's members see it on a joint campaign: its name, state and aggregate report; its trigger, steps and templates stay the owning brand's.",
})
export class CampaignJourney {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => JourneyStatus) status!: JourneyStatus;
  @Field(() => DateTimeScalar) createdAt!: Date;
}
