import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { EventType, LoyaltyEntryKind, LoyaltyProgramStatus } from '../entities/enums';
import { badInput, conflict, forbidden, notFound, pgCode, PG } from '../errors';
import type {
  AdjustLoyaltyPointsInput,
  CreateLoyaltyProgramInput,
  LoyaltyBrandFigures,
  LoyaltyEntry,
  LoyaltyEnrollment,
  LoyaltyMember,
  LoyaltyProgram,
  LoyaltyRedemption,
  RedeemLoyaltyPointsInput,
} from '../schema/loyalty.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AllianceService } from './alliance.service';
import type { AuditService } from './audit.service';
import { minorDigits } from './currency';
import { newestFirst, paginate, type Page, type PageArgs } from './pagination';
import type { AfterStoreHook, StoredEvent } from './event.service';
import { rateLimited, type RateLimiter } from '../limits/rate';

/** A programme's rules, as stored in `loyalty_programs.rules`. */
export interface LoyaltyRules {
  earnRates: { currency: string; points: number }[];
  pointsPerComplete: number;
  pointsPerRating: number;
  dailyActivityCap: number;
  redemptionValues: { currency: string; minorPerPoint: number }[];
  expiryMonths: number;
  tiers: { name: string; minPoints: number; discountBasisPoints: number; earlyAccess: boolean }[];
}

export interface LoyaltyOptions {
  /** Keys the HMAC that member codes are stored as. */
  codeKey: Buffer;
  /** Codes that match no membership, per brand: when its bucket is empty, the brand's links are refused until it refills. */
  codeFailures: RateLimiter;
}

interface ProgramRow {
  alliance_id: string;
  id: string;
  version: number;
  status: LoyaltyProgramStatus;
  rules: LoyaltyRules;
  proposed_by: string;
  created_at: Date;
  activated_at: Date | null;
}

/** A lot to record for an event. */
interface Earning {
  link: LinkRow;
  points: number;
  source: string;
  at: Date;
  months: number;
  reason: string;
}

/** A lot (EARN, or an ADJUST that adds) with points left. */
interface LotLeft {
  id: string;
  member_id: string;
  alliance_id: string;
  remaining: number;
  expires_at: Date;
  expired: boolean;
}

interface LinkRow {
  learner_id: string;
  alliance_id: string;
  member_id: string;
  linked_at: Date;
}

const PROGRAM_COLUMNS = 'alliance_id, id, version, status, rules, proposed_by, created_at, activated_at';
/** Member codes: 12 symbols of an alphabet without look-alikes (0/O, 1/I/L): 31^12, about 59 bits. */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_LENGTH = 12;

/**
 * Points a purchase earns: the rate per whole currency unit times the
 * amount, rounded down (`floor(amountMinor × rate / 10^digits)`): 199.00 USD
 * at 1 point per dollar is 199 points, 9,900 JPY at 1 per yen 9,900.
 */
export function purchasePoints(amountMinor: number, currency: string, rules: LoyaltyRules): number {
  const rate = rules.earnRates.find((r) => r.currency === currency)?.points ?? 0;
  if (rate <= 0 || amountMinor <= 0) return 0;
  return Math.floor((amountMinor * rate) / 10 ** minorDigits(currency));
}

/** What is wrong with a programme's rules, if anything. */
export function rulesProblems(rules: LoyaltyRules): string[] {
  const problems: string[] = [];
  const unique = (values: string[]) => new Set(values).size === values.length;
  if (!unique(rules.earnRates.map((r) => r.currency))) problems.push('each currency at most once in earnRates');
  if (rules.redemptionValues.length === 0) problems.push('at least one redemption value');
  if (!unique(rules.redemptionValues.map((r) => r.currency))) problems.push('each currency at most once in redemptionValues');
  if (!unique(rules.tiers.map((t) => t.name.trim().toLowerCase()))) problems.push('tier names must differ');
  if (!unique(rules.tiers.map((t) => String(t.minPoints)))) problems.push('tier thresholds must differ');
  return problems;
}

/**
 * Joint loyalty. The alliance's LEAD proposes a programme's rules and every
 * ACTIVE member accepts them, as with agreements (versioned, audited); the
 * last acceptance makes the version ACTIVE and supersedes the previous.
 *
 * A learner becomes a member at one brand (`enroll`), which links its own
 * learner to a new membership and gets a random member code for the
 * learner; another member brand links its own learner only with that code
 * (`link`). Memberships and the ledger hold membership ids, never a
 * learner id: each brand sees only the memberships its learners are linked
 * to, through its own `loyalty_links`.
 *
 * Points earn in the events' own transaction (`afterStore`), once per
 * event (the ledger is unique per brand, kind and source). Spending takes
 * the membership's row lock, so concurrent redemptions at several brands
 * are serialised, reads the unexpired lots, and records which lots it used,
 * oldest expiry first: the balance can never go below zero.
 */
export class LoyaltyService {
  readonly afterStore: AfterStoreHook = (ctx, stored) => this.earn(ctx, stored);

  constructor(
    private readonly alliances: AllianceService,
    private readonly audit: AuditService,
    private readonly options: LoyaltyOptions,
  ) {}

  // ------------------------------------------------------------ programmes --

