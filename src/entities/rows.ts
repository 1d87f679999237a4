import { AgreementEntity, AllianceEntity, AllianceMemberEntity, AuditEntryEntity } from './alliance.entity';
import { BrandEntity } from './brand.entity';
import { CampaignEntity, CreativeEntity } from './campaign.entity';
import { CourseEntity } from './course.entity';
import { LearnerEntity } from './learner.entity';
import { SettlementEntity, SettlementLineEntity } from './settlement.entity';

/**
 * Rows read with plain SQL, as entities. The hot read paths skip TypeORM's
 * query builder and hydration, which cost more than the query itself.
 */
type Row = Record<string, unknown>;

const safeNumber = (value: unknown): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${String(value)} exceeds the safe integer range`);
  return n;
};

/**
 * `columns` (as in CAMPAIGN_COLUMNS, with or without a table alias) read
 * from `table` under names starting with `prefix`, so that one statement can
 * read several kinds of row side by side; `unprefixed` takes one back out.
 */
export function prefixedColumns(columns: string, table: string, prefix: string): string {
  return columns
    .split(',')
    .map((c) => c.trim().replace(/^\w+\./, ''))
    .map((c) => `${table}.${c} as ${prefix}${c}`)
    .join(', ');
}

export function unprefixed(row: Row, prefix: string): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  return out;
}

export const BRAND_COLUMNS = 'id, slug, name, kind, description, resources, created_at, updated_at';

export function brandFromRow(row: Row, prefix = ''): BrandEntity {
  return Object.assign(new BrandEntity(), {
    id: row[`${prefix}id`],
    slug: row[`${prefix}slug`],
    name: row[`${prefix}name`],
    kind: row[`${prefix}kind`],
    description: row[`${prefix}description`],
    resources: row[`${prefix}resources`],
    createdAt: row[`${prefix}created_at`],
    updatedAt: row[`${prefix}updated_at`],
  });
}

export const COURSE_COLUMNS =
  'c.tenant_id, c.id, c.alliance_id, c.title, c.description, c.topics, c.level, c.format, c.price_minor, c.currency, c.status, c.created_at, c.updated_at';

export function courseFromRow(row: Row): CourseEntity {
  return Object.assign(new CourseEntity(), {
    tenantId: row.tenant_id,
    id: row.id,
    allianceId: row.alliance_id,
    title: row.title,
    description: row.description,
    topics: row.topics,
    level: row.level,
    format: row.format,
    priceMinor: safeNumber(row.price_minor),
    currency: row.currency,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/** The stages allied_lifecycle_stage answers (src/services/lifecycle.service.ts). */
export const LIFECYCLE_STAGES = ['PROSPECT', 'NEW', 'ACTIVE', 'LAPSED'] as const;
/** Lifecycle thresholds of a brand that set none (src/services/lifecycle.service.ts). */
export const DEFAULT_NEW_DAYS = 30;
export const DEFAULT_LAPSED_DAYS = 90;
/** The lifecycle stage of the learner row aliased `l`, with its brand's lifecycle_settings joined as `ls` (LIFECYCLE_JOIN). */
export const LIFECYCLE_STAGE_SQL = `allied_lifecycle_stage(l.purchases, l.first_purchase_at, l.last_seen_at,
  coalesce(ls.new_days, ${DEFAULT_NEW_DAYS}), coalesce(ls.lapsed_days, ${DEFAULT_LAPSED_DAYS}))`;
export const LIFECYCLE_JOIN = 'left join lifecycle_settings ls on ls.tenant_id = l.tenant_id';

/** A learner row aliased `l`, with LIFECYCLE_JOIN. */
export const LEARNER_COLUMNS = `l.tenant_id, l.id, l.external_id, l.segment, l.demands, l.created_at, ${LIFECYCLE_STAGE_SQL} as lifecycle_stage`;

export function learnerFromRow(row: Row): LearnerEntity {
  return Object.assign(new LearnerEntity(), {
    tenantId: row.tenant_id,
    id: row.id,
    externalId: row.external_id,
    segment: row.segment,
    demands: row.demands,
    createdAt: row.created_at,
    lifecycleStage: row.lifecycle_stage,
  });
}

export const ALLIANCE_COLUMNS = 'a.id, a.name, a.purpose, a.status, a.created_by, a.created_at, a.updated_at';

export function allianceFromRow(row: Row): AllianceEntity {
  return Object.assign(new AllianceEntity(), {
    id: row.id,
    name: row.name,
    purpose: row.purpose,
    status: row.status,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export const MEMBER_COLUMNS = 'm.alliance_id, m.brand_id, m.role, m.status, m.invited_at, m.joined_at, m.left_at';

export function memberFromRow(row: Row): AllianceMemberEntity {
  return Object.assign(new AllianceMemberEntity(), {
    allianceId: row.alliance_id,
    brandId: row.brand_id,
    role: row.role,
    status: row.status,
    invitedAt: row.invited_at,
    joinedAt: row.joined_at,
    leftAt: row.left_at,
  });
}

export const AGREEMENT_COLUMNS =
  'g.alliance_id, g.id, g.version, g.status, g.obligations, g.effective_from, g.effective_to, g.proposed_by, g.created_at, g.decided_at';

export function agreementFromRow(row: Row): AgreementEntity {
  return Object.assign(new AgreementEntity(), {
    allianceId: row.alliance_id,
    id: row.id,
    version: row.version,
    status: row.status,
    obligations: row.obligations,
    effectiveFrom: row.effective_from,
    effectiveTo: row.effective_to,
    proposedBy: row.proposed_by,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
  });
}

export const AUDIT_COLUMNS = 'e.alliance_id, e.id, e.seq::text as seq, e.at, e.actor_brand_id, e.actor_subject, e.action, e.before, e.after';

export function auditFromRow(row: Row): AuditEntryEntity {
  return Object.assign(new AuditEntryEntity(), {
    allianceId: row.alliance_id,
    id: row.id,
    seq: row.seq,
    at: row.at,
    actorBrandId: row.actor_brand_id,
    actorSubject: row.actor_subject,
    action: row.action,
    before: row.before,
    after: row.after,
  });
}

/** Rows of an `update … returning` (the driver answers [rows, count] for updates, rows for selects). */
export function returnedRows<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (Array.isArray(r[0]) ? r[0] : r) as T[];
}

export const CAMPAIGN_COLUMNS =
  'k.tenant_id, k.id, k.alliance_id, k.name, k.kind, k.status, k.starts_at, k.ends_at, k.window_start_hour, k.window_end_hour, ' +
  'k.time_zone, k.attribution_window_days, k.budget_minor, k.currency, k.target_segments, k.sponsorship_property_kind, k.sponsorship_property_name, ' +
  'k.sponsorship_sport, k.sponsorship_starts_at, k.sponsorship_fee_minor, k.sponsorship_fee_currency, k.created_at, k.updated_at';

export function campaignFromRow(row: Row): CampaignEntity {
  return Object.assign(new CampaignEntity(), {
    tenantId: row.tenant_id,
    id: row.id,
    allianceId: row.alliance_id,
    name: row.name,
    kind: row.kind,
    status: row.status,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    windowStartHour: row.window_start_hour,
    windowEndHour: row.window_end_hour,
    timeZone: row.time_zone,
    attributionWindowDays: row.attribution_window_days,
    budgetMinor: safeNumber(row.budget_minor),
    currency: row.currency,
    targetSegments: row.target_segments,
    sponsorshipPropertyKind: row.sponsorship_property_kind,
    sponsorshipPropertyName: row.sponsorship_property_name,
    sponsorshipSport: row.sponsorship_sport,
    sponsorshipStartsAt: row.sponsorship_starts_at,
    sponsorshipFeeMinor: row.sponsorship_fee_minor == null ? null : safeNumber(row.sponsorship_fee_minor),
    sponsorshipFeeCurrency: row.sponsorship_fee_currency,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export const CREATIVE_COLUMNS = 'r.tenant_id, r.id, r.campaign_id, r.alliance_id, r.channel, r.headline, r.body, r.image_url, r.created_at';

export function creativeFromRow(row: Row): CreativeEntity {
  return Object.assign(new CreativeEntity(), {
    tenantId: row.tenant_id,
    id: row.id,
    campaignId: row.campaign_id,
    allianceId: row.alliance_id,
    channel: row.channel,
    headline: row.headline,
    body: row.body,
    imageUrl: row.image_url,
    createdAt: row.created_at,
  });
}

export const SETTLEMENT_COLUMNS =
  's.alliance_id, s.id, s.currency, s.period_start, s.period_end, s.status, s.gross_minor, s.refunds_minor, s.clawbacks_minor, ' +
  's.net_minor, s.event_count, s.unsettled_count, s.unsettled_from, s.unsettled_to, s.run_by, s.created_at, s.computed_at, s.finalized_at';

export function settlementFromRow(row: Row): SettlementEntity {
  return Object.assign(new SettlementEntity(), {
    allianceId: row.alliance_id,
    id: row.id,
    currency: row.currency,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    status: row.status,
    grossMinor: safeNumber(row.gross_minor),
    refundsMinor: safeNumber(row.refunds_minor),
    clawbacksMinor: safeNumber(row.clawbacks_minor),
    netMinor: safeNumber(row.net_minor),
    eventCount: row.event_count,
    unsettledCount: row.unsettled_count,
    unsettledFrom: row.unsettled_from,
    unsettledTo: row.unsettled_to,
    runBy: row.run_by,
    createdAt: row.created_at,
    computedAt: row.computed_at,
    finalizedAt: row.finalized_at,
  });
}

export const SETTLEMENT_LINE_COLUMNS =
  'l.settlement_id, l.agreement_id, l.agreement_version, l.brand_id, l.share_basis_points, l.version_net_minor, l.amount_minor, s.currency';

export function settlementLineFromRow(row: Row): SettlementLineEntity {
  return Object.assign(new SettlementLineEntity(), {
    settlementId: row.settlement_id,
    agreementId: row.agreement_id,
    agreementVersion: row.agreement_version,
    brandId: row.brand_id,
    shareBasisPoints: row.share_basis_points,
    versionNetMinor: safeNumber(row.version_net_minor),
    amountMinor: safeNumber(row.amount_minor),
    currency: row.currency,
  });
}
