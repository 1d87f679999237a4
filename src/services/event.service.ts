import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { CampaignEntity, CourseEntity } from '../entities';
import { badInput } from '../errors';
import { EventType } from '../entities/enums';
import type { EventContactInput } from '../schema/email.types';
import type { EventInput } from '../schema/event.types';
import type { RequestContext } from '../tenancy/context';
import type { Signal } from '../realtime/signal';
import type { CampaignService } from './campaign.service';
import type { CourseService } from './course.service';
import { ensureLearners } from './learner.service';
import { eventProblem, MAX_EVENTS_PER_CALL, type Rejection } from './event-rules';

export interface RecordResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

interface Resolved {
  index: number;
  event: EventInput;
  course: CourseEntity | null;
  campaign: CampaignEntity | null;
  creativeId: string | null;
}

/** An event as stored: what after-store hooks see. */
export interface StoredEvent {
  id: string;
  key: string;
  type: EventType;
  learner: string;
  at: Date;
  courseTenant: string | null;
  course: string | null;
  campaignTenant: string | null;
  campaign: string | null;
  creative: string | null;
  alliance: string | null;
  amount: number | null;
  currency: string | null;
  rating: number | null;
  text: string | null;
  refundOf: string | null;
  /** A refund's purchase time (settlements and metrics count a refund with its purchase). */
  refundPurchaseAt: Date | null;
  /** The learner's contact as the event stated it. */
  contact: EventContactInput | null;
}

/**
 * Runs after a call's events are stored, in the same transaction, with the
 * events this call stored (never duplicates or rejections). A hook adds what
 * must follow an event (enqueue a job, update a ledger) and commits or rolls
 * back with it: if a hook throws, nothing of the call is stored.
 */
export type AfterStoreHook = ((ctx: RequestContext, stored: readonly StoredEvent[]) => Promise<void>) & {
  /**
   * Called, not awaited, as the events' rows are about to be written, with
   * the types of the events to be stored: a hook that will read something
   * whatever is stored starts that read here (through a per-request loader),
   * so it shares the write's round trip. Reads only.
   */
  prepare?: (ctx: RequestContext, types: ReadonlySet<string>) => void;
};

/** Events that passed screening, and what screening set aside. */
interface Screened {
  candidates: { index: number; event: EventInput }[];
  rejected: Rejection[];
  duplicates: number;
}

/**
 * Ingestion. Every event is checked on its own; valid ones are stored, bad
 * ones come back as rejections with their index, and a key the brand has
 * already used (stored before, earlier in the batch, or by a concurrent
 * request) is a duplicate, whatever else the event says. The whole call is
 * one transaction, committed before the response is sent.
 *
 * In stages: screen (limits, keys, each event's own rules), resolve what the
 * events name, store, then the after-store hooks, then the change signals.
 */
export class EventService {
  constructor(
    private readonly courses: CourseService,
    private readonly campaigns: CampaignService,
    private readonly afterStore: readonly AfterStoreHook[] = [],
  ) {}

  async record(ctx: RequestContext, events: EventInput[]): Promise<RecordResult> {
    if (events.length > MAX_EVENTS_PER_CALL) {
      throw badInput(`At most ${MAX_EVENTS_PER_CALL} events per call; send the rest in further calls.`);
    }
    ctx.budget.recordEvents(events.length);
    const { candidates, rejected, duplicates: known } = await this.screen(ctx, events);
    const resolved: Resolved[] = [];
    for (const outcome of await Promise.all(candidates.map((c) => this.resolveReferences(ctx, c.index, c.event)))) {
      if ('code' in outcome) rejected.push(outcome);
      else resolved.push(outcome);
    }
    const { stored, duplicates, refused } = await this.store(ctx, resolved);
    rejected.push(...refused);
    if (stored.length) {
      for (const hook of this.afterStore) await hook(ctx, stored);
      ctx.changed(await this.changedScopes(ctx, stored));
    }
    rejected.sort((x, y) => x.index - y.index);
    return { accepted: stored.length, duplicates: known + duplicates, rejected };
  }

  /** Keys used before or earlier in the call are duplicates; the rest must pass each event's own rules. */
  private async screen(ctx: RequestContext, events: EventInput[]): Promise<Screened> {
    const manager = await ctx.manager();
    const keys = [...new Set(events.map((e) => e.idempotencyKey).filter((k) => typeof k === 'string' && k.length <= 200))];
    const stored = new Set<string>(
      (await manager.query(`select idempotency_key from events where tenant_id = $1 and idempotency_key = any($2::text[])`, [ctx.brandId, keys])).map(
        (r: { idempotency_key: string }) => r.idempotency_key,
      ),
    );
    const seen = new Set<string>();
    const screened: Screened = { candidates: [], rejected: [], duplicates: 0 };
    events.forEach((event, index) => {
      if (stored.has(event.idempotencyKey) || seen.has(event.idempotencyKey)) {
        screened.duplicates++;
        return;
      }
      seen.add(event.idempotencyKey);
      const problem = eventProblem(event);
      if (problem) screened.rejected.push({ index, ...problem });
      else screened.candidates.push({ index, event });
    });
    return screened;
  }