  async create(ctx: RequestContext, input: CreateLoyaltyProgramInput): Promise<LoyaltyProgram> {
    const { manager, alliance, members, mine } = await this.alliances.lockAsActiveMember(ctx, input.allianceId);
    if (mine.role !== 'LEAD') throw forbidden("Only the alliance's LEAD proposes its loyalty programme.");
    const rules = rulesOf(input);
    const problems = rulesProblems(rules);
    if (problems.length) throw badInput(`Invalid programme: ${problems.join('; ')}.`, { problems });
    const [{ open, version }] = await manager.query(
      `select bool_or(status = 'PROPOSED') as open, coalesce(max(version), 0) + 1 as version from loyalty_programs where alliance_id = $1`,
      [alliance.id],
    );
    if (open) throw conflict('A loyalty programme version is still open; every ACTIVE member must accept it first.');
    const id = crypto.randomUUID();
    await manager.query(
      `insert into loyalty_programs (alliance_id, id, version, status, rules, proposed_by, proposed_by_subject)
       values ($1, $2, $3, 'PROPOSED', $4, $5, $6)`,
      [alliance.id, id, version, JSON.stringify(rules), ctx.brandId, ctx.caller.subject],
    );
    await this.recordAcceptance(ctx, manager, alliance.id, id, input.ownCourses);
    await this.audit.record(ctx, manager, alliance.id, 'LOYALTY_PROGRAM_PROPOSED', null, { id, version, rules });
    await this.activateIfAccepted(ctx, manager, alliance.id, id, activeBrands(members));
    return (await this.program(manager, id))!;
  }

  async accept(ctx: RequestContext, programId: string, ownCourses: boolean): Promise<LoyaltyProgram> {
    const manager = await ctx.manager();
    const found = isUuid(programId) ? await this.program(manager, programId) : null;
    if (!found) throw notFound('Loyalty programme');
    const { alliance, members } = await this.alliances.lockAsActiveMember(ctx, found.allianceId);
    const current = (await this.program(manager, programId))!;
    if (current.status !== LoyaltyProgramStatus.PROPOSED) throw conflict(`Version ${current.version} is ${current.status}; only a PROPOSED version can be accepted.`);
    if (current.acceptances.some((a) => a.brandId === ctx.brandId)) throw conflict('Your brand has accepted this version already.');
    await this.recordAcceptance(ctx, manager, alliance.id, programId, ownCourses);
    await this.audit.record(ctx, manager, alliance.id, 'LOYALTY_PROGRAM_ACCEPTED', null, { id: programId, version: current.version, ownCourses });
    await this.activateIfAccepted(ctx, manager, alliance.id, programId, activeBrands(members));
    return (await this.program(manager, programId))!;
  }

  /** The alliance's ACTIVE programme, or else its open proposal; null for a caller that is not an ACTIVE member. */
  async ofAlliance(ctx: RequestContext, allianceId: string): Promise<LoyaltyProgram | null> {
    if (!isUuid(allianceId)) return null;
    const manager = await ctx.manager();
    const [row] = await manager.query(
      `select id from loyalty_programs where alliance_id = $1 and status in ('ACTIVE', 'PROPOSED')
       order by (status = 'ACTIVE') desc, version desc limit 1`,
      [allianceId],
    );
    return row ? this.program(manager, row.id) : null;
  }

  /** The programme's figures per member brand (allied_loyalty_figures), with the liability in each redemption currency. */
  async figures(ctx: RequestContext, program: LoyaltyProgram): Promise<LoyaltyBrandFigures[]> {
    const rows: Record<string, string>[] = await (await ctx.manager()).query(
      `select brand_id, issued::text, redeemed::text, expired::text, reversed::text, outstanding::text, members::text from allied_loyalty_figures($1)`,
      [program.allianceId],
    );
    return rows.map((r) => ({
      brandId: r.brand_id,
      issued: Number(r.issued),
      redeemed: Number(r.redeemed),
      expired: Number(r.expired),
      reversed: Number(r.reversed),
      outstanding: Number(r.outstanding),
      outstandingValue: program.redemptionValues.map((v) => ({ amountMinor: Number(r.outstanding) * v.minorPerPoint, currency: v.currency })),
      members: Number(r.members),
    }));
  }

  private async recordAcceptance(ctx: RequestContext, manager: EntityManager, allianceId: string, programId: string, ownCourses: boolean): Promise<void> {
    await manager.query(`insert into loyalty_acceptances (alliance_id, program_id, brand_id, own_courses) values ($1, $2, $3, $4)`, [
      allianceId,
      programId,
      ctx.brandId,
      ownCourses,
    ]);
  }

  private async activateIfAccepted(ctx: RequestContext, manager: EntityManager, allianceId: string, programId: string, active: string[]): Promise<void> {
    const accepted = new Set(
      (await manager.query(`select brand_id from loyalty_acceptances where program_id = $1`, [programId])).map((r: { brand_id: string }) => r.brand_id),
    );
    if (!active.every((b) => accepted.has(b))) return;
    await manager.query(`update loyalty_programs set status = 'SUPERSEDED' where alliance_id = $1 and status = 'ACTIVE'`, [allianceId]);
    await manager.query(`update loyalty_programs set status = 'ACTIVE', activated_at = now() where id = $1`, [programId]);
    await this.audit.record(ctx, manager, allianceId, 'LOYALTY_PROGRAM_ACTIVE', null, { id: programId });
  }

  private async program(manager: EntityManager, id: string): Promise<LoyaltyProgram | null> {
    const [row]: ProgramRow[] = await manager.query(`select ${PROGRAM_COLUMNS} from loyalty_programs where id = $1`, [id]);
    if (!row) return null;
    const acceptances = await manager.query(
      `select brand_id, own_courses, accepted_at from loyalty_acceptances where program_id = $1 order by accepted_at, brand_id`,
      [id],
    );
    return {
      id: row.id,
      allianceId: row.alliance_id,
      version: row.version,
      status: row.status,
      ...row.rules,
      acceptances: acceptances.map((a: { brand_id: string; own_courses: boolean; accepted_at: Date }) => ({
        brandId: a.brand_id,
        ownCourses: a.own_courses,
        acceptedAt: a.accepted_at,
      })),
      proposedBy: row.proposed_by,
      createdAt: row.created_at,
      activatedAt: row.activated_at,
    };
  }

