import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { SettlementEntity, SettlementLineEntity } from '../entities';
import {
  SETTLEMENT_COLUMNS,
  SETTLEMENT_LINE_COLUMNS,
  settlementFromRow,
  settlementLineFromRow,
} from '../entities/rows';
import { AlliedError, badInput, conflict, forbidden, notFound } from '../errors';
import type { RunSettlementInput } from '../schema/settlement.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AllianceService } from './alliance.service';
import { allocate } from './allocation';
import type { AuditService } from './audit.service';
import type { BrandService } from './brand.service';
import { csvLine } from './csv';
import { loyaltyLines, readLoyaltyLines, storeLoyaltyLines, type LoyaltyLine } from './loyalty-settlement';
import { emptyPage, newestFirst, paginate, type Page, type PageArgs } from './pagination';
import type { Share } from './shares';

/** The longest period one settlement may cover. */
export const MAX_PERIOD_DAYS = 366;
const DAY = 86_400_000;

/** One agreement version's part of a period, as allied_settlement_figures sums it. */
interface VersionFigures {
  agreementId: string;
  gross: bigint;
  refunds: bigint;
  clawbacks: bigint;
  events: number;
}

export type Line = Computed['lines'][number];

/** Each agreement version's net (gross − refunds) split by its shares; lines by version, then brand id. */
export function splitVersions(
  versions: readonly Pick<VersionFigures, 'agreementId' | 'gross' | 'refunds'>[],
  terms: ReadonlyMap<string, { version: number; shares: Share[] }>,
): Line[] {
  return versions
    .flatMap((v) => {
      const net = v.gross - v.refunds;
      const { version, shares } = terms.get(v.agreementId)!;
      const amounts = allocate(net, shares);
      return shares.map((s) => {
        const brandId = s.brandId.toLowerCase();
        return { agreementId: v.agreementId, version, brandId, basisPoints: s.basisPoints, versionNet: net, amount: amounts.get(brandId)! };
      });
    })
    .sort((x, y) => x.version - y.version || (x.brandId < y.brandId ? -1 : x.brandId > y.brandId ? 1 : 0));
}

/** A settlement's figures before they are stored. */
export interface Computed {
  lines: { agreementId: string; version: number; brandId: string; basisPoints: number; versionNet: bigint; amount: bigint }[];
  gross: bigint;
  refunds: bigint;
  clawbacks: bigint;
  events: number;
  unsettled: { count: number; from: Date | null; to: Date | null };
}

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

/**
 * Settlements of alliance revenue (see migrations/1764400000000-settlements.ts).
 *
 * What a settlement for [start, end) counts: every purchase of the alliance
 * (by the attribution rule: joint courses, joint campaigns) that occurred in
 * the period, less every refund of such a purchase that occurred in the
 * period — including refunds of purchases from earlier periods (clawbacks).
 * Each amount goes to the agreement version in force when its purchase
 * occurred; each version's net is split by `allocate` (largest remainder).
 * Events whose purchase fell under no agreement are counted as unsettled and
 * paid to no one. Since FINALIZED periods never overlap and every event has
 * one time, no event is ever in two FINALIZED settlements.
 */
export class SettlementService {
  constructor(
    private readonly alliances: AllianceService,
    private readonly audit: AuditService,
    private readonly brands: BrandService,
  ) {}

