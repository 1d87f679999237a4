import crypto from 'node:crypto';
import type { CampaignEntity, CourseEntity, CreativeEntity } from '../entities';
import { CAMPAIGN_COLUMNS, campaignFromRow, CREATIVE_COLUMNS, creativeFromRow } from '../entities/rows';
import { badInput, conflict, forbidden, notFound } from '../errors';
import { CampaignKind, CampaignStatus } from '../entities/enums';
import type { CreateCampaignInput, CreativeInput } from '../schema/campaign.types';
import type { MoneyInput } from '../schema/common.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AllianceService } from './alliance.service';
import type { CourseService } from './course.service';
import { emptyPage, newestFirst, paginate, type Page, type PageArgs } from './pagination';
import { ownOrJoint } from './visibility';

/**
 * Allowed status changes: DRAFT → SCHEDULED | ACTIVE; SCHEDULED → ACTIVE;
 * ACTIVE ↔ PAUSED; ACTIVE | PAUSED → ENDED. ENDED is final.
 */
export const CAMPAIGN_TRANSITIONS: Record<CampaignStatus, CampaignStatus[]> = {
  [CampaignStatus.DRAFT]: [CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE],
  [CampaignStatus.SCHEDULED]: [CampaignStatus.ACTIVE],
  [CampaignStatus.ACTIVE]: [CampaignStatus.PAUSED, CampaignStatus.ENDED],
  [CampaignStatus.PAUSED]: [CampaignStatus.ACTIVE, CampaignStatus.ENDED],
  [CampaignStatus.ENDED]: [],
};

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Campaigns of the caller's brand, or joint campaigns of an ACTIVE alliance it
 * is an ACTIVE member of. Joint campaigns are readable by the alliance's
 * ACTIVE members; only the owning brand changes a campaign.
 */
export class CampaignService {
  constructor(
    private readonly alliances: AllianceService,
    private readonly courses: CourseService,
  ) {}

  async create(ctx: RequestContext, input: CreateCampaignInput): Promise<CampaignEntity> {
    if (input.endsAt && input.endsAt <= input.startsAt) throw badInput('endsAt must be later than startsAt.');
    if ((input.windowStartHour == null) !== (input.windowEndHour == null)) {
      throw badInput('Give both windowStartHour and windowEndHour, or neither.');
    }
    const timeZone = input.timeZone ?? 'UTC';
    if (!isTimeZone(timeZone)) throw badInput(`timeZone "${timeZone}" is not an IANA time zone (e.g. Asia/Shanghai).`);
    const sponsored = input.kind === CampaignKind.SPONSORSHIP;
    if (sponsored !== Boolean(input.sponsorship)) {
      throw badInput(sponsored ? 'A SPONSORSHIP campaign needs a sponsorship.' : 'Only SPONSORSHIP campaigns have a sponsorship.');
    }
    const allianceId = input.allianceId != null ? await this.alliances.jointAlliance(ctx, input.allianceId, 'campaigns') : null;
    const courses = await this.visibleCourses(ctx, input.courseIds ?? []);
    const manager = await ctx.manager();
    const id = crypto.randomUUID();
    const s = input.sponsorship;
    await manager.query(
      `insert into campaigns (tenant_id, id, alliance_id, name, kind, starts_at, ends_at, window_start_hour, window_end_hour,
         time_zone, budget_minor, currency, target_segments, sponsorship_property_kind, sponsorship_property_name,
         sponsorship_sport, sponsorship_starts_at, sponsorship_fee_minor, sponsorship_fee_currency, attribution_window_days)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
      [
        ctx.brandId, id, allianceId, input.name.trim(), input.kind, input.startsAt, input.endsAt ?? null,
        input.windowStartHour ?? null, input.windowEndHour ?? null, timeZone, input.budget.amountMinor, input.budget.currency,
        [...new Set((input.targetSegments ?? []).map((t) => t.trim()))],
        s?.propertyKind ?? null, s?.propertyName.trim() ?? null, s?.sport.trim() ?? null, s?.startsAt ?? null,
        s?.fee.amountMinor ?? null, s?.fee.currency ?? null, input.attributionWindowDays ?? 7,
      ],
    );
    for (const [position, course] of courses.entries()) {
      await manager.query(
        `insert into campaign_courses (tenant_id, campaign_id, alliance_id, course_tenant_id, course_id, position)
         values ($1, $2, $3, $4, $5, $6)`,
        [ctx.brandId, id, allianceId, course.tenantId, course.id, position],
      );
    }
    return this.reload(ctx, id);
  }

  async addCreative(ctx: RequestContext, campaignId: string, input: CreativeInput): Promise<CreativeEntity> {
    const campaign = await this.owned(ctx, campaignId);
    if (campaign.status === CampaignStatus.ENDED) throw conflict('The campaign has ENDED; it takes no new creatives.');
    const manager = await ctx.manager();
    const id = crypto.randomUUID();
    await manager.query(
      `insert into creatives (tenant_id, id, campaign_id, alliance_id, channel, headline, body, image_url)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [ctx.brandId, id, campaign.id, campaign.allianceId, input.channel, input.headline.trim(), input.body ?? null, input.imageUrl ?? null],
    );
    this.creatives(ctx).clear(campaign.id);
    const rows: Record<string, unknown>[] = await manager.query(
      `select ${CREATIVE_COLUMNS} from creatives r where r.tenant_id = $1 and r.id = $2`,
      [ctx.brandId, id],
    );
    return creativeFromRow(rows[0]);
  }

