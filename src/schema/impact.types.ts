import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BudgetObjective, FunnelStageName, MetricsBucket } from '../entities/enums';
import { Money } from './common.types';
import { DateTimeScalar, SafeIntScalar } from './scalars';

registerEnumType(FunnelStageName, {
  name: 'FunnelStageName',
  description: 'A stage of the promotion funnel.',
  valuesConfig: {
    REACH: { description: 'Distinct learners with an impression in the period.' },
    ACQUIRED: { description: 'Learners first seen in the period: an event in it and none in the scope before it.' },
    ACTIVATED: { description: 'Of the acquired, those who enrolled or purchased in the period (a purchase enrols).' },
    CONVERTED: { description: 'Of the acquired, those who purchased in the period (purchases of the scope by the attribution rules).' },
    RETAINED: { description: 'Of the acquired, those who purchased at least twice in the period.' },
  },
});

@ObjectType()
export class FunnelStage {
  @Field(() => FunnelStageName) stage!: FunnelStageName;
  @Field(() => SafeIntScalar) count!: number;
  @Field(() => Float, {
    nullable: true,
    description:
      "count ÷ the previous stage's count; null for REACH and after an empty stage. ACQUIRED ÷ REACH can exceed 1: learners also arrive without an impression (search, word of mouth).",
  })
  rate!: number | null;
  @Field(() => SafeIntScalar, { nullable: true, description: 'count − the previous period’s; null in the previous period itself.' }) countDelta!: number | null;
  @Field(() => Float, { nullable: true, description: 'rate − the previous period’s; null when either is.' }) rateDelta!: number | null;
}

@ObjectType()
export class FunnelPeriod {
  @Field(() => DateTimeScalar) from!: Date;
  @Field(() => DateTimeScalar) to!: Date;
  @Field(() => [FunnelStage], { description: 'REACH, ACQUIRED, ACTIVATED, CONVERTED, RETAINED.' }) stages!: FunnelStage[];
  @Field(() => Float, { nullable: true, description: '(mean rating − 1) ÷ 4 over the period’s ratings; null without ratings.' }) satisfaction!: number | null;
  @Field(() => SafeIntScalar) ratings!: number;
  @Field(() => Float, { nullable: true, description: 'REACH ÷ the target market size; null when no size is set.' }) awareness!: number | null;
  @Field(() => Float, {
    nullable: true,
    description: 'The composite index (acquired ÷ market) × (converted ÷ acquired) × satisfaction × awareness; null when a factor is unknown (see unknown).',
  })
  index!: number | null;
  @Field(() => [String], { description: 'Why awareness or the index is null; empty when both are known.' }) unknown!: string[];
}

@ObjectType({ description: 'The promotion funnel of a period and of the period of equal length before it.' })
export class Funnel {
  @Field(() => ID, { nullable: true }) allianceId!: string | null;
  @Field(() => ID, { nullable: true }) campaignId!: string | null;
  @Field(() => SafeIntScalar, { nullable: true, description: 'The target market size awareness is measured against; null when unset (never estimated).' })
  marketSize!: number | null;
  @Field(() => FunnelPeriod) current!: FunnelPeriod;
  @Field(() => FunnelPeriod) previous!: FunnelPeriod;
  @Field(() => Float, { nullable: true }) satisfactionDelta!: number | null;
  @Field(() => Float, { nullable: true }) awarenessDelta!: number | null;
  @Field(() => Float, { nullable: true }) indexDelta!: number | null;
}

@ObjectType()
export class TargetMarket {
  @Field(() => ID, { nullable: true, description: 'The campaign the size is for; null for the brand.' }) campaignId!: string | null;
  @Field(() => SafeIntScalar, { nullable: true }) size!: number | null;
}

@ObjectType()
export class SatisfactionReading {
  @Field(() => Float, { nullable: true, description: '(mean rating − 1) ÷ 4; null without ratings.' }) satisfaction!: number | null;
  @Field(() => SafeIntScalar) ratings!: number;
}

@ObjectType()
export class MemberSatisfaction extends SatisfactionReading {
  @Field(() => ID) brandId!: string;
}

@ObjectType()
export class ImpactPoint {
  @Field(() => DateTimeScalar) bucketStart!: Date;
  @Field(() => SatisfactionReading, { description: "X_AB: ratings of the alliance's joint courses and campaigns." }) joint!: SatisfactionReading;
  @Field(() => [MemberSatisfaction], { description: "X_m: each ACTIVE member's own learners' ratings of its own offer (nothing joint), in brand id order." })
  members!: MemberSatisfaction[];
  @Field(() => Float, { nullable: true, description: "ρ = X_AB − the members' satisfaction weighted by their ratings; null when either is unknown." })
  uplift!: number | null;
  @Field({ description: 'Whether the bucket enters the fit: at least 5 ratings of the joint offer and of every member’s own.' }) usable!: boolean;
}