  // ----------------------------------------------------------- membership --

  async enroll(ctx: RequestContext, learnerId: string, allianceId: string | null): Promise<LoyaltyEnrollment> {
    const { manager, alliance, link } = await this.membership(ctx, learnerId, allianceId);
    if (link) {
      throw conflict("The learner is a member of this alliance's programme already; rotate its code to show it a new one.");
    }
    const code = newCode();
    const memberId = crypto.randomUUID();
    await manager.query(`insert into loyalty_members (alliance_id, id, code_hash, enrolled_by) values ($1, $2, $3, $4)`, [
      alliance,
      memberId,
      this.codeHash(code),
      ctx.brandId,
    ]);
    await manager.query(`insert into loyalty_links (tenant_id, learner_id, alliance_id, member_id) values ($1, $2, $3, $4)`, [ctx.brandId, learnerId, alliance, memberId]);
    return { member: await this.member(ctx, learnerId, alliance), code: formatCode(code) };
  }

  /**
   * Links the brand's learner to the membership whose code the learner
   * gave. A wrong code and an unknown one answer alike (NOT_FOUND).
   */
  async linkByCode(ctx: RequestContext, learnerId: string, code: string, allianceId: string | null): Promise<LoyaltyMember> {
    const { manager, alliance, link } = await this.membership(ctx, learnerId, allianceId);
    if (link) throw conflict("The learner is linked to this alliance's programme already.");
    const wait = this.options.codeFailures.wait(ctx.brandId);
    if (wait > 0) throw rateLimited('loyaltyCodes', wait, `Too many member codes that match no membership; try again in ${wait} s.`);
    const normalized = normalizeCode(code);
    const [{ member }] = normalized
      ? await manager.query(`select allied_loyalty_member_by_code($1, $2) as member`, [alliance, this.codeHash(normalized)])
      : [{ member: null }];
    if (!member) {
      this.options.codeFailures.take(ctx.brandId);
      throw notFound('Loyalty membership');
    }
    try {
      await manager.query(`insert into loyalty_links (tenant_id, learner_id, alliance_id, member_id) values ($1, $2, $3, $4)`, [ctx.brandId, learnerId, alliance, member]);
    } catch (error) {
      if (pgCode(error) === PG.uniqueViolation) throw conflict('This membership is linked to another learner of your brand already.');
      throw error;
    }
    return await this.member(ctx, learnerId, alliance);
  }

  /** A new member code for the learner's membership; the old one stops working at once. */
  async rotateCode(ctx: RequestContext, learnerId: string, allianceId: string | null): Promise<LoyaltyEnrollment> {
    const { manager, alliance, link } = await this.membership(ctx, learnerId, allianceId);
    if (!link) throw notFound('Loyalty membership');
    const code = newCode();
    await manager.query(`update loyalty_members set code_hash = $2, code_rotated_at = now() where id = $1`, [link.member_id, this.codeHash(code)]);
    return { member: await this.member(ctx, learnerId, alliance), code: formatCode(code) };
  }

  /** The learner's memberships (its own brand's learner), with balances and tiers. */
  async members(ctx: RequestContext, learnerId: string): Promise<LoyaltyMember[]> {
    if (!isUuid(learnerId)) return [];
    return this.linked(ctx, 'learner_id', learnerId);
  }

  /** The brand's learner linked to the membership, with its balance and tier; null when the brand has none linked to it. */
  async memberById(ctx: RequestContext, memberId: string): Promise<LoyaltyMember | null> {
    if (!isUuid(memberId)) return null;
    return (await this.linked(ctx, 'member_id', memberId))[0] ?? null;
  }

  /** The brand's links with `column` = `id`, with their memberships' figures and tiers. */
  private async linked(ctx: RequestContext, column: 'learner_id' | 'member_id', id: string): Promise<LoyaltyMember[]> {
    const manager = await ctx.manager();
    const links: LinkRow[] = await manager.query(
      `select learner_id, alliance_id, member_id, linked_at from loyalty_links where tenant_id = $1 and ${column} = $2 order by linked_at, alliance_id`,
      [ctx.brandId, id],
    );
    if (links.length === 0) return [];
    const [figures, programs] = await Promise.all([
      this.memberFigures(manager, links.map((l) => l.member_id)),
      manager.query(`select alliance_id, rules from loyalty_programs where status = 'ACTIVE' and alliance_id = any($1::uuid[])`, [links.map((l) => l.alliance_id)]),
    ]);
    return links.map((l) => {
      const f = figures.get(l.member_id) ?? { balance: 0, debt: 0, expiringIn30Days: 0, pointsEarned12Months: 0 };
      const rules: LoyaltyRules | undefined = programs.find((p: { alliance_id: string }) => p.alliance_id === l.alliance_id)?.rules;
      return { id: l.member_id, allianceId: l.alliance_id, learnerId: l.learner_id, linkedAt: l.linked_at, ...f, tier: tierOf(rules?.tiers ?? [], f.pointsEarned12Months) };
    });
  }

  async member(ctx: RequestContext, learnerId: string, allianceId: string): Promise<LoyaltyMember> {
    return (await this.members(ctx, learnerId)).find((m) => m.allianceId === allianceId)!;
  }

