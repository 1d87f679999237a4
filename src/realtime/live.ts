import type { Logger } from 'pino';
import type { SettlementEntity } from '../entities';
import type { MetricsWindow } from '../entities/enums';
import { AlliedError, forbidden } from '../errors';
import type { MetricsSnapshot } from '../schema/metrics.types';
import type { RequestContext } from '../tenancy/context';
import { Principal } from '../tenancy/principal';
import { Role } from '../tenancy/roles';
import type { RunAs } from '../tenancy/run-as';
import { markShareable } from './fanout';
import { Latest } from './latest';
import type { ModelVersionRow } from '../ml/registry/registry';
import type { LoyaltyMember } from '../schema/loyalty.types';
import type { Signal, SignalBus } from './signal';
import type { LiveSubscriptions } from './subscriptions';

/** The reads the hub makes, each as a brand in its own transaction; the composition root supplies them from the services. */
export interface LiveReads {
  /** A snapshot as the context's brand sees it, with the alliance's ACTIVE members as it sees them. */
  snapshot(ctx: RequestContext, window: MetricsWindow, allianceId: string | null): Promise<{ active: Set<string>; snapshot: MetricsSnapshot }>;
  activeMemberIds(ctx: RequestContext, allianceId: string): Promise<Set<string>>;
  settlement(ctx: RequestContext, settlementId: string): Promise<SettlementEntity | null>;
  /** One of the context's brand's model versions, with its training progress; null when it has none of that id. */
  modelVersion(ctx: RequestContext, versionId: string): Promise<ModelVersionRow | null>;
  /** The context's brand's learner linked to the membership, with its balance; null when the brand has no learner linked to it. */
  loyaltyMember(ctx: RequestContext, memberId: string): Promise<LoyaltyMember | null>;
}

export interface LiveOptions {
  /** Subscriptions one WebSocket connection may hold. */
  perConnection: number;
  /** Subscriptions one brand may hold on this instance. */
  perBrand: number;
  /** The least time between two snapshots of one scope. */
  minIntervalMs: number;
  /** How often every scope is recomputed anyway (windows slide as time passes). */
  refreshMs: number;
}

interface Subscriber<T> {
  brandId: string;
  connection: object;
  out: Latest<T>;
  /** Has not had its first value yet: gets the next one, changed or not. */
  fresh: boolean;
  /** What it was last sent, as JSON, where only changes are sent. */
  sent?: string;
}

/** One brand's or one alliance's figures over one window, and who watches them. */
interface MetricsScope {
  key: string;
  brandId: string | null;
  allianceId: string | null;
  window: MetricsWindow;
  subscribers: Set<Subscriber<MetricsSnapshot>>;
  last: { figures: string; snapshot: MetricsSnapshot; at: number } | null;
  running: boolean;
  /** Changed while a computation ran, or a full resend is due. */
  again: boolean;
  resend: boolean;
  lastStart: number;
  timer: NodeJS.Timeout | null;
}

/** A snapshot's figures, without the times that change on every computation. */
const figuresOf = ({ at: _at, windowStart: _w, ...figures }: MetricsSnapshot) => JSON.stringify(figures);

/**
 * Live metrics and settlement updates for this instance's subscribers.
 *
 * A signal marks a scope (a brand, an alliance) changed; each changed scope
 * is recomputed once — at most once per `minIntervalMs` — and the snapshot
 * fans out to every local subscriber of it, so the cost grows with changed
 * scopes, not with subscribers. Subscribers hold only the latest snapshot.
 * Alliance figures go only to brands that are still ACTIVE members; the
 * others' subscriptions end with FORBIDDEN.
 */
export class LiveHub implements LiveSubscriptions {
  private readonly scopes = new Map<string, MetricsScope>();
  private readonly settlementWatchers = new Map<string, Set<Subscriber<SettlementEntity>>>();
  private readonly modelWatchers = new Map<string, Set<Subscriber<ModelVersionRow>>>();
  private readonly loyaltyWatchers = new Map<string, Set<Subscriber<LoyaltyMember>>>();
  private readonly perConnection = new WeakMap<object, number>();
  private readonly perBrand = new Map<string, number>();
  private readonly stopListening: () => void;
  private readonly refresher: NodeJS.Timeout;
  /** Reads in flight, which close() waits for. */
  private readonly running = new Set<Promise<void>>();

