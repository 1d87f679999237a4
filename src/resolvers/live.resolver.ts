import { Arg, Authorized, ID, Resolver, Root, Subscription, type ResolverData } from 'type-graphql';
import type { SettlementEntity } from '../entities';
import { AlliedError, forbidden } from '../errors';
import { MetricsSnapshot, MetricsWindow } from '../schema/metrics.types';
import { Settlement } from '../schema/settlement.types';
import { TrainingProgress } from '../schema/model.types';
import { LoyaltyMember } from '../schema/loyalty.types';
import type { ModelVersionRow } from '../ml/registry/registry';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { Role } from '../tenancy/roles';

type SubscribeData = Omit<ResolverData<RequestContext>, 'root'>;

/** The hub serving this WebSocket operation, after the caller's right to the scope is checked (on every subscribe). */
async function admitted(ctx: RequestContext, allianceId: unknown) {
  const live = ctx.live;
  if (!live) throw new AlliedError('BAD_USER_INPUT', 'Subscriptions are served over WebSocket (graphql-ws) at /graphql.');
  const brandId = ctx.brandId;
  if (allianceId != null) {
    const member = typeof allianceId === 'string' && isUuid(allianceId) && (await live.hub.isActiveMember(brandId, allianceId));
    if (!member) throw forbidden('Your brand is not an ACTIVE member of that alliance.');
  }
  return { live, brandId };
}

@Resolver()
export class LiveResolver {
  @Authorized(Role.ANALYST)
  @Subscription(() => MetricsSnapshot, {
    name: 'metrics',
    description:
      'The caller\'s brand, or one alliance it is an ACTIVE member of: a snapshot at once, then a new one whenever the numbers change, at most once a second.',
    subscribe: async ({ args, context }: SubscribeData) => {
      const { live, brandId } = await admitted(context, args.allianceId);
      return live.hub.metrics(brandId, live.connection, (args.window ?? MetricsWindow.LAST_24_HOURS) as MetricsWindow, args.allianceId ?? null);
    },
  })
  liveMetrics(
    @Root() snapshot: MetricsSnapshot,
    @Arg('window', () => MetricsWindow, { nullable: true, defaultValue: MetricsWindow.LAST_24_HOURS }) _window: MetricsWindow | null,
    @Arg('allianceId', () => ID, { nullable: true }) _allianceId?: string,
  ): MetricsSnapshot {
    return snapshot;
  }

  @Authorized(Role.ANALYST)
  @Subscription(() => Settlement, {
    description: 'Settlements of an alliance the caller is an ACTIVE member of, each time one is run or finalized.',
    subscribe: async ({ args, context }: SubscribeData) => {
      if (args.allianceId == null) throw new AlliedError('BAD_USER_INPUT', 'allianceId is required.');
      const { live, brandId } = await admitted(context, args.allianceId);
      return live.hub.settlements(brandId, live.connection, args.allianceId as string);
    },
  })
  settlementUpdated(@Root() settlement: SettlementEntity, @Arg('allianceId', () => ID) _allianceId: string): SettlementEntity {
    return settlement;
  }

  @Authorized(Role.ANALYST)
  @Subscription(() => TrainingProgress, {
    description: "A training of the caller's brand: its state at once, then as it progresses; the stream ends after the READY or FAILED version.",
    subscribe: async ({ args, context }: SubscribeData) => {
      const { live, brandId } = await admitted(context, null);
      if (typeof args.id !== 'string' || !isUuid(args.id)) throw new AlliedError('NOT_FOUND', 'Model version not found.');
      return live.hub.modelTraining(brandId, live.connection, args.id);
    },
  })
  modelTraining(@Root() version: ModelVersionRow, @Arg('id', () => ID) _id: string): TrainingProgress {
    return {
      model: version as never,
      progress: version.progress,
      epoch: version.epoch,
      loss: version.loss,
      message: version.failure ?? version.message,
    };
  }

  @Authorized(Role.ANALYST)
  @Subscription(() => LoyaltyMember, {
    description:
      "A loyalty membership of one of the caller's learners (LoyaltyMember.id): at once, then whenever its balance, debt, expiring points or tier change, at whichever member brand the points were earned or spent. NOT_FOUND for a membership none of the brand's learners is linked to.",
    subscribe: async ({ args, context }: SubscribeData) => {
      const { live, brandId } = await admitted(context, null);
      if (typeof args.id !== 'string' || !isUuid(args.id)) throw new AlliedError('NOT_FOUND', 'Loyalty membership not found.');
      return live.hub.loyaltyMember(brandId, live.connection, args.id);
    },
  })
  loyaltyMemberUpdated(@Root() member: LoyaltyMember, @Arg('id', () => ID) _id: string): LoyaltyMember {
    return member;
  }
}