  /**
   * Stores resolved events: everything but refunds at once; then refunds one
   * by one, since a refund may name a purchase from this very call and
   * refunds of one purchase must never add up to more than it.
   */
  private async store(ctx: RequestContext, resolved: Resolved[]): Promise<{ stored: StoredEvent[]; duplicates: number; refused: Rejection[] }> {
    const manager = await ctx.manager();
    const brandId = ctx.brandId;
    if (resolved.length) {
      const types = new Set<string>(resolved.map((r) => r.event.type));
      for (const hook of this.afterStore) hook.prepare?.(ctx, types);
    }
    const learners = await ensureLearners(manager, brandId, resolved.map((r) => r.event.learnerExternalId));
    const toRow = (r: Resolved, refund: { purchaseId: string; allianceId: string | null; purchaseAt: Date } | null): StoredEvent => ({
      id: crypto.randomUUID(),
      key: r.event.idempotencyKey,
      type: r.event.type,
      learner: learners.get(r.event.learnerExternalId)!,
      at: r.event.occurredAt,
      courseTenant: r.course?.tenantId ?? null,
      course: r.course?.id ?? null,
      campaignTenant: r.campaign?.tenantId ?? null,
      campaign: r.campaign?.id ?? null,
      creative: r.creativeId,
      // A joint course's alliance first: its revenue is split by that alliance's
      // agreement. A refund belongs wherever its purchase does.
      alliance: refund ? refund.allianceId : (r.course?.allianceId ?? r.campaign?.allianceId ?? null),
      amount: r.event.amount?.amountMinor ?? null,
      currency: r.event.amount?.currency ?? null,
      rating: r.event.rating ?? null,
      text: r.event.text ?? null,
      refundOf: refund?.purchaseId ?? null,
      refundPurchaseAt: refund?.purchaseAt ?? null,
      contact: r.event.contact ?? null,
    });

    const plain = resolved.filter((r) => r.event.type !== EventType.REFUND).map((r) => toRow(r, null));
    const inserted = await this.insert(manager, brandId, plain);
    const stored = plain.filter((row) => inserted.has(row.key));
    let duplicates = plain.length - inserted.size;
    const refused: Rejection[] = [];

    // By purchase (the lock order), and in call order within one purchase.
    const refunds = resolved
      .filter((x) => x.event.type === EventType.REFUND)
      .sort((x, y) => (x.event.refundOf! < y.event.refundOf! ? -1 : x.event.refundOf! > y.event.refundOf! ? 1 : x.index - y.index));
    for (const r of refunds) {
      const outcome = await this.checkRefund(manager, brandId, r);
      if ('code' in outcome) {
        refused.push(outcome);
        continue;
      }
      const row = toRow(r, outcome);
      if ((await this.insert(manager, brandId, [row])).size) stored.push(row);
      else duplicates++;
    }
    return { stored, duplicates, refused };
  }

  /** The course, campaign and creative an event names, as the brand can see them. */
  private async resolveReferences(ctx: RequestContext, index: number, event: EventInput): Promise<Resolved | Rejection> {
    const reject = (code: string, message: string): Rejection => ({ index, code, message });
    const course = event.courseId ? await this.courses.get(ctx, event.courseId) : null;
    if (event.courseId && !course) return reject('UNKNOWN_COURSE', `Course ${event.courseId} not found.`);
    let campaign = event.campaignId ? await this.campaigns.get(ctx, event.campaignId) : null;
    if (event.campaignId && !campaign) return reject('UNKNOWN_CAMPAIGN', `Campaign ${event.campaignId} not found.`);
    let creativeId: string | null = null;
    if (event.creativeId) {
      const creative = await this.campaigns.creative(ctx, event.creativeId);
      if (!creative) return reject('UNKNOWN_CREATIVE', `Creative ${event.creativeId} not found.`);
      if (campaign && creative.campaignId !== campaign.id) {
        return reject('CREATIVE_NOT_IN_CAMPAIGN', `Creative ${creative.id} belongs to another campaign.`);
      }
      // A creative names its campaign.
      campaign ??= await this.campaigns.get(ctx, creative.campaignId);
      creativeId = creative.id;
    }
    return { index, event, course, campaign, creativeId };
  }