  /** Creates, or recomputes, the DRAFT for (alliance, currency, period). */
  async run(ctx: RequestContext, input: RunSettlementInput): Promise<SettlementEntity> {
    checkPeriod(input.periodStart, input.periodEnd);
    const { manager, alliance } = await this.alliances.lockAsActiveMember(ctx, input.allianceId);
    const key = { allianceId: alliance.id, currency: input.currency, start: input.periodStart, end: input.periodEnd };
    await this.refuseFinalizedOverlap(manager, key, null);
    const computed = await this.compute(manager, key);
    const [row] = await manager.query(
      `select ${SETTLEMENT_COLUMNS} from settlements s where s.alliance_id = $1 and s.currency = $2 and s.period_start = $3 and s.period_end = $4`,
      [key.allianceId, key.currency, key.start, key.end],
    );
    const existing = row ? settlementFromRow(row) : null;
    const id = existing?.id ?? crypto.randomUUID();
    const totals = [computed.gross, computed.refunds, computed.clawbacks, computed.gross - computed.refunds].map(String);
    const unsettled = [computed.events, computed.unsettled.count, computed.unsettled.from, computed.unsettled.to];
    if (existing) {
      await manager.query(`delete from settlement_lines where settlement_id = $1`, [id]);
      await manager.query(`delete from settlement_loyalty_lines where settlement_id = $1`, [id]);
      await manager.query(
        `update settlements set gross_minor = $2, refunds_minor = $3, clawbacks_minor = $4, net_minor = $5, event_count = $6,
           unsettled_count = $7, unsettled_from = $8, unsettled_to = $9, run_by = $10, computed_at = now()
         where id = $1`,
        [id, ...totals, ...unsettled, ctx.brandId],
      );
    } else {
      await manager.query(
        `insert into settlements (alliance_id, id, currency, period_start, period_end, gross_minor, refunds_minor, clawbacks_minor,
           net_minor, event_count, unsettled_count, unsettled_from, unsettled_to, run_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [key.allianceId, id, key.currency, key.start, key.end, ...totals, ...unsettled, ctx.brandId],
      );
    }
    await this.storeLines(manager, key.allianceId, id, computed);
    await storeLoyaltyLines(manager, key.allianceId, id, await loyaltyLines(manager, key));
    const settlement = await this.reload(ctx, id);
    await this.audit.record(ctx, manager, alliance.id, 'SETTLEMENT_RUN', existing ? summary(existing) : null, summary(settlement));
    ctx.changed([{ kind: 'settlement', allianceId: alliance.id, settlementId: id }]);
    return settlement;
  }

  /**
   * The LEAD finalizes a DRAFT whose period has ended, if its figures still
   * hold: a DRAFT that new events would change must be run again first, so
   * nothing is finalized that the members have not seen.
   */
  async finalize(ctx: RequestContext, id: string): Promise<SettlementEntity> {
    const draft = await this.get(ctx, id);
    if (!draft) throw notFound('Settlement');
    // The caller named a settlement: one of an alliance it is not an ACTIVE
    // member of is, to it, a settlement that does not exist.
    const { manager, mine } = await this.alliances.lockAsActiveMember(ctx, draft.allianceId).catch((error: unknown) => {
      throw error instanceof AlliedError && error.code === 'NOT_FOUND' ? notFound('Settlement') : error;
    });
    if (mine.role !== 'LEAD') throw forbidden("Only the alliance's LEAD may finalize a settlement.");
    const current = await this.reload(ctx, id);
    if (current.status === 'FINALIZED') throw conflict('The settlement is already FINALIZED; it never changes.');
    if (current.periodEnd.getTime() > Date.now()) {
      throw badInput(`The period ends ${current.periodEnd.toISOString()}; a settlement is finalized only after its period has ended.`);
    }
    const key = { allianceId: current.allianceId, currency: current.currency, start: current.periodStart, end: current.periodEnd };
    await this.refuseFinalizedOverlap(manager, key, id);
    const fresh = await this.compute(manager, key);
    const loyaltyKey = (lines: readonly LoyaltyLine[]) => lines.map((l) => `${l.payerBrandId}:${l.payeeBrandId}:${l.grossMinor}:${l.offsetMinor}`).join();
    const loyaltyChanged = loyaltyKey(await loyaltyLines(manager, key)) !== loyaltyKey(await readLoyaltyLines(manager, id));
    if (loyaltyChanged || !sameFigures(fresh, current, await this.lines(ctx).load(id))) {
      throw conflict('Events changed the figures since the settlement was run; run it again, check it, then finalize.');
    }
    await manager.query(`update settlements set status = 'FINALIZED', finalized_at = now(), finalized_by = $2 where id = $1`, [
      id,
      ctx.brandId,
    ]);
    const settlement = await this.reload(ctx, id);
    await this.audit.record(ctx, manager, settlement.allianceId, 'SETTLEMENT_FINALIZED', summary(current), summary(settlement));
    ctx.changed([{ kind: 'settlement', allianceId: settlement.allianceId, settlementId: id }]);
    return settlement;
  }

  /** A settlement the caller may read, or null. */
  async get(ctx: RequestContext, id: string): Promise<SettlementEntity | null> {
    return isUuid(id) ? this.byId(ctx).load(id) : null;
  }

  /** An alliance's settlements the caller may read, newest first. */
  async list(ctx: RequestContext, allianceId: string, args: PageArgs): Promise<Page<SettlementEntity>> {
    void ctx.brandId; // a platform admin has no settlements to read
    if (!isUuid(allianceId)) return emptyPage();
    return paginate(
      await ctx.manager(),
      { list: 'settlements', select: SETTLEMENT_COLUMNS, from: 'settlements s', where: ['s.alliance_id = $1'], params: [allianceId], ...newestFirst('s'), map: settlementFromRow },
      args,
    );
  }

  /** Lines per settlement, by agreement version then brand id; batched per request. */
  lines(ctx: RequestContext) {
    return ctx.loader<string, SettlementLineEntity[]>('settlement.lines', async (ids) => {
      const manager = await ctx.manager();
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${SETTLEMENT_LINE_COLUMNS}
         from settlement_lines l join settlements s on s.id = l.settlement_id
         where l.settlement_id = any($1::uuid[])
         order by l.agreement_version, l.brand_id`,
        [ids],
      );
      const all = rows.map(settlementLineFromRow);
      return ids.map((id) => all.filter((l) => l.settlementId === id));
    });
  }

  /**
   * The settlement as CSV, one row per line (RFC 4180, CRLF), or null when the
   * caller may not read it. Amounts are in minor units of the currency.
   */
  async csv(ctx: RequestContext, id: string): Promise<string | null> {
    const settlement = await this.get(ctx, id);
    if (!settlement) return null;
    const lines = await this.lines(ctx).load(id);
    const brands = await this.brands.profiles(ctx).loadMany(lines.map((l) => l.brandId));
    const loyalty = await this.loyaltyLines(ctx, id);
    const payees = await this.brands.profiles(ctx).loadMany(loyalty.map((l) => l.payeeBrandId));
    const nameOf = (brand: { name: string } | Error | null | undefined) => (brand && !(brand instanceof Error) ? brand.name : '');
    const head = [settlement.id, settlement.allianceId, settlement.currency, settlement.periodStart.toISOString(), settlement.periodEnd.toISOString(), settlement.status];
    const rows = [
      ...lines.map((l, i) => [
        ...head, l.agreementVersion, l.agreementId, l.brandId, nameOf(brands[i]), l.shareBasisPoints, l.versionNetMinor, l.amountMinor, 'REVENUE', '', '',
      ]),
      // What the payer owes the payee (brand_id) for discounts given on its points, netted; points: the payer's redeemed there.
      ...loyalty.map((l, i) => [...head, '', '', l.payeeBrandId, nameOf(payees[i]), '', '', String(l.amountMinor), 'LOYALTY', l.payerBrandId, String(l.points)]),
    ];
    return [CSV_HEADER, ...rows].map(csvLine).join('');
  }

  /** The settlement's loyalty lines, or none when the caller may not read it. */
  async loyaltyLines(ctx: RequestContext, id: string): Promise<LoyaltyLine[]> {
    return readLoyaltyLines(await ctx.manager(), id);
  }

  // --- internals ----------------------------------------------------------------

  /** The period's figures per agreement version, and each version's net split by its shares. */
  async compute(manager: EntityManager, key: { allianceId: string; currency: string; start: Date; end: Date }): Promise<Computed> {
    const rows: Record<string, string | null>[] = await manager.query(
      `select agreement_id, gross::text, refunds::text, clawbacks::text, events::text, earliest, latest
       from allied_settlement_figures($1, $2, $3, $4)`,
      [key.allianceId, key.currency, key.start, key.end],
    );
    // The database may give several rows per version (and for the unsettled): sum them.
    const byVersion = new Map<string, VersionFigures>();
    const unsettled: Computed['unsettled'] = { count: 0, from: null, to: null };
    for (const r of rows) {
      const events = Number(r.events);
      if (events === 0) continue;
      if (r.agreement_id === null) {
        unsettled.count += events;
        const [from, to] = [new Date(r.earliest as unknown as Date), new Date(r.latest as unknown as Date)];
        if (!unsettled.from || from < unsettled.from) unsettled.from = from;
        if (!unsettled.to || to > unsettled.to) unsettled.to = to;
        continue;
      }
      const v = byVersion.get(r.agreement_id) ?? { agreementId: r.agreement_id, gross: 0n, refunds: 0n, clawbacks: 0n, events: 0 };
      v.gross += BigInt(r.gross!);
      v.refunds += BigInt(r.refunds!);
      v.clawbacks += BigInt(r.clawbacks!);
      v.events += events;
      byVersion.set(r.agreement_id, v);
    }
    const versions = [...byVersion.values()];
    const terms = await this.terms(manager, key.allianceId, versions.map((v) => v.agreementId));
    const lines = splitVersions(versions, terms);
    return {
      lines,
      gross: sum(versions.map((v) => v.gross)),
      refunds: sum(versions.map((v) => v.refunds)),
      clawbacks: sum(versions.map((v) => v.clawbacks)),
      events: versions.reduce((n, v) => n + v.events, 0),
      unsettled,
    };
  }

  /** Each agreement's version and shares. */
  private async terms(manager: EntityManager, allianceId: string, agreementIds: string[]): Promise<Map<string, { version: number; shares: Share[] }>> {
    const rows: { agreement_id: string; version: number; brand_id: string; basis_points: number }[] = await manager.query(
      `select s.agreement_id, g.version, s.brand_id, s.basis_points
       from agreement_shares s join agreements g on g.alliance_id = s.alliance_id and g.id = s.agreement_id
       where s.alliance_id = $1 and s.agreement_id = any($2::uuid[])`,
      [allianceId, agreementIds],
    );
    const byAgreement = new Map<string, { version: number; shares: Share[] }>();
    for (const r of rows) {
      const terms = byAgreement.get(r.agreement_id) ?? { version: r.version, shares: [] };
      terms.shares.push({ brandId: r.brand_id, basisPoints: r.basis_points });
      byAgreement.set(r.agreement_id, terms);
    }
    return byAgreement;
  }

  private async storeLines(manager: EntityManager, allianceId: string, settlementId: string, computed: Computed): Promise<void> {
    if (computed.lines.length === 0) return;
    const column = <K extends keyof Computed['lines'][number]>(k: K) => computed.lines.map((l) => String(l[k]));
    await manager.query(
      `insert into settlement_lines (alliance_id, settlement_id, agreement_id, agreement_version, brand_id, share_basis_points,
         version_net_minor, amount_minor)
       select $1, $2, u.* from unnest($3::uuid[], $4::int[], $5::uuid[], $6::int[], $7::bigint[], $8::bigint[]) as u`,
      [allianceId, settlementId, column('agreementId'), column('version'), column('brandId'), column('basisPoints'), column('versionNet'), column('amount')],
    );
  }

  /** CONFLICT when [start, end) overlaps a FINALIZED settlement of the same alliance and currency (other than `except`). */
  private async refuseFinalizedOverlap(
    manager: EntityManager,
    key: { allianceId: string; currency: string; start: Date; end: Date },
    except: string | null,
  ): Promise<void> {
    const [hit] = await manager.query(
      `select id, period_start, period_end from settlements
       where alliance_id = $1 and currency = $2 and status = 'FINALIZED' and period_start < $4 and period_end > $3
         and ($5::uuid is null or id <> $5)
       order by period_start limit 1`,
      [key.allianceId, key.currency, key.start, key.end, except],
    );
    if (!hit) return;
    const same = hit.period_start.getTime() === key.start.getTime() && hit.period_end.getTime() === key.end.getTime();
    throw conflict(
      same
        ? `The ${key.currency} settlement of this period is FINALIZED (${hit.id}); it is never recomputed.`
        : `The period overlaps the FINALIZED ${key.currency} settlement ${hit.id} of ${hit.period_start.toISOString()} to ${hit.period_end.toISOString()}; its events are settled.`,
    );
  }

  private byId(ctx: RequestContext) {
    return ctx.loader<string, SettlementEntity | null>('settlement.byId', async (ids) => {
      void ctx.brandId;
      const manager = await ctx.manager();
      const rows: Record<string, unknown>[] = await manager.query(`select ${SETTLEMENT_COLUMNS} from settlements s where s.id = any($1::uuid[])`, [ids]);
      const byId = new Map(rows.map((r) => [r.id as string, settlementFromRow(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  private async reload(ctx: RequestContext, id: string): Promise<SettlementEntity> {
    this.byId(ctx).clear(id);
    this.lines(ctx).clear(id);
    const settlement = await this.get(ctx, id);
    if (!settlement) throw notFound('Settlement');
    return settlement;
  }
}

const CSV_HEADER = [
  'settlement_id', 'alliance_id', 'currency', 'period_start', 'period_end', 'status', 'agreement_version', 'agreement_id',
  'brand_id', 'brand_name', 'share_basis_points', 'version_net_minor', 'amount_minor', 'line_type', 'payer_brand_id', 'points',
];

function checkPeriod(start: Date, end: Date): void {
  if (!(start < end)) throw badInput('periodEnd must be later than periodStart.');
  if (end.getTime() - start.getTime() > MAX_PERIOD_DAYS * DAY) throw badInput(`A settlement period may cover at most ${MAX_PERIOD_DAYS} days.`);
}

/** Whether freshly computed figures equal the stored settlement and its lines. */
function sameFigures(fresh: Computed, stored: SettlementEntity, lines: SettlementLineEntity[]): boolean {
  const key = (agreementId: string, brandId: string, amount: bigint | number) => `${agreementId}:${brandId}:${amount}`;
  const freshLines = fresh.lines.map((l) => key(l.agreementId, l.brandId, l.amount)).sort();
  const storedLines = lines.map((l) => key(l.agreementId, l.brandId, l.amountMinor)).sort();
  return (
    fresh.gross === BigInt(stored.grossMinor) &&
    fresh.refunds === BigInt(stored.refundsMinor) &&
    fresh.events === stored.eventCount &&
    fresh.unsettled.count === stored.unsettledCount &&
    freshLines.join() === storedLines.join()
  );
}

/** What the audit log records of a settlement. */
function summary(s: SettlementEntity) {
  return {
    id: s.id,
    status: s.status,
    currency: s.currency,
    periodStart: s.periodStart.toISOString(),
    periodEnd: s.periodEnd.toISOString(),
    net: s.netMinor,
    eventCount: s.eventCount,
    unsettledEventCount: s.unsettledCount,
  };
}
