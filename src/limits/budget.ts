import { AlliedError, badInput } from '../errors';

/** Limits that hold for one operation as a whole, whatever its fields and aliases. */
export interface OperationLimits {
  /** Objects one operation may complete (`ALLIED_MAX_QUERY_COST`). */
  maxObjects: number;
  /** Events one operation may record, across all its `recordEvents` fields. */
  maxEvents: number;
}

export const UNLIMITED: OperationLimits = { maxObjects: Number.POSITIVE_INFINITY, maxEvents: Number.POSITIVE_INFINITY };

/**
 * What an operation has spent so far. The static cost estimate refuses
 * documents before they run; this holds at run time, where a list turns out
 * longer than estimated: past the object budget the operation's answer is
 * replaced by one QUERY_TOO_COMPLEX error (and a mutation rolls back).
 */
export class OperationBudget {
  private objects = 0;
  private events = 0;
  /** Set once the object budget is exceeded. */
  exceeded: AlliedError | null = null;

  constructor(readonly limits: OperationLimits) {}

  /** One more object completed. */
  object(): void {
    if (++this.objects <= this.limits.maxObjects) return;
    this.exceeded ??= new AlliedError(
      'QUERY_TOO_COMPLEX',
      `The operation returned more than ${this.limits.maxObjects} objects; ask for smaller pages or fewer fields.`,
      { limit: 'ALLIED_MAX_QUERY_COST' },
    );
    throw this.exceeded;
  }

  /** `count` more events to record in this operation; BAD_USER_INPUT past the limit. */
  recordEvents(count: number): void {
    this.events += count;
    if (this.events > this.limits.maxEvents) {
      throw badInput(
        `At most ${this.limits.maxEvents} events per operation, across all its recordEvents fields; send the rest in further operations.`,
        { limit: 'EVENTS_PER_OPERATION' },
      );
    }
  }

  /** A subscription's context starts afresh for each event it resolves. */
  reset(): void {
    this.objects = 0;
    this.events = 0;
    this.exceeded = null;
  }
}