  async setStatus(ctx: RequestContext, id: string, status: CampaignStatus): Promise<CampaignEntity> {
    const campaign = await this.owned(ctx, id);
    const from = campaign.status as CampaignStatus;
    if (from === status) return campaign;
    if (!CAMPAIGN_TRANSITIONS[from].includes(status)) {
      const allowed = CAMPAIGN_TRANSITIONS[from];
      throw badInput(
        `A ${from} campaign cannot become ${status}; ${allowed.length ? `it can become ${allowed.join(' or ')}` : 'ENDED is final'}.`,
      );
    }
    const manager = await ctx.manager();
    await manager.query(`update campaigns set status = $3, updated_at = now() where tenant_id = $1 and id = $2`, [
      ctx.brandId,
      campaign.id,
      status,
    ]);
    return this.reload(ctx, campaign.id);
  }

  /** Money spent on the campaign (media, fees); positive amounts only. */
  async recordSpend(ctx: RequestContext, campaignId: string, amount: MoneyInput, occurredAt: Date): Promise<CampaignEntity> {
    if (amount.amountMinor <= 0) throw badInput('Spend must be a positive amount.');
    const campaign = await this.owned(ctx, campaignId);
    const manager = await ctx.manager();
    await manager.query(
      `insert into campaign_spend (tenant_id, id, campaign_id, alliance_id, amount_minor, currency, occurred_at)
       values ($1, $2, $3, $4, $5, $6, $7)`,
      [ctx.brandId, crypto.randomUUID(), campaign.id, campaign.allianceId, amount.amountMinor, amount.currency, occurredAt],
    );
    return campaign;
  }

  /** A campaign the caller may read (its own, or a joint campaign of its alliances), or null. */
  async get(ctx: RequestContext, id: string): Promise<CampaignEntity | null> {
    return isUuid(id) ? this.byId(ctx).load(id) : null;
  }

  async list(
    ctx: RequestContext,
    args: PageArgs & { allianceId?: string | null; status?: CampaignStatus | null },
  ): Promise<Page<CampaignEntity>> {
    const params: unknown[] = [ctx.brandId];
    const where = [await ownOrJoint(ctx, 'k', params)];
    if (args.allianceId != null) {
      if (!isUuid(args.allianceId)) return emptyPage();
      params.push(args.allianceId);
      where.push(`k.alliance_id = $${params.length}`);
    }
    if (args.status) {
      params.push(args.status);
      where.push(`k.status = $${params.length}`);
    }
    return paginate(
      await ctx.manager(),
      { list: 'campaigns', select: CAMPAIGN_COLUMNS, from: 'campaigns k', where, params, ...newestFirst('k'), map: campaignFromRow },
      args,
    );
  }

