import { Arg, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { LifecycleCounts } from '../schema/lifecycle.types';
import { MetricsBucket, MetricsSeries, MetricsSnapshot, MetricsWindow } from '../schema/metrics.types';
import { DateTimeScalar } from '../schema/scalars';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver()
export class MetricsResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => MetricsSnapshot, { description: "The caller's brand, or one alliance it is an ACTIVE member of (joint courses and campaigns)." })
  metrics(
    @Ctx() ctx: RequestContext,
    @Arg('window', () => MetricsWindow, { nullable: true, defaultValue: MetricsWindow.LAST_24_HOURS }) window: MetricsWindow | null,
    @Arg('allianceId', () => ID, { nullable: true }) allianceId?: string,
  ) {
    return this.services.metrics.snapshot(ctx, window ?? MetricsWindow.LAST_24_HOURS, allianceId);
  }

  @Authorized(Role.ANALYST)
  @Query(() => MetricsSeries)
  metricsSeries(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('bucket', () => MetricsBucket, { nullable: true, defaultValue: MetricsBucket.DAY }) bucket: MetricsBucket | null,
    @Arg('allianceId', () => ID, { nullable: true }) allianceId?: string,
  ) {
    return this.services.metrics.series(ctx, from, to, bucket ?? MetricsBucket.DAY, allianceId);
  }
}

/** MetricsSnapshot.lifecycle: counted when selected, unless the snapshot already holds it (live snapshots) or is an alliance's (null). */
@Resolver(() => MetricsSnapshot)
export class MetricsSnapshotResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => LifecycleCounts, { nullable: true })
  lifecycle(@Root() snapshot: MetricsSnapshot, @Ctx() ctx: RequestContext) {
    return snapshot.lifecycle !== undefined ? snapshot.lifecycle : this.services.lifecycle.counts(ctx);
  }
}
