import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import type { BrandEntity } from '../entities';
import { AlliedError, forbidden, unauthenticated } from '../errors';
import { encodeSignal, type Signal, type SignalBus } from '../realtime/signal';
import type { LiveSubscriptions } from '../realtime/subscriptions';
import type { Admission } from '../limits/admission';
import { OperationBudget, UNLIMITED, type OperationLimits } from '../limits/budget';
import type { Principal } from './principal';
import { TenantTransaction } from './transaction';

export interface ContextOptions {
  /** Where change signals go after commit. */
  bus?: SignalBus;
  /** The operation's object and event limits; none by default. */
  limits?: OperationLimits;
  /** Whose share of the database pool the transaction counts against; the brand by default. */
  admissionKey?: string;
  /** Fair access to the pool; none for work on a pool of its own. */
  admission?: Admission;
}

/**
 * Everything an operation needs, built once per request: the principal, its
 * brand, a logger carrying the request id, per-request DataLoaders, and the
 * one tenant-scoped transaction that the whole operation runs in.
 *
 * The transaction opens on first use, so operations that read no tenant data
 * (introspection, `me` without fields that load) cost no round trip.
 */
export class RequestContext {
  /**
   * What changes as the operation runs, in one object: Apollo hands resolvers
   * a shallow copy of the context, and the copy must share it.
   */
  private readonly state: { tx?: Promise<TenantTransaction>; rollbackWanted: boolean; ended: string | null } = {
    rollbackWanted: false,
    ended: null,
  };
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();
  private readonly afterCommitHooks: (() => void)[] = [];
  private readonly signals = new Map<string, Signal>();
  /** Set for operations that came over WebSocket: where subscriptions are served, and the connection (limits count per connection). */
  live?: { hub: LiveSubscriptions; connection: object };
  /** What this operation has spent of its object and event limits. */
  readonly budget: OperationBudget;
  /** Where change signals go; none for work that no subscriber watches. */
  readonly bus?: SignalBus;
  private readonly admissionKey?: string;
  private readonly admission?: Admission;

  constructor(
    readonly dataSource: DataSource,
    readonly principal: Principal | null,
    readonly requestId: string,
    readonly log: Logger,
    options: ContextOptions = {},
  ) {
    this.bus = options.bus;
    this.admissionKey = options.admissionKey;
    this.admission = options.admission;
    this.budget = new OperationBudget(options.limits ?? UNLIMITED);
  }

  /** The caller, or UNAUTHENTICATED. */
  get caller(): Principal {
    if (!this.principal) throw unauthenticated();
    return this.principal;
  }

  /** The caller's brand id (the tenant), or FORBIDDEN for callers without one. */
  get brandId(): string {
    const brandId = this.caller.brandId;
    if (!brandId) throw forbidden('This operation acts for a brand; a platform-admin credential has none.');
    return brandId;
  }

  /** The entity manager of this operation's tenant transaction. */
  manager(): Promise<EntityManager> {
    return this.transaction().then((tx) => tx.manager);
  }

  /** The caller's own brand as it was when the transaction opened (null for platform admins). */
  ownBrand(): Promise<BrandEntity | null> {
    return this.transaction().then((tx) => tx.ownBrand());
  }

  /** Alliances the caller's brand is an ACTIVE member of (read with the transaction's first statement). */
  activeAlliances(): Promise<string[]> {
    return this.transaction().then((tx) => tx.activeAlliances());
  }

  /** After a membership change in this operation, reread the caller's alliances. */
  async membershipChanged(): Promise<void> {
    await (await this.transaction()).refreshMembership();
  }

  /** A per-request DataLoader, created on first use under `key`. */
  loader<K, V>(key: string, batch: (keys: readonly K[]) => Promise<(V | Error)[]>): DataLoader<K, V> {
    let loader = this.loaders.get(key) as DataLoader<K, V> | undefined;
    if (!loader) {
      // Each batch is logged at debug level: how many keys one statement served.
      const logged = (keys: readonly K[]) => {
        this.log.debug({ loader: key, keys: keys.length }, 'loader batch');
        return batch(keys);
      };
      loader = new DataLoader<K, V>(logged, { maxBatchSize: 500 });
      this.loaders.set(key, loader as DataLoader<unknown, unknown>);
    }
    return loader;
  }

  /** Signals to run once the transaction has committed (never if it rolls back). */
  afterCommit(hook: () => void): void {
    this.afterCommitHooks.push(hook);
  }

  /**
   * Marks brands, alliances or settlements changed: each is signalled once, by
   * the commit (NOTIFY in the transaction, on PostgreSQL) or just after it.
   */
  changed(signals: Signal[]): void {
    if (!this.bus) return;
    if (this.signals.size === 0 && signals.length > 0 && !this.bus.statements) {
      this.afterCommit(() => {
        const all = [...this.signals.values()];
        this.signals.clear();
        this.bus?.publish(all);
      });
    }
    for (const signal of signals) this.signals.set(encodeSignal(signal) ?? signal.kind, signal);
  }

  /**
   * Ends the transaction and forgets what this request loaded: a long-lived
   * context (a subscription's) reads afresh for each event it resolves.
   */
  async release(): Promise<void> {
    this.loaders.clear();
    this.budget.reset();
    await this.finish(true);
  }

  /**
   * The work ends normally but stores nothing: `runAs` rolls back instead of
   * committing (a mutation operation with errors, an operation past its budget).
   */
  rollbackOnly(): void {
    this.state.rollbackWanted = true;
  }

  get wantsRollback(): boolean {
    return this.state.rollbackWanted;
  }

  /**
   * The caller went away: roll back now, and refuse any statement the work
   * still tries, so nothing after this point is stored either.
   */
  async abandon(): Promise<void> {
    this.state.rollbackWanted = true;
    await this.end(false, 'its caller went away');
  }

  /**
   * Finishes the transaction for good: resolvers still running afterwards
   * (siblings of a field that failed keep going in graphql-js) get an error
   * instead of opening a transaction nobody would ever end.
   */
  async end(succeeded: boolean, why = 'it has ended'): Promise<void> {
    this.state.ended ??= why;
    await this.finish(succeeded);
  }

  /**
   * Ends the transaction: commit when the operation succeeded, roll back when
   * it did not. A failed commit throws, so the caller can report the failure
   * instead of a result that was never stored.
   */
  async finish(succeeded: boolean): Promise<void> {
    const pending = this.state.tx;
    this.state.tx = undefined;
    if (!pending) return;
    const tx = await pending.catch(() => undefined);
    if (!tx) return;
    if (!succeeded) {
      this.afterCommitHooks.length = 0;
      this.signals.clear();
      await tx.rollback();
      return;
    }
    const notify = this.signals.size && this.bus?.statements ? this.bus.statements([...this.signals.values()]) : [];
    if (this.bus?.statements) this.signals.clear();
    await tx.commit(notify);
    for (const hook of this.afterCommitHooks.splice(0)) {
      try {
        hook();
      } catch (error) {
        this.log.error({ err: error }, 'after-commit hook failed');
      }
    }
  }

  private transaction(): Promise<TenantTransaction> {
    if (!this.state.tx) {
      if (this.state.ended) return Promise.reject(new AlliedError('INTERNAL_SERVER_ERROR', `The operation's transaction is over: ${this.state.ended}.`));
      const principal = this.caller;
      this.state.tx = TenantTransaction.open(this.dataSource, {
        brandId: principal.brandId,
        platformAdmin: principal.isPlatformAdmin,
        admissionKey: this.admissionKey,
      }, this.admission);
    }
    return this.state.tx;
  }
}