  /** The courses a campaign promotes, in the order given (those the caller can no longer read are left out). */
  async promotedCourses(ctx: RequestContext, campaign: CampaignEntity): Promise<CourseEntity[]> {
    const manager = await ctx.manager();
    const rows: { course_id: string }[] = await manager.query(
      `select course_id from campaign_courses where tenant_id = $1 and campaign_id = $2 order by position`,
      [campaign.tenantId, campaign.id],
    );
    const courses = await Promise.all(rows.map((r) => this.courses.get(ctx, r.course_id)));
    return courses.filter((c): c is CourseEntity => c !== null);
  }

  /** Creatives per campaign, oldest first, batched per request. */
  creatives(ctx: RequestContext) {
    return ctx.loader<string, CreativeEntity[]>('campaign.creatives', async (campaignIds) => {
      const manager = await ctx.manager();
      const params: unknown[] = [ctx.brandId, campaignIds];
      const visible = await ownOrJoint(ctx, 'r', params);
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${CREATIVE_COLUMNS} from creatives r where r.campaign_id = any($2::uuid[]) and ${visible} order by r.created_at, r.id`,
        params,
      );
      const all = rows.map(creativeFromRow);
      return campaignIds.map((id) => all.filter((c) => c.campaignId === id));
    });
  }

  /** A creative the caller may read, or null; batched per request (ingestion resolves many at once). */
  async creative(ctx: RequestContext, id: string): Promise<CreativeEntity | null> {
    return isUuid(id) ? this.creativeById(ctx).load(id) : null;
  }

  // --- internals ----------------------------------------------------------------

  private creativeById(ctx: RequestContext) {
    return ctx.loader<string, CreativeEntity | null>('campaign.creativeById', async (ids) => {
      const manager = await ctx.manager();
      const params: unknown[] = [ctx.brandId, ids];
      const visible = await ownOrJoint(ctx, 'r', params);
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${CREATIVE_COLUMNS} from creatives r where r.id = any($2::uuid[]) and ${visible}`,
        params,
      );
      const byId = new Map(rows.map((r) => [r.id as string, creativeFromRow(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  private byId(ctx: RequestContext) {
    return ctx.loader<string, CampaignEntity | null>('campaign.byId', async (ids) => {
      const manager = await ctx.manager();
      const params: unknown[] = [ctx.brandId, ids];
      const visible = await ownOrJoint(ctx, 'k', params);
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${CAMPAIGN_COLUMNS} from campaigns k where k.id = any($2::uuid[]) and ${visible}`,
        params,
      );
      const byId = new Map(rows.map((r) => [r.id as string, campaignFromRow(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  private async reload(ctx: RequestContext, id: string): Promise<CampaignEntity> {
    this.byId(ctx).clear(id);
    const campaign = await this.get(ctx, id);
    if (!campaign) throw notFound('Campaign');
    return campaign;
  }

  /** A campaign the caller owns; a joint campaign of another member is FORBIDDEN, any other id NOT_FOUND. */
  private async owned(ctx: RequestContext, id: string): Promise<CampaignEntity> {
    const campaign = await this.get(ctx, id);
    if (!campaign) throw notFound('Campaign');
    if (campaign.tenantId !== ctx.brandId) throw forbidden('Only the brand that owns a campaign may change it.');
    return campaign;
  }

  private async visibleCourses(ctx: RequestContext, ids: string[]): Promise<CourseEntity[]> {
    const unique = [...new Set(ids)];
    const found = await Promise.all(unique.map((id) => this.courses.get(ctx, id)));
    const missing = unique.filter((_id, i) => !found[i]);
    if (missing.length) throw notFound(`Course ${missing.join(', ')}`);
    return found as CourseEntity[];
  }
}