  /** A membership's ledger, newest first, for a brand linked to it. */
  async history(ctx: RequestContext, memberId: string, args: PageArgs): Promise<Page<LoyaltyEntry>> {
    return paginate(
      await ctx.manager(),
      {
        list: 'loyaltyHistory',
        select: 'e.id, e.kind, e.points, e.brand_id, e.occurred_at, e.expires_at, e.value_minor, e.currency, e.reason, e.created_at',
        from: 'loyalty_ledger e',
        where: ['e.member_id = $1'],
        params: [memberId],
        ...newestFirst<LoyaltyEntry>('e'),
        map: (r) => ({
          id: r.id as string,
          kind: r.kind as LoyaltyEntryKind,
          points: Number(r.points),
          brandId: r.brand_id as string,
          occurredAt: r.occurred_at as Date,
          expiresAt: (r.expires_at as Date | null) ?? null,
          value: r.value_minor == null ? null : { amountMinor: Number(r.value_minor), currency: r.currency as string },
          reason: (r.reason as string | null) ?? null,
          createdAt: r.created_at as Date,
        }),
      },
      args,
    );
  }

  /**
   * Balance: what is left of the unexpired lots (EARN, and ADJUST that
   * adds) after what was allocated from them. Debt: what spending entries
   * (a refund's REVERSE) could not take from any lot. Earned in 12 months:
   * the EARN lots of the last 12 months less what refunds reversed of them.
   */
  private async memberFigures(manager: EntityManager, memberIds: string[]) {
    const rows = await manager.query(
      `select e.member_id,
              coalesce(sum(e.points - coalesce(used.points, 0)) filter (where e.points > 0 and e.expires_at > now()), 0)::int as balance,
              coalesce(sum(e.points - coalesce(used.points, 0)) filter (where e.points > 0 and e.expires_at > now() and e.expires_at <= now() + interval '30 days'), 0)::int as soon,
              coalesce(sum(-e.points - coalesce(took.points, 0)) filter (where e.points < 0), 0)::int as debt,
              (coalesce(sum(e.points) filter (where e.kind = 'EARN' and e.occurred_at > now() - interval '12 months'), 0)
               + coalesce(sum(e.points) filter (where e.kind = 'REVERSE' and lot.occurred_at > now() - interval '12 months'), 0))::int as earned
       from loyalty_ledger e
       left join loyalty_ledger lot on lot.id = e.of_lot and e.kind = 'REVERSE'
       left join lateral (select sum(a.points)::int as points from loyalty_allocations a where a.lot_id = e.id) used on e.points > 0
       left join lateral (select sum(a.points)::int as points from loyalty_allocations a where a.entry_id = e.id) took on e.points < 0
       where e.member_id = any($1::uuid[])
       group by e.member_id`,
      [memberIds],
    );
    return new Map<string, { balance: number; debt: number; expiringIn30Days: number; pointsEarned12Months: number }>(
      rows.map((r: { member_id: string; balance: number; debt: number; soon: number; earned: number }) => [
        r.member_id,
        { balance: r.balance, debt: r.debt, expiringIn30Days: r.soon, pointsEarned12Months: Math.max(0, r.earned) },
      ]),
    );
  }

  /** Points added or taken by an OWNER or ADMIN, with a reason, in the alliance's audit log (the membership, never the learner). */
  async adjust(ctx: RequestContext, input: AdjustLoyaltyPointsInput): Promise<LoyaltyMember> {
    if (input.points === 0) throw badInput('points must not be 0.');
    const { manager, alliance, link, program, lots } = await this.lockedMembership(ctx, input.learnerId, input.allianceId ?? null);
    const [earlier] = await manager.query(`select points from loyalty_ledger where alliance_id = $1 and brand_id = $2 and kind = 'ADJUST' and source = $3`, [
      alliance,
      ctx.brandId,
      input.idempotencyKey,
    ]);
    if (earlier) {
      if (earlier.points !== input.points) throw conflict('This idempotency key was used for a different adjustment.');
      return await this.member(ctx, input.learnerId, alliance);
    }
    const reason = input.reason.trim();
    if (input.points > 0) {
      const lot = await this.recordLot(ctx, manager, link, { kind: 'ADJUST', points: input.points, source: input.idempotencyKey, at: new Date(), months: program.rules.expiryMonths, reason });
      await this.payDebts(manager, [link.member_id], [{ id: lot!, member_id: link.member_id }]);
    } else {
      const available = lots.reduce((sum, l) => sum + l.remaining, 0);
      if (available < -input.points) throw badInput(`The balance is ${available} points; ${-input.points} cannot be taken.`, { balance: available });
      const entryId = crypto.randomUUID();
      await manager.query(
        `insert into loyalty_ledger (alliance_id, member_id, id, kind, points, brand_id, source, occurred_at, reason, actor)
         values ($1, $2, $3, 'ADJUST', $4, $5, $6, now(), $7, $8)`,
        [alliance, link.member_id, entryId, input.points, ctx.brandId, input.idempotencyKey, reason, ctx.caller.subject],
      );
      await this.allocate(manager, link.member_id, entryId, fifo(lots, -input.points));
    }
    await this.audit.record(ctx, manager, alliance, 'LOYALTY_POINTS_ADJUSTED', null, { memberId: link.member_id, points: input.points, reason });
    return await this.member(ctx, input.learnerId, alliance);
  }

  // ------------------------------------------------------------- spending --

  /**
   * The learner's membership in the alliance's ACTIVE programme, locked (one
   * writer of its lots at a time, at every brand), with its lots past
   * expiry written off and the others, in the order they are spent.
   */
  private async lockedMembership(ctx: RequestContext, learnerId: string, allianceId: string | null) {
    const { manager, program, alliance, link } = await this.membership(ctx, learnerId, allianceId);
    if (!link) throw notFound('Loyalty membership');
    await this.lockMembers(ctx, manager, [link.member_id]);
    const lots = await this.lotsLeft(manager, [link.member_id], 'all');
    await this.writeOff(ctx, manager, lots.filter((l) => l.expired));
    return { manager, alliance, link, program, lots: lots.filter((l) => !l.expired) };
  }

