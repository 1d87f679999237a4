import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Creative } from './campaign.types';
import { ModelVersion } from './model.types';
import { DateTimeScalar, JSONScalar } from './scalars';

export enum CtrSource {
  MODEL = 'MODEL',
  PRIOR = 'PRIOR',
}
registerEnumType(CtrSource, {
  name: 'CtrSource',
  description: "MODEL: the brand's active CTR model; PRIOR: the creative's observed click rate smoothed toward its campaign's (no model yet).",
});

export enum BestCreativeReason {
  PREDICTED_CTR = 'PREDICTED_CTR',
  OBSERVED_CTR = 'OBSERVED_CTR',
  EXPLORATION = 'EXPLORATION',
  EXPERIMENT = 'EXPERIMENT',
  CAMPAIGN_NOT_ACTIVE = 'CAMPAIGN_NOT_ACTIVE',
  NOT_STARTED = 'NOT_STARTED',
  ENDED = 'ENDED',
  OUTSIDE_DELIVERY_WINDOW = 'OUTSIDE_DELIVERY_WINDOW',
  NO_CREATIVES = 'NO_CREATIVES',
}
registerEnumType(BestCreativeReason, {
  name: 'BestCreativeReason',
  description:
    'Why this creative (or none): PREDICTED_CTR (highest model probability), OBSERVED_CTR (highest smoothed observed rate, no model), EXPLORATION (a Thompson draw, in the configured share of answers), EXPERIMENT (a running experiment’s arm); or, with no creative, CAMPAIGN_NOT_ACTIVE, NOT_STARTED, ENDED, OUTSIDE_DELIVERY_WINDOW, NO_CREATIVES.',
});

@ObjectType()
export class CtrPrediction {
  @Field(() => ID) learnerId!: string;
  @Field(() => Float, { description: 'Probability of a click on this impression, 0..1.' }) probability!: number;
  @Field(() => CtrSource) source!: CtrSource;
}

@ObjectType({ description: 'The creative to show a learner now in a campaign, and why.' })
export class BestCreative {
  @Field(() => Creative, { nullable: true, description: 'Null when the campaign may not deliver now (see reason).' }) creative!: unknown;
  @Field(() => Float, { nullable: true, description: 'The predicted click probability of the creative shown.' }) probability!: number | null;
  @Field(() => BestCreativeReason) reason!: BestCreativeReason;
  @Field({ description: 'The reason, for a person.' }) explanation!: string;
  @Field({ description: "The moment judged in the campaign's time zone, ISO 8601 with its offset." }) localTime!: string;
  @Field(() => ID, { nullable: true, description: 'The running experiment that chose the creative or the CTR model.' }) experimentId!: string | null;
  @Field(() => ModelVersion, { nullable: true, description: 'The CTR model version that scored the creatives.' }) model!: unknown;
}

@ObjectType()
export class Segment {
  @Field({ description: 'Readable, from the centroid: e.g. "frequent buyers of python courses", "lapsed, rated low".' }) label!: string;
  @Field(() => Int, { description: 'Learners labelled with it now.' }) size!: number;
  @Field(() => JSONScalar, { description: "The centroid in the features' own units, by feature name." }) centroid!: Record<string, number>;
}

@ObjectType()
export class Segmentation {
  @Field(() => ModelVersion) model!: unknown;
  @Field(() => [Segment]) segments!: Segment[];
  @Field(() => Int, { description: 'The number of segments, chosen by silhouette in 2..8.' }) k!: number;
  @Field(() => DateTimeScalar, { nullable: true, description: 'When the learners were read for it.' }) at!: Date | null;
}