  constructor(
    /**
     * Into a brand's transaction. On PostgreSQL the composition root gives the
     * hub a small pool of its own, so snapshots never queue behind requests
     * for the application pool; on the embedded database (one connection) the
     * application's.
     */
    private readonly runAs: RunAs,
    private readonly reads: LiveReads,
    bus: SignalBus,
    private readonly log: Logger,
    private readonly options: LiveOptions,
  ) {
    this.stopListening = bus.listen((signals) => this.onSignals(signals));
    this.refresher = setInterval(() => this.refreshAll(false), options.refreshMs);
    this.refresher.unref();
  }

  /** The caller's brand, or an alliance it is an ACTIVE member of (checked by the resolver). */
  metrics(brandId: string, connection: object, window: MetricsWindow, allianceId: string | null): AsyncIterableIterator<MetricsSnapshot> {
    this.admit(brandId, connection);
    const key = `${allianceId ? `alliance:${allianceId}` : `brand:${brandId}`}|${window}`;
    let scope = this.scopes.get(key);
    if (!scope) {
      scope = { key, brandId: allianceId ? null : brandId, allianceId, window, subscribers: new Set(), last: null, running: false, again: false, resend: false, lastStart: 0, timer: null };
      this.scopes.set(key, scope);
    }
    const owner = scope;
    const subscriber: Subscriber<MetricsSnapshot> = {
      brandId,
      connection,
      fresh: true,
      out: new Latest(() => this.leave(owner, subscriber)),
    };
    scope.subscribers.add(subscriber);
    // A snapshot at once: the latest one if it is recent (any change since is signalled), else a new one.
    if (scope.last && Date.now() - scope.last.at < this.options.minIntervalMs) {
      subscriber.fresh = false;
      subscriber.out.push(scope.last.snapshot);
    } else {
      this.schedule(scope, true);
    }
    return subscriber.out;
  }

  /** Settlements of an alliance the caller is an ACTIVE member of (checked by the resolver), as they are run or finalized. */
  settlements(brandId: string, connection: object, allianceId: string): AsyncIterableIterator<SettlementEntity> {
    return this.watch(this.settlementWatchers, allianceId, brandId, connection).out;
  }

  /**
   * A model version's training, as the brand sees it: the version at once,
   * then each time it trains further, until it is READY or FAILED (sent
   * last, then the stream ends). Another brand's version is NOT_FOUND.
   */
  modelTraining(brandId: string, connection: object, versionId: string): AsyncIterableIterator<ModelVersionRow> {
    const subscriber = this.watch(this.modelWatchers, versionId, brandId, connection);
    this.track(this.deliverModel(versionId));
    return subscriber.out;
  }

  /**
   * A loyalty membership as the brand sees it (its own learner linked to
   * it): at once, then whenever its balance, debt, expiring points or tier
   * change, wherever the change was made (earning at one brand, spending at
   * another). A membership the brand has no learner linked to is NOT_FOUND.
   */
  loyaltyMember(brandId: string, connection: object, memberId: string): AsyncIterableIterator<LoyaltyMember> {
    const subscriber = this.watch(this.loyaltyWatchers, memberId, brandId, connection);
    subscriber.fresh = true;
    this.track(this.deliverLoyalty(memberId));
    return subscriber.out;
  }

  /** A subscriber of `key` in `map`, removed from it (and the limits) when its stream ends. */
  private watch<T>(map: Map<string, Set<Subscriber<T>>>, key: string, brandId: string, connection: object): Subscriber<T> {
    this.admit(brandId, connection);
    const watchers = map.get(key) ?? new Set();
    map.set(key, watchers);
    const subscriber: Subscriber<T> = {
      brandId,
      connection,
      fresh: false,
      out: new Latest(() => {
        watchers.delete(subscriber);
        if (watchers.size === 0) map.delete(key);
        this.release(brandId, connection);
      }),
    };
    watchers.add(subscriber);
    return subscriber;
  }

  async isActiveMember(brandId: string, allianceId: string): Promise<boolean> {
    return (await this.asBrand(brandId, (ctx) => this.reads.activeMemberIds(ctx, allianceId))).has(brandId);
  }

  /** Stops serving; resolves once no snapshot or settlement read is still running (so its pool may close). */
  async close(): Promise<void> {
    this.stopListening();
    clearInterval(this.refresher);
    for (const scope of this.scopes.values()) {
      if (scope.timer) clearTimeout(scope.timer);
      for (const s of [...scope.subscribers]) void s.out.return();
    }
    for (const set of this.settlementWatchers.values()) for (const s of [...set]) void s.out.return();
    for (const set of this.modelWatchers.values()) for (const s of [...set]) void s.out.return();
    for (const set of this.loyaltyWatchers.values()) for (const s of [...set]) void s.out.return();
    await Promise.all([...this.running]);
  }