  /**
   * The ACTIVE programme asked for (or the brand's only one), and the
   * brand's learner's link to it, null when it has none; NOT_FOUND for a
   * learner that is not the brand's. The learner and its link are one
   * statement.
   */
  private async membership(ctx: RequestContext, learnerId: string, allianceId: string | null) {
    const manager = await ctx.manager();
    const program = await this.activeProgramOf(ctx, allianceId);
    const alliance = program.alliance_id;
    const [row] = isUuid(learnerId)
      ? await manager.query(
          `select l.id, k.member_id, k.linked_at from learners l
           left join loyalty_links k on k.tenant_id = l.tenant_id and k.learner_id = l.id and k.alliance_id = $3
           where l.tenant_id = $1 and l.id = $2`,
          [ctx.brandId, learnerId, alliance],
        )
      : [];
    if (!row) throw notFound('Learner');
    const link: LinkRow | null = row.member_id ? { learner_id: row.id, alliance_id: alliance, member_id: row.member_id, linked_at: row.linked_at } : null;
    return { manager, program, alliance, link };
  }

  /**
   * Spends the points in one entry and its allocations when the balance
   * allows; a key used before (the insert finds it) answers with its
   * redemption, or CONFLICT when it was for another one.
   */
  async redeem(ctx: RequestContext, input: RedeemLoyaltyPointsInput): Promise<LoyaltyRedemption> {
    const { manager, alliance, link, program, lots } = await this.lockedMembership(ctx, input.learnerId, input.allianceId ?? null);
    const value = program.rules.redemptionValues.find((v) => v.currency === input.currency);
    if (!value) throw badInput(`Points of this programme are redeemed in ${program.rules.redemptionValues.map((v) => v.currency).join(', ')}, not ${input.currency}.`);
    const available = lots.reduce((sum, l) => sum + l.remaining, 0);
    const valueMinor = input.points * value.minorPerPoint;
    const redemption = (entryId: string, points: number, amountMinor: number, currency: string): LoyaltyRedemption => ({
      entryId,
      points,
      value: { amountMinor, currency },
      learnerId: input.learnerId,
      allianceId: alliance,
    });
    if (available >= input.points) {
      const [entry] = await manager.query(
        `insert into loyalty_ledger (alliance_id, member_id, id, kind, points, brand_id, source, occurred_at, value_minor, currency, actor)
         values ($1, $2, $3, 'REDEEM', $4, $5, $6, now(), $7, $8, $9)
         on conflict (alliance_id, brand_id, kind, source) do nothing returning id`,
        [alliance, link.member_id, crypto.randomUUID(), -input.points, ctx.brandId, input.idempotencyKey, valueMinor, input.currency, ctx.caller.subject],
      );
      if (entry) {
        await this.allocate(manager, link.member_id, entry.id, fifo(lots, input.points));
        return redemption(entry.id, input.points, valueMinor, input.currency);
      }
    }
    const [earlier] = await manager.query(
      `select id, member_id, points, value_minor, currency from loyalty_ledger where alliance_id = $1 and brand_id = $2 and kind = 'REDEEM' and source = $3`,
      [alliance, ctx.brandId, input.idempotencyKey],
    );
    if (!earlier) throw badInput(`The balance is ${available} points; ${input.points} cannot be redeemed.`, { balance: available });
    if (earlier.member_id !== link.member_id || -earlier.points !== input.points || earlier.currency !== input.currency) {
      throw conflict('This idempotency key was used for a different redemption.');
    }
    return redemption(earlier.id, -earlier.points, Number(earlier.value_minor), earlier.currency);
  }

  /** The membership's lots with points left that have not expired, oldest expiry first (the order they are spent in). */
  private async openLots(manager: EntityManager, memberId: string): Promise<LotLeft[]> {
    return this.lotsLeft(manager, [memberId], 'open');
  }

  /** The memberships' lots with points left, oldest expiry first: those not expired yet, those past their expiry, or all of them. */
  private async lotsLeft(manager: EntityManager, memberIds: readonly string[], which: 'open' | 'due' | 'all'): Promise<LotLeft[]> {
    const when = { open: 'and e.expires_at > now()', due: 'and e.expires_at <= now()', all: '' }[which];
    return manager.query(
      `select e.id, e.member_id, e.alliance_id, e.expires_at, e.expires_at <= now() as expired, (e.points - coalesce(sum(a.points), 0))::int as remaining
       from loyalty_ledger e left join loyalty_allocations a on a.lot_id = e.id
       where e.member_id = any($1::uuid[]) and e.points > 0 ${when}
       group by e.id, e.member_id, e.alliance_id, e.points, e.expires_at, e.occurred_at
       having e.points - coalesce(sum(a.points), 0) > 0
       order by e.expires_at, e.occurred_at, e.id`,
      [[...new Set(memberIds)]],
    );
  }

  private async allocate(manager: EntityManager, memberId: string, entryId: string, parts: { lot: string; points: number }[]): Promise<void> {
    if (parts.length === 0) return;
    await manager.query(
      `insert into loyalty_allocations (member_id, entry_id, lot_id, points) select $1, $2, u.lot, u.points from unnest($3::uuid[], $4::int[]) as u(lot, points)`,
      [memberId, entryId, parts.map((p) => p.lot), parts.map((p) => p.points)],
    );
  }


  // -------------------------------------------------------------- earning --