@ObjectType()
export class FitCoefficient {
  @Field({ description: 'alpha for the first member, beta for the second, beta3… for more, gamma for the uplift.' }) name!: string;
  @Field(() => ID, { nullable: true, description: 'The member whose satisfaction it weighs; null for gamma.' }) brandId!: string | null;
  @Field(() => Float) estimate!: number;
  @Field(() => Float) standardError!: number;
  @Field(() => Float, { description: 'The 95% interval, from Student’s t.' }) low!: number;
  @Field(() => Float) high!: number;
}

@ObjectType()
export class SatisfactionFit {
  @Field({ description: 'The model fitted.' }) model!: string;
  @Field(() => [FitCoefficient], { nullable: true, description: 'Null when there is too little to fit (see reason).' }) coefficients!: FitCoefficient[] | null;
  @Field(() => Float, { nullable: true }) rSquared!: number | null;
  @Field(() => Int, { description: 'Usable buckets behind the fit.' }) points!: number;
  @Field(() => Int, { nullable: true }) residualDegreesOfFreedom!: number | null;
  @Field(() => String, { nullable: true, description: 'Why there is no fit; null when there is one.' }) reason!: string | null;
}

@ObjectType({ description: "How the alliance's joint offer satisfies learners against its members' own offers." })
export class AllianceImpact {
  @Field(() => ID) allianceId!: string;
  @Field(() => DateTimeScalar) from!: Date;
  @Field(() => DateTimeScalar) to!: Date;
  @Field(() => MetricsBucket) bucket!: MetricsBucket;
  @Field(() => [ID], { description: 'The ACTIVE members, in the order of ImpactPoint.members and of the coefficients.' }) memberIds!: string[];
  @Field(() => [ImpactPoint]) points!: ImpactPoint[];
  @Field(() => SatisfactionFit) fit!: SatisfactionFit;
}

registerEnumType(BudgetObjective, { name: 'BudgetObjective', description: 'What a budget suggestion maximises.' });

@ObjectType()
export class BudgetShare {
  @Field(() => ID) campaignId!: string;
  @Field(() => Money, { description: 'What to spend on the campaign over the weeks, in whole minor units (the shares add up to the total).' }) amount!: Money;
  @Field(() => Float) share!: number;
  @Field(() => Float, { description: 'The expected outcome over the weeks: conversions, or revenue in minor units of the total’s currency.' }) expected!: number;
  @Field(() => Float, { description: 'The 95% interval of the expected outcome.' }) expectedLow!: number;
  @Field(() => Float) expectedHigh!: number;
  @Field(() => Money, { nullable: true, description: 'Measured: spend ÷ clicks, in the total’s currency; null without clicks.' }) costPerClick!: Money | null;
  @Field(() => Float, { nullable: true, description: 'Measured: clicks ÷ impressions.' }) ctr!: number | null;
  @Field(() => Float, { nullable: true, description: 'The active CTR model’s expected click rate for the campaign’s audience; null without a model.' }) predictedCtr!: number | null;
  @Field(() => Float, { nullable: true, description: 'Measured: conversions ÷ clicks.' }) conversionRate!: number | null;
  @Field(() => Float, { nullable: true, description: 'a of the fitted weekly response a·s^k (s in minor units); null in a proportional split.' }) responseScale!: number | null;
  @Field(() => Float, { nullable: true, description: 'k of the fitted weekly response.' }) responseExponent!: number | null;
  @Field(() => Int, { description: 'Weeks with spend in the total’s currency.' }) weeksOfHistory!: number;
}

@ObjectType({ description: 'A split of a total budget across campaigns that maximises the expected objective.' })
export class BudgetSuggestion {
  @Field(() => BudgetObjective) objective!: BudgetObjective;
  @Field(() => Money) total!: Money;
  @Field(() => Int) weeks!: number;
  @Field({ description: 'RESPONSE_CURVES (diminishing returns fitted per campaign) or PROPORTIONAL_TO_RETURN (the fallback).' }) method!: string;
  @Field(() => Float, { description: 'The expected outcome of the whole split.' }) expected!: number;
  @Field(() => [BudgetShare]) shares!: BudgetShare[];
  @Field(() => [String]) assumptions!: string[];
  @Field(() => [String], { description: 'What the suggestion could not take into account, and the fallback when one was used.' }) warnings!: string[];
}
