import { LifecycleCounts } from './lifecycle.types';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { Money } from './common.types';
import { DateTimeScalar, SafeIntScalar } from './scalars';
import { MetricsWindow, MetricsBucket } from '../entities/enums';
export { MetricsWindow, MetricsBucket };

registerEnumType(MetricsWindow, { name: 'MetricsWindow' });
registerEnumType(MetricsBucket, { name: 'MetricsBucket' });

@ObjectType()
export class MetricsSnapshot {
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => DateTimeScalar) windowStart!: Date;
  @Field(() => [Money], { description: 'Purchases less refunds, one amount per currency.' }) revenue!: Money[];
  @Field(() => SafeIntScalar) purchases!: number;
  @Field(() => SafeIntScalar) refunds!: number;
  @Field(() => SafeIntScalar) impressions!: number;
  @Field(() => SafeIntScalar) clicks!: number;
  @Field(() => Float, { description: 'clicks / impressions; 0 without impressions.' }) ctr!: number;
  @Field(() => SafeIntScalar, { description: 'Purchases attributed to a campaign (named, or the last click within 7 days).' })
  conversions!: number;
  @Field(() => Float, { description: 'conversions / clicks; 0 without clicks.' }) conversionRate!: number;
  @Field(() => Float, { nullable: true, description: 'Mean rating mapped to 0..1 ((mean − 1) / 4); null with no ratings.' })
  satisfaction!: number | null;
  @Field(() => SafeIntScalar) ratings!: number;
  @Field(() => SafeIntScalar) activeLearners!: number;
  @Field(() => LifecycleCounts, { nullable: true, description: "The brand's learners per lifecycle stage now; null for an alliance (learners never cross brands)." })
  lifecycle?: LifecycleCounts | null;
}

@ObjectType()
export class MetricsPoint {
  @Field(() => DateTimeScalar) bucketStart!: Date;
  @Field(() => [Money]) revenue!: Money[];
  @Field(() => SafeIntScalar) purchases!: number;
  @Field(() => SafeIntScalar) impressions!: number;
  @Field(() => SafeIntScalar) clicks!: number;
  @Field(() => SafeIntScalar) conversions!: number;
  @Field(() => Float, { nullable: true }) satisfaction!: number | null;
  @Field(() => SafeIntScalar) ratings!: number;
}

@ObjectType()
export class MetricsSeries {
  @Field(() => DateTimeScalar) from!: Date;
  @Field(() => DateTimeScalar) to!: Date;
  @Field(() => MetricsBucket) bucket!: MetricsBucket;
  @Field(() => [MetricsPoint]) points!: MetricsPoint[];
}