  /**
   * For the stored events of linked learners: EARN what the alliances'
   * ACTIVE programmes reward, and REVERSE what a refunded purchase earned.
   * Each membership touched is locked first (in id order, so concurrent
   * calls never deadlock), its lots past expiry are written off, and a new
   * lot pays the membership's debt before anything else.
   */
  private async earn(ctx: RequestContext, stored: readonly StoredEvent[]): Promise<void> {
    const relevant = stored.filter(
      (e) =>
        (e.type === EventType.PURCHASE && (e.amount ?? 0) > 0) ||
        e.type === EventType.COMPLETE ||
        e.type === EventType.RATING ||
        (e.type === EventType.REFUND && e.refundOf !== null),
    );
    if (relevant.length === 0) return;
    // A brand in no ACTIVE alliance has no programme to earn in: nothing more to read (its alliances come with the transaction).
    const alliances = await ctx.activeAlliances();
    if (alliances.length === 0) return;
    const manager = await ctx.manager();
    const links: LinkRow[] = await manager.query(
      `select learner_id, alliance_id, member_id, linked_at from loyalty_links
       where tenant_id = $1 and learner_id = any($2::uuid[]) and alliance_id = any($3::uuid[])`,
      [ctx.brandId, [...new Set(relevant.map((e) => e.learner))], alliances],
    );
    if (links.length === 0) return;
    const programs: { alliance_id: string; rules: LoyaltyRules; own_courses: boolean | null }[] = await manager.query(
      `select p.alliance_id, p.rules, a.own_courses from loyalty_programs p
       left join loyalty_acceptances a on a.program_id = p.id and a.brand_id = $1
       where p.status = 'ACTIVE' and p.alliance_id = any($2::uuid[])`,
      [ctx.brandId, [...new Set(links.map((l) => l.alliance_id))]],
    );
    const touched = links.filter((l) => programs.some((p) => p.alliance_id === l.alliance_id));
    if (touched.length === 0) return;
    // The courses' own alliances (an event's alliance may be its campaign's).
    const courses = new Map<string, string | null>(
      (
        await manager.query(`select id, alliance_id from courses where id = any($1::uuid[])`, [[...new Set(relevant.map((e) => e.course).filter(Boolean))]])
      ).map((c: { id: string; alliance_id: string | null }) => [c.id, c.alliance_id]),
    );
    await this.lockMembers(ctx, manager, touched.map((l) => l.member_id));
    await this.expireDue(ctx, manager, touched);
    const earnings: Earning[] = [];
    const refunds: { event: StoredEvent; link: LinkRow; rules: LoyaltyRules }[] = [];
    const today = new Map<string, number>();
    for (const event of relevant) {
      for (const link of touched.filter((l) => l.learner_id === event.learner)) {
        const program = programs.find((p) => p.alliance_id === link.alliance_id)!;
        if (event.type === EventType.REFUND) {
          refunds.push({ event, link, rules: program.rules });
          continue;
        }
        const course = event.course ? { alliance: courses.get(event.course) ?? null, tenant: event.courseTenant } : null;
        if (!earns(course, link.alliance_id, ctx.brandId, program.own_courses === true)) continue;
        const points = await this.pointsFor(manager, event, link.member_id, program.rules, ctx.brandId, today);
        if (points > 0) earnings.push({ link, points, source: event.id, at: event.at, months: program.rules.expiryMonths, reason: event.type });
      }
    }
    // One statement for every lot of the call; then the refunds, one by one (few), then debts from the new lots.
    const lots = await this.recordEarnings(ctx, manager, earnings);
    for (const r of refunds) await this.reverse(ctx, manager, r.event, r.link, r.rules);
    if (lots.length) await this.payDebts(manager, touched.map((l) => l.member_id), lots);
  }

  /** Points an event earns; COMPLETE and RATING within the daily cap, counting what earlier events of the same call earned that day (`today`). */
  private async pointsFor(manager: EntityManager, event: StoredEvent, memberId: string, rules: LoyaltyRules, brandId: string, today: Map<string, number>): Promise<number> {
    if (event.type === EventType.PURCHASE) return purchasePoints(event.amount ?? 0, event.currency ?? '', rules);
    const points = event.type === EventType.COMPLETE ? rules.pointsPerComplete : rules.pointsPerRating;
    if (points <= 0 || rules.dailyActivityCap <= 0) return points;
    const day = `${memberId}:${event.at.toISOString().slice(0, 10)}`;
    if (!today.has(day)) {
      const [{ earned }] = await manager.query(
        `select coalesce(sum(points), 0)::int as earned from loyalty_ledger
         where member_id = $1 and brand_id = $2 and kind = 'EARN' and reason in ('COMPLETE', 'RATING')
           and occurred_at >= date_trunc('day', $3::timestamptz at time zone 'UTC') at time zone 'UTC'
           and occurred_at < (date_trunc('day', $3::timestamptz at time zone 'UTC') + interval '1 day') at time zone 'UTC'`,
        [memberId, brandId, event.at],
      );
      today.set(day, earned);
    }
    const granted = Math.max(0, Math.min(points, rules.dailyActivityCap - today.get(day)!));
    today.set(day, today.get(day)! + granted);
    return granted;
  }