  /**
   * The metrics scopes stored rows change: the brand, the alliances the rows
   * carry, and — when a row may move a purchase into an alliance by the
   * attribution rule (a purchase or refund carrying none, a click on a
   * campaign) — every alliance the brand is an ACTIVE member of.
   */
  private async changedScopes(ctx: RequestContext, rows: readonly StoredEvent[]): Promise<Signal[]> {
    const alliances = new Set(rows.map((r) => r.alliance).filter((a): a is string => a !== null));
    const attributable = rows.some(
      (r) => ((r.type === EventType.PURCHASE || r.type === EventType.REFUND) && r.alliance === null) || ((r.type === EventType.CLICK || r.type === EventType.EMAIL_CLICK) && r.campaign !== null),
    );
    if (attributable) for (const id of await ctx.activeAlliances()) alliances.add(id);
    return [{ kind: 'brand', id: ctx.brandId }, ...[...alliances].map((id) => ({ kind: 'alliance' as const, id }))];
  }

  /**
   * A refund must name a purchase of this brand, for the same course and
   * currency, and refunds of one purchase never add up to more than it.
   * Refunds of one purchase are serialised by a transaction-scoped lock.
   */
  private async checkRefund(
    manager: EntityManager,
    brandId: string,
    r: Resolved,
  ): Promise<{ purchaseId: string; allianceId: string | null; purchaseAt: Date } | Rejection> {
    const reject = (code: string, message: string): Rejection => ({ index: r.index, code, message });
    const key = r.event.refundOf as string;
    await manager.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`refund:${brandId}:${key}`]);
    const [purchase] = await manager.query(
      `select id, amount_minor::text as amount, currency, course_id, alliance_id, occurred_at from events
       where tenant_id = $1 and idempotency_key = $2 and type = 'PURCHASE'`,
      [brandId, key],
    );
    if (!purchase) return reject('UNKNOWN_PURCHASE', `refundOf "${key}" names no purchase of this brand.`);
    if (purchase.course_id !== r.course?.id) return reject('REFUND_COURSE_MISMATCH', 'A refund must name the course of its purchase.');
    if (purchase.currency !== r.event.amount?.currency) {
      return reject('REFUND_CURRENCY_MISMATCH', `The purchase was in ${purchase.currency}.`);
    }
    const [{ refunded }] = await manager.query(
      `select coalesce(sum(amount_minor), 0)::text as refunded from events where tenant_id = $1 and refund_of = $2`,
      [brandId, purchase.id],
    );
    const total = BigInt(refunded) + BigInt(r.event.amount!.amountMinor);
    if (total > BigInt(purchase.amount)) {
      return reject(
        'REFUND_EXCEEDS_PURCHASE',
        `Refunds of "${key}" would total ${total} minor units; the purchase was ${purchase.amount}.`,
      );
    }
    return { purchaseId: purchase.id, allianceId: purchase.alliance_id, purchaseAt: purchase.occurred_at };
  }

  /** Inserts rows, skipping keys that exist (a concurrent request may have stored them); returns the keys stored. */
  private async insert(manager: EntityManager, brandId: string, rows: readonly StoredEvent[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const column = <K extends keyof StoredEvent>(k: K) => rows.map((r) => r[k]);
    const result: { idempotency_key: string }[] = await manager.query(
      `insert into events (tenant_id, id, idempotency_key, type, learner_id, occurred_at, course_tenant_id, course_id,
         campaign_tenant_id, campaign_id, creative_id, alliance_id, amount_minor, currency, rating, text, refund_of, refund_purchase_at)
       select $1, u.* from unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[], $7::uuid[], $8::uuid[],
         $9::uuid[], $10::uuid[], $11::uuid[], $12::uuid[], $13::bigint[], $14::text[], $15::smallint[], $16::text[], $17::uuid[],
         $18::timestamptz[])
         as u(id, key, type, learner, at, course_tenant, course, campaign_tenant, campaign, creative, alliance, amount,
              currency, rating, text, refund_of, refund_purchase_at)
       -- Key order, so concurrent calls with overlapping keys never deadlock.
       order by u.key
       on conflict (tenant_id, idempotency_key) do nothing
       returning idempotency_key`,
      [
        brandId, column('id'), column('key'), column('type'), column('learner'), column('at'), column('courseTenant'),
        column('course'), column('campaignTenant'), column('campaign'), column('creative'), column('alliance'),
        column('amount'), column('currency'), column('rating'), column('text'), column('refundOf'), column('refundPurchaseAt'),
      ],
    );
    return new Set(result.map((r) => r.idempotency_key));
  }
}
