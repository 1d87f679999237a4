import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { EventInput, RecordEventsResult } from '../schema/event.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver()
export class EventResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.INGEST)
  @Mutation(() => RecordEventsResult, {
    description: 'At most 1000 events. Valid ones are stored (committed before the response), bad ones come back in `rejected`.',
  })
  recordEvents(@Ctx() ctx: RequestContext, @Arg('events', () => [EventInput]) events: EventInput[]) {
    return this.services.events.record(ctx, events);
  }
}