  /** The EARN lots of one call in one statement (in order); the ids of those not recorded before, with their memberships. */
  private async recordEarnings(ctx: RequestContext, manager: EntityManager, earnings: readonly Earning[]): Promise<{ id: string; member_id: string }[]> {
    if (earnings.length === 0) return [];
    const ids: string[] = earnings.map(() => crypto.randomUUID());
    const inserted: { id: string; member_id: string }[] = await manager.query(
      `insert into loyalty_ledger (alliance_id, member_id, id, kind, points, brand_id, source, occurred_at, expires_at, reason, actor)
       select u.alliance, u.member, u.id, 'EARN', u.points, $1, u.source, u.at, u.at + make_interval(months => u.months), u.reason, $2
       from unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::int[], $7::text[], $8::timestamptz[], $9::int[], $10::text[])
         as u(alliance, member, id, points, source, at, months, reason)
       on conflict (alliance_id, brand_id, kind, source) do nothing
       returning id, member_id`,
      [
        ctx.brandId,
        ctx.caller.subject,
        earnings.map((e) => e.link.alliance_id),
        earnings.map((e) => e.link.member_id),
        ids,
        earnings.map((e) => e.points),
        earnings.map((e) => e.source),
        earnings.map((e) => e.at),
        earnings.map((e) => e.months),
        earnings.map((e) => e.reason),
      ],
    );
    const order = new Map<string, number>(ids.map((id, i) => [id, i]));
    return inserted.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  }

  /** A new lot (EARN, or an ADJUST that adds), expiring `months` after `at`; its id, or null when its source was recorded already. */
  private async recordLot(
    ctx: RequestContext,
    manager: EntityManager,
    link: LinkRow,
    lot: { kind: 'EARN' | 'ADJUST'; points: number; source: string; at: Date; months: number; reason: string },
  ): Promise<string | null> {
    const [row] = await manager.query(
      `insert into loyalty_ledger (alliance_id, member_id, id, kind, points, brand_id, source, occurred_at, expires_at, reason, actor)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $8::timestamptz + make_interval(months => $9), $10, $11)
       on conflict (alliance_id, brand_id, kind, source) do nothing
       returning id`,
      [link.alliance_id, link.member_id, crypto.randomUUID(), lot.kind, lot.points, ctx.brandId, lot.source, lot.at, lot.months, lot.reason, ctx.caller.subject],
    );
    return row?.id ?? null;
  }

  /**
   * A refund takes back what its purchase earned, in proportion to the
   * amount refunded (the purchase's rate applied to the refund, never more
   * than is left to reverse, nor what expired): from the purchase's own lot
   * first, then from the oldest other points; what is already spent is owed
   * (the debt).
   */
  private async reverse(ctx: RequestContext, manager: EntityManager, event: StoredEvent, link: LinkRow, rules: LoyaltyRules): Promise<void> {
    const [lot] = await manager.query(
      `select e.id, e.points,
              coalesce((select -sum(r.points) from loyalty_ledger r where r.of_lot = e.id and r.kind = 'REVERSE'), 0)::int as reversed,
              coalesce((select sum(a.points) from loyalty_allocations a join loyalty_ledger x on x.id = a.entry_id
                        where a.lot_id = e.id and x.kind = 'EXPIRE'), 0)::int as expired
       from loyalty_ledger e where e.alliance_id = $1 and e.brand_id = $2 and e.kind = 'EARN' and e.source = $3 and e.member_id = $4`,
      [link.alliance_id, ctx.brandId, event.refundOf, link.member_id],
    );
    if (!lot) return;
    // Points that expired are gone already: a refund takes back the rest, and what of it was spent is owed.
    const points = Math.min(lot.points - lot.reversed - lot.expired, purchasePoints(event.amount ?? 0, event.currency ?? '', rules));
    if (points <= 0) return;
    const entryId = crypto.randomUUID();
    const [inserted] = await manager.query(
      `insert into loyalty_ledger (alliance_id, member_id, id, kind, points, brand_id, source, occurred_at, of_lot, actor)
       values ($1, $2, $3, 'REVERSE', $4, $5, $6, $7, $8, $9)
       on conflict (alliance_id, brand_id, kind, source) do nothing returning id`,
      [link.alliance_id, link.member_id, entryId, -points, ctx.brandId, event.id, event.at, lot.id, ctx.caller.subject],
    );
    if (!inserted) return;
    const open = await this.openLots(manager, link.member_id);
    const ordered = [...open.filter((l) => l.id === lot.id), ...open.filter((l) => l.id !== lot.id)];
    await this.allocate(manager, link.member_id, entryId, fifo(ordered, points));
  }

  /**
   * New lots pay what their memberships owe, oldest debt first, from what is
   * left of them (one statement when nothing is owed). Only a refund's
   * REVERSE can owe: every other spending entry takes all it needs at once.
   */
  private async payDebts(manager: EntityManager, memberIds: string[], newLots: readonly { id: string; member_id: string }[]): Promise<void> {
    const debts: { id: string; member_id: string; owed: number }[] = await manager.query(
      `select e.id, e.member_id, (-e.points - coalesce(sum(a.points), 0))::int as owed
       from loyalty_ledger e left join loyalty_allocations a on a.entry_id = e.id
       where e.member_id = any($1::uuid[]) and e.kind = 'REVERSE'
       group by e.id, e.member_id, e.points, e.occurred_at
       having -e.points - coalesce(sum(a.points), 0) > 0
       order by e.occurred_at, e.id`,
      [[...new Set(memberIds)]],
    );
    for (const member of new Set(debts.map((d) => d.member_id))) {
      const fresh = new Set(newLots.filter((l) => l.member_id === member).map((l) => l.id));
      const open = (await this.openLots(manager, member)).filter((l) => fresh.has(l.id));
      // The new lots in the order they were recorded.
      const order = newLots.map((l) => l.id);
      open.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
      for (const debt of debts.filter((d) => d.member_id === member)) {
        const parts = fifo(open, debt.owed);
        await this.allocate(manager, member, debt.id, parts);
        for (const p of parts) open.find((l) => l.id === p.lot)!.remaining -= p.points;
      }
    }
  }