  /** Both report their own failures; this only remembers them until they end. */
  private track(work: Promise<void>): void {
    const settled = work.catch(() => undefined).finally(() => this.running.delete(settled));
    this.running.add(settled);
  }

  // --- limits ---------------------------------------------------------------

  /** Subscriptions this instance holds now, over every brand. */
  get held(): number {
    let count = 0;
    for (const n of this.perBrand.values()) count += n;
    return count;
  }

  private admit(brandId: string, connection: object): void {
    const onConnection = this.perConnection.get(connection) ?? 0;
    if (onConnection >= this.options.perConnection) {
      throw new AlliedError('RATE_LIMITED', `A connection may hold at most ${this.options.perConnection} subscriptions.`);
    }
    const ofBrand = this.perBrand.get(brandId) ?? 0;
    if (ofBrand >= this.options.perBrand) {
      throw new AlliedError('RATE_LIMITED', `A brand may hold at most ${this.options.perBrand} subscriptions on one server.`);
    }
    this.perConnection.set(connection, onConnection + 1);
    this.perBrand.set(brandId, ofBrand + 1);
  }

  private release(brandId: string, connection: object): void {
    this.perConnection.set(connection, Math.max(0, (this.perConnection.get(connection) ?? 1) - 1));
    const left = (this.perBrand.get(brandId) ?? 1) - 1;
    if (left > 0) this.perBrand.set(brandId, left);
    else this.perBrand.delete(brandId);
  }

  private leave(scope: MetricsScope, subscriber: Subscriber<MetricsSnapshot>): void {
    scope.subscribers.delete(subscriber);
    this.release(subscriber.brandId, subscriber.connection);
    if (scope.subscribers.size === 0) {
      if (scope.timer) clearTimeout(scope.timer);
      this.scopes.delete(scope.key);
    }
  }

  // --- signals --------------------------------------------------------------

  private onSignals(signals: Signal[]): void {
    for (const signal of signals) {
      if (signal.kind === 'resync') {
        this.refreshAll(true);
        for (const versionId of this.modelWatchers.keys()) this.track(this.deliverModel(versionId));
      }
      else if (signal.kind === 'settlement') this.track(this.deliverSettlement(signal.allianceId, signal.settlementId));
      else if (signal.kind === 'model') this.track(this.deliverModel(signal.versionId));
      else if (signal.kind === 'loyalty') this.track(this.deliverLoyalty(signal.memberId));
      else {
        const prefix = `${signal.kind}:${signal.id}|`;
        for (const scope of this.scopes.values()) if (scope.key.startsWith(prefix)) this.schedule(scope, false);
      }
    }
  }

  /** Also re-reads every watched membership: points expire as time passes, with no entry written until the membership is next touched. */
  private refreshAll(resend: boolean): void {
    for (const memberId of this.loyaltyWatchers.keys()) this.track(this.deliverLoyalty(memberId));
    for (const scope of this.scopes.values()) {
      if (resend) scope.resend = true;
      this.schedule(scope, resend);
    }
  }

  /** Recomputes the scope now, or as soon as its minimum interval allows; never two at once. */
  private schedule(scope: MetricsScope, now: boolean): void {
    if (scope.running) {
      scope.again = true;
      return;
    }
    if (scope.timer) return;
    const wait = now ? 0 : Math.max(0, scope.lastStart + this.options.minIntervalMs - Date.now());
    scope.timer = setTimeout(() => {
      scope.timer = null;
      this.track(this.compute(scope));
    }, wait);
  }

  private async compute(scope: MetricsScope): Promise<void> {
    if (!this.scopes.has(scope.key)) return;
    scope.running = true;
    scope.again = false;
    scope.lastStart = Date.now();
    const resend = scope.resend;
    scope.resend = false;
    try {
      const snapshot = await this.snapshot(scope);
      if (snapshot) this.deliver(scope, snapshot, resend);
      this.log.debug({ scope: scope.key, ms: Date.now() - scope.lastStart, subscribers: scope.subscribers.size }, 'live snapshot');
    } catch (error) {
      this.log.error({ err: error, scope: scope.key }, 'live metrics computation failed');
    } finally {
      scope.running = false;
      if (scope.again) this.schedule(scope, false);
    }
  }

