import { ArrayMaxSize, IsOptional, IsPositive, Length } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Money } from './common.types';
import { connectionTypes } from './connection';
import { ModelKind } from './model.types';
import { DateTimeScalar } from './scalars';
import { IsNotBlank } from './validators';

/** The values services speak in (src/services/experiment.service.ts), registered for GraphQL here. */
export enum ExperimentKind {
  MODEL = 'MODEL',
  CREATIVE = 'CREATIVE',
}

export enum ExperimentStatus {
  RUNNING = 'RUNNING',
  ENDED = 'ENDED',
}

export enum ExperimentMetric {
  CLICK_RATE = 'CLICK_RATE',
  CONVERSION_RATE = 'CONVERSION_RATE',
}

registerEnumType(ExperimentKind, {
  name: 'ExperimentKind',
  description: 'MODEL: arms are model versions of one kind; CREATIVE: arms are creatives of one campaign.',
});
registerEnumType(ExperimentStatus, { name: 'ExperimentStatus', description: 'Only a RUNNING experiment assigns learners and records events.' });
registerEnumType(ExperimentMetric, {
  name: 'ExperimentMetric',
  description: 'CLICK_RATE: learners who clicked / exposures; CONVERSION_RATE: learners who purchased / exposures.',
});

/** Max arms of one experiment (the service checks it too, with its reason). */
const MAX_ARMS = 10;

@InputType({ description: 'Either modelKind with modelVersionIds, or campaignId with creativeIds. The first arm is the control.' })
export class CreateExperimentInput {
  @Field() @Length(1, 200) @IsNotBlank() name!: string;

  @Field(() => ModelKind, { nullable: true, description: 'RECOMMENDER or CTR.' })
  modelKind?: ModelKind | null;

  @Field(() => [ID], { nullable: true, description: "Two or more READY versions of the brand's own, of modelKind." })
  @IsOptional()
  @ArrayMaxSize(MAX_ARMS, { message: `at most ${MAX_ARMS} arms` })
  modelVersionIds?: string[] | null;

  @Field(() => ID, { nullable: true, description: "A campaign the caller's brand owns (a joint campaign counts its alliance members' traffic too)." })
  campaignId?: string | null;

  @Field(() => [ID], { nullable: true, description: "Two or more of the campaign's creatives." })
  @IsOptional()
  @ArrayMaxSize(MAX_ARMS, { message: `at most ${MAX_ARMS} arms` })
  creativeIds?: string[] | null;

  @Field(() => [Float], { nullable: true, description: 'One positive weight per arm, in the order of the arms; equal when omitted. Fixed while it runs.' })
  @IsOptional()
  @ArrayMaxSize(MAX_ARMS, { message: `at most ${MAX_ARMS} weights` })
  @IsPositive({ each: true, message: 'every weight must be positive' })
  weights?: number[] | null;
}

@ObjectType({ description: "A treatment arm's rate against the control's, in learners: difference, confidence interval and test (see Experiment.method)." })
export class ExperimentComparison {
  @Field(() => Float) rateControl!: number;
  @Field(() => Float) rateTreatment!: number;
  @Field(() => Float, { description: 'rateTreatment − rateControl.' }) absoluteLift!: number;
  @Field(() => Float, { nullable: true, description: 'absoluteLift / rateControl; null when the control rate is 0.' }) relativeLift!: number | null;
  @Field(() => Float, { description: 'Lower bound of the 95% confidence interval of absoluteLift.' }) ciLow!: number;
  @Field(() => Float, { description: 'Upper bound of the 95% confidence interval of absoluteLift.' }) ciHigh!: number;
  @Field(() => Float, { description: 'Two-sided p-value.' }) pValue!: number;
  @Field({ description: 'pValue < 0.05.' }) significant!: boolean;
}

/** `modelVersion` and `creative` are resolved by ExperimentArmResolver. */
@ObjectType({ description: 'One arm and its figures so far. Units are learners, the unit of assignment.' })
export class ExperimentArm {
  @Field(() => Int, { description: '0 is the control.' }) arm!: number;
  @Field() control!: boolean;
  @Field(() => Float) weight!: number;
  @Field(() => Float, { description: 'weight / Σ weights: the share of learners the arm gets.' }) share!: number;
  @Field(() => Int, { description: 'Learners with an event the experiment affected (CREATIVE: with an IMPRESSION).' }) exposures!: number;
  @Field(() => Int, { description: 'Of them, learners who clicked.' }) clicks!: number;
  @Field(() => Int, { description: 'Of them, learners who purchased.' }) conversions!: number;
  @Field(() => [Money], { description: "Their purchases' amounts per currency (refunds not deducted)." }) revenue!: Money[];
  @Field(() => Float, { description: 'clicks / exposures; 0 without exposures.' }) clickRate!: number;
  @Field(() => Float, { description: 'conversions / exposures; 0 without exposures.' }) conversionRate!: number;
  @Field(() => ExperimentComparison, { nullable: true, description: 'Click rate against the control; null for the control.' })
  clickLift!: ExperimentComparison | null;
  @Field(() => ExperimentComparison, { nullable: true, description: 'Conversion rate against the control; null for the control.' })
  conversionLift!: ExperimentComparison | null;
}

@ObjectType({ description: 'What endExperiment decided.' })
export class ExperimentOutcome {
  @Field() promoteRequested!: boolean;
  @Field(() => ExperimentMetric) metric!: ExperimentMetric;
  @Field(() => Int, {
    nullable: true,
    description: "The treatment arm whose primary metric beat the control's significantly (Bonferroni-adjusted over the treatment arms; the largest lift if several), or null.",
  })
  winningArm!: number | null;
  @Field({ description: "Whether the winning arm's model version was activated." }) promoted!: boolean;
  @Field({ description: 'Which arm won and why, or why none was promoted.' }) reason!: string;
}

/** `primaryMetric`, `method`, `confidence`, `arms`, `campaign`, `alliance` and `owner` are resolved by ExperimentResolver. */
@ObjectType({ description: 'An A/B experiment: learners split between arms by a deterministic hash of experiment and learner.' })
export class Experiment {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => ExperimentKind) kind!: ExperimentKind;
  @Field(() => ExperimentStatus) status!: ExperimentStatus;
  @Field(() => ModelKind, { nullable: true }) modelKind!: ModelKind | null;
  @Field(() => DateTimeScalar) startedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) endedAt!: Date | null;
  @Field(() => ExperimentOutcome, { nullable: true, description: 'Set when it ended.' }) outcome!: ExperimentOutcome | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

export const { Edge: ExperimentEdge, Connection: ExperimentConnection } = connectionTypes('Experiment', Experiment);