  /** Writes off what is left of the memberships' lots past their expiry. */
  private async expireDue(ctx: RequestContext, manager: EntityManager, links: readonly LinkRow[]): Promise<void> {
    await this.writeOff(ctx, manager, await this.lotsLeft(manager, links.map((l) => l.member_id), 'due'));
  }

  /** One EXPIRE entry per lot past its expiry, dated at the expiry, for what is left of it. */
  private async writeOff(ctx: RequestContext, manager: EntityManager, due: readonly LotLeft[]): Promise<void> {
    for (const lot of due) {
      const entryId = crypto.randomUUID();
      await manager.query(
        `insert into loyalty_ledger (alliance_id, member_id, id, kind, points, brand_id, source, occurred_at, of_lot, actor)
         values ($1, $2, $3, 'EXPIRE', $4, $5, $6, $7, $8, $9)`,
        [lot.alliance_id, lot.member_id, entryId, -lot.remaining, ctx.brandId, `expiry:${lot.id}`, lot.expires_at, lot.id, ctx.caller.subject],
      );
      await this.allocate(manager, lot.member_id, entryId, [{ lot: lot.id, points: lot.remaining }]);
    }
  }

  /**
   * One writer of these memberships' lots at a time, at every brand and
   * instance: transaction-scoped advisory locks, taken in id order so two
   * calls never deadlock (no row is written for them, unlike FOR UPDATE).
   */
  private async lockMembers(ctx: RequestContext, manager: EntityManager, memberIds: string[]): Promise<void> {
    // Whoever locks a membership may write its ledger: its subscribers re-read it after commit (src/realtime/live.ts).
    ctx.changed(memberIds.map((memberId) => ({ kind: 'loyalty' as const, memberId })));
    await manager.query(
      `select pg_advisory_xact_lock(hashtextextended('loyalty:' || m::text, 0)) from unnest($1::uuid[]) with ordinality as ids(m, n) order by n`,
      [[...new Set(memberIds)].sort()],
    );
  }

  // -------------------------------------------------------------- helpers --

  /** The ACTIVE programme of the alliance asked for, or of the brand's only alliance with one. */
  private async activeProgramOf(ctx: RequestContext, allianceId: string | null): Promise<ProgramRow> {
    const manager = await ctx.manager();
    const alliances = await ctx.activeAlliances();
    const rows: ProgramRow[] = await manager.query(
      `select ${PROGRAM_COLUMNS} from loyalty_programs where status = 'ACTIVE' and alliance_id = any($1::uuid[]) order by alliance_id`,
      [alliances],
    );
    if (allianceId != null) {
      const asked = isUuid(allianceId) ? rows.find((r) => r.alliance_id === allianceId.toLowerCase()) : undefined;
      if (!asked) throw notFound('Loyalty programme');
      return asked;
    }
    if (rows.length === 0) throw notFound('Loyalty programme');
    if (rows.length > 1) throw badInput('Your brand is in several alliances with a loyalty programme; name the allianceId.', { alliances: rows.map((r) => r.alliance_id) });
    return rows[0];
  }

  private codeHash(code: string): string {
    return crypto.createHmac('sha256', this.options.codeKey).update(code).digest('hex');
  }
}

function rulesOf(input: CreateLoyaltyProgramInput): LoyaltyRules {
  return {
    earnRates: input.earnRates.map((r) => ({ currency: r.currency, points: r.points })),
    pointsPerComplete: input.pointsPerComplete,
    pointsPerRating: input.pointsPerRating,
    dailyActivityCap: input.dailyActivityCap,
    redemptionValues: input.redemptionValues.map((v) => ({ currency: v.currency, minorPerPoint: v.minorPerPoint })),
    expiryMonths: input.expiryMonths,
    tiers: [...input.tiers]
      .sort((a, b) => a.minPoints - b.minPoints)
      .map((t) => ({ name: t.name.trim(), minPoints: t.minPoints, discountBasisPoints: t.discountBasisPoints, earlyAccess: t.earlyAccess })),
  };
}

/** The highest tier `points` reach (tiers are kept in ascending order), or null. */
export function tierOf(tiers: LoyaltyRules['tiers'], points: number): LoyaltyRules['tiers'][number] | null {
  let reached: LoyaltyRules['tiers'][number] | null = null;
  for (const tier of tiers) if (points >= tier.minPoints) reached = tier;
  return reached;
}

function activeBrands(members: { brandId: string; status: string }[]): string[] {
  return members.filter((m) => m.status === 'ACTIVE').map((m) => m.brandId);
}

/** Whether the event's course earns in this alliance: a joint course of it, or the brand's own course where it opted in. */
function earns(course: { alliance: string | null; tenant: string | null } | null, allianceId: string, brandId: string, ownCourses: boolean): boolean {
  if (!course) return false;
  if (course.alliance === allianceId) return true;
  return ownCourses && course.tenant === brandId && course.alliance === null;
}

/** The first `points` of the lots, in their order. */
export function fifo(lots: readonly { id: string; remaining: number }[], points: number): { lot: string; points: number }[] {
  const parts: { lot: string; points: number }[] = [];
  let left = points;
  for (const lot of lots) {
    if (left <= 0) break;
    const take = Math.min(lot.remaining, left);
    if (take > 0) parts.push({ lot: lot.id, points: take });
    left -= take;
  }
  return parts;
}

function newCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[crypto.randomInt(CODE_ALPHABET.length)];
  return code;
}

/** "ABCD-EFGH-JKMN": as shown to learners. */
function formatCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

/** A code as typed (any case, with or without dashes or spaces), or null when it cannot be one. */
function normalizeCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  return code.length === CODE_LENGTH && [...code].every((c) => CODE_ALPHABET.includes(c)) ? code : null;
}