  /** The scope's snapshot, computed as a brand that may see it; subscribers that may not are ended. */
  private async snapshot(scope: MetricsScope): Promise<MetricsSnapshot | null> {
    if (scope.brandId) return (await this.figures(scope.brandId, scope.window, null)).snapshot;
    const brands = [...new Set([...scope.subscribers].map((s) => s.brandId))];
    for (const brandId of brands) {
      const { active, snapshot } = await this.figures(brandId, scope.window, scope.allianceId);
      if (!active.has(brandId)) continue;
      this.endOutsiders(scope.subscribers, active);
      return snapshot;
    }
    this.endOutsiders(scope.subscribers, new Set());
    return null;
  }

  /** A snapshot as `brandId` sees it (and, for an alliance, its ACTIVE members as that brand sees them). */
  private figures(brandId: string, window: MetricsWindow, allianceId: string | null) {
    return this.asBrand(brandId, (ctx) => this.reads.snapshot(ctx, window, allianceId));
  }

  private endOutsiders<T>(subscribers: Set<Subscriber<T>>, active: Set<string>): void {
    for (const s of [...subscribers]) {
      if (!active.has(s.brandId)) s.out.fail(forbidden('Your brand is no longer an ACTIVE member of this alliance.'));
    }
  }

  private deliver(scope: MetricsScope, snapshot: MetricsSnapshot, resend: boolean): void {
    markShareable(snapshot);
    const figures = figuresOf(snapshot);
    const changed = scope.last?.figures !== figures;
    scope.last = { figures, snapshot, at: Date.now() };
    for (const s of scope.subscribers) {
      if (changed || resend || s.fresh) {
        s.fresh = false;
        s.out.push(snapshot);
      }
    }
  }

  private async deliverSettlement(allianceId: string, settlementId: string): Promise<void> {
    const watchers = this.settlementWatchers.get(allianceId);
    if (!watchers?.size) return;
    try {
      for (const brandId of new Set([...watchers].map((s) => s.brandId))) {
        const found = await this.asBrand(brandId, async (ctx) => {
          const active = await this.reads.activeMemberIds(ctx, allianceId);
          return active.has(brandId) ? { active, settlement: await this.reads.settlement(ctx, settlementId) } : null;
        });
        if (!found) continue;
        this.endOutsiders(watchers, found.active);
        if (found.settlement) for (const s of watchers) s.out.push(found.settlement);
        return;
      }
      this.endOutsiders(watchers, new Set());
    } catch (error) {
      this.log.error({ err: error, allianceId }, 'settlement update failed');
    }
  }

  /** Each watching brand reads the version as itself: a brand never sees another's. */
  private async deliverModel(versionId: string): Promise<void> {
    const watchers = this.modelWatchers.get(versionId);
    if (!watchers?.size) return;
    for (const brandId of new Set([...watchers].map((s) => s.brandId))) {
      const mine = [...watchers].filter((s) => s.brandId === brandId);
      try {
        const version = await this.asBrand(brandId, (ctx) => this.reads.modelVersion(ctx, versionId));
        for (const s of mine) {
          if (!version) s.out.fail(new AlliedError('NOT_FOUND', 'Model version not found.'));
          else {
            s.out.push(version);
            if (version.status !== 'TRAINING') s.out.end();
          }
        }
      } catch (error) {
        this.log.error({ err: error, versionId }, 'model training update failed');
      }
    }
  }

  /** Each watching brand reads the membership as itself; a subscriber gets it only when it differs from what it was last sent. */
  private async deliverLoyalty(memberId: string): Promise<void> {
    const watchers = this.loyaltyWatchers.get(memberId);
    if (!watchers?.size) return;
    for (const brandId of new Set([...watchers].map((s) => s.brandId))) {
      try {
        const member = await this.asBrand(brandId, (ctx) => this.reads.loyaltyMember(ctx, memberId));
        const sent = member && JSON.stringify(member);
        for (const s of [...watchers].filter((w) => w.brandId === brandId)) {
          if (!member) s.out.fail(new AlliedError('NOT_FOUND', 'Loyalty membership not found.'));
          else if (s.fresh || s.sent !== sent) {
            s.fresh = false;
            s.sent = sent!;
            s.out.push(member);
          }
        }
      } catch (error) {
        this.log.error({ err: error, memberId }, 'loyalty balance update failed');
      }
    }
  }

  /** Runs `work` in a transaction of `brandId`, reading as an ANALYST of it would. */
  private asBrand<T>(brandId: string, work: (ctx: RequestContext) => Promise<T>): Promise<T> {
    return this.runAs(Principal.system(brandId, 'live', [Role.ANALYST]), work, { log: this.log });
  }
}
