import { isObjectType, type GraphQLSchema } from 'graphql';
import { forbidden } from '../errors';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

/** Any authenticated caller: what carries no brand data of its own (public profiles, page info). */
export const AUTHENTICATED = 'AUTHENTICATED';
type ReadRule = typeof AUTHENTICATED | Role;

/**
 * Who may read each object type, written once per type. It is enforced where
 * graphql completes every object of the type, so it holds on every path to
 * it: root fields, `node(id)`, nested fields and subscriptions, over HTTP and
 * WebSocket alike. A role that implies the rule's role passes (OWNER, ADMIN
 * and EDITOR all read what ANALYST reads). Root fields keep their own
 * `@Authorized` rule for what a caller may ask; this table says what it may
 * see. Every object type must be listed: building the schema fails otherwise.
 */
export const READ_RULES: Readonly<Record<string, ReadRule>> = {
  // Who is calling, and public brand profiles: any credential, INGEST and PLATFORM_ADMIN included.
  Principal: AUTHENTICATED,
  Brand: AUTHENTICATED,
  BrandProfile: AUTHENTICATED,
  BrandProfileConnection: AUTHENTICATED,
  BrandProfileEdge: AUTHENTICATED,
  PageInfo: AUTHENTICATED,
  // What ingestion answers.
  RecordEventsResult: Role.INGEST,
  EventRejection: Role.INGEST,
  // Credentials of the brand.
  ApiKey: Role.ADMIN,
  ApiKeyCreated: Role.ADMIN,
  // Background jobs: their errors may name internals, so OWNER and ADMIN only.
  Job: Role.ADMIN,
  JobConnection: Role.ADMIN,
  JobEdge: Role.ADMIN,
  // Everything else of the brand and its alliances: readers (ANALYST and up).
  Course: Role.ANALYST,
  CourseConnection: Role.ANALYST,
  CourseEdge: Role.ANALYST,
  Learner: Role.ANALYST,
  LearnerConnection: Role.ANALYST,
  LearnerEdge: Role.ANALYST,
  Money: Role.ANALYST,
  Alliance: Role.ANALYST,
  AllianceConnection: Role.ANALYST,
  AllianceEdge: Role.ANALYST,
  AllianceMember: Role.ANALYST,
  Agreement: Role.ANALYST,
  RevenueShare: Role.ANALYST,
  AgreementAcceptance: Role.ANALYST,
  AuditEntry: Role.ANALYST,
  AuditEntryConnection: Role.ANALYST,
  AuditEntryEdge: Role.ANALYST,
  PartnerSuggestion: Role.ANALYST,
  Campaign: Role.ANALYST,
  CampaignConnection: Role.ANALYST,
  CampaignEdge: Role.ANALYST,
  CampaignMetrics: Role.ANALYST,
  Creative: Role.ANALYST,
  Sponsorship: Role.ANALYST,
  Settlement: Role.ANALYST,
  SettlementConnection: Role.ANALYST,
  SettlementEdge: Role.ANALYST,
  SettlementLine: Role.ANALYST,
  SettlementLoyaltyLine: Role.ANALYST,
  MetricsSnapshot: Role.ANALYST,
  MetricsSeries: Role.ANALYST,
  MetricsPoint: Role.ANALYST,
  ModelVersion: Role.ANALYST,
  TrainingProgress: Role.ANALYST,
  Recommendation: Role.ANALYST,
  Experiment: Role.ANALYST,
  ExperimentConnection: Role.ANALYST,
  ExperimentEdge: Role.ANALYST,
  ExperimentArm: Role.ANALYST,
  ExperimentComparison: Role.ANALYST,
  ExperimentOutcome: Role.ANALYST,
  CtrPrediction: Role.ANALYST,
  BestCreative: Role.ANALYST,
  Segment: Role.ANALYST,
  Segmentation: Role.ANALYST,
  DemandExtraction: Role.ANALYST,
  DemandEntity: Role.ANALYST,
  DemandValue: Role.ANALYST,
  BudgetRange: Role.ANALYST,
  DemandTrend: Role.ANALYST,
  LifecycleCounts: Role.ANALYST,
  LifecycleSettings: Role.ANALYST,
  // Email: contacts and renders carry personal data (EDITOR and up); erasure is ADMIN's.
  LearnerContact: Role.EDITOR,
  RenderedEmail: Role.EDITOR,
  ForgetLearnerResult: Role.ADMIN,
  EmailSettings: Role.ANALYST,
  EmailTemplate: Role.ANALYST,
  EmailOffer: Role.ANALYST,
  Journey: Role.ANALYST,
  JourneyTrigger: Role.ANALYST,
  JourneyStep: Role.ANALYST,
  JourneyReport: Role.ANALYST,
  CampaignJourney: Role.ANALYST,
  LoyaltyProgram: Role.ANALYST,
  LoyaltyBrandFigures: Role.ANALYST,
  LoyaltyEarnRate: Role.ANALYST,
  LoyaltyRedemptionValue: Role.ANALYST,
  LoyaltyTier: Role.ANALYST,
  LoyaltyAcceptance: Role.ANALYST,
  LoyaltyMember: Role.ANALYST,
  LoyaltyEntry: Role.ANALYST,
  LoyaltyEntryConnection: Role.ANALYST,
  LoyaltyEntryEdge: Role.ANALYST,
  LoyaltyEnrollment: Role.EDITOR,
  LoyaltyRedemption: Role.EDITOR,
  JourneyGroupFigures: Role.ANALYST,
  Funnel: Role.ANALYST,
  FunnelPeriod: Role.ANALYST,
  FunnelStage: Role.ANALYST,
  TargetMarket: Role.ANALYST,
  AllianceImpact: Role.ANALYST,
  ImpactPoint: Role.ANALYST,
  SatisfactionReading: Role.ANALYST,
  MemberSatisfaction: Role.ANALYST,
  SatisfactionFit: Role.ANALYST,
  FitCoefficient: Role.ANALYST,
  BudgetSuggestion: Role.ANALYST,
  BudgetShare: Role.ANALYST,
};

/**
 * Installs the read rules (and the per-operation object budget) on every
 * object type of the schema. graphql calls `isTypeOf` once per object it
 * completes, before any of its fields: one map lookup and one set lookup.
 */
export function applyReadRules(schema: GraphQLSchema): GraphQLSchema {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].map((t) => t?.name));
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || roots.has(type.name)) continue;
    const rule = READ_RULES[type.name];
    if (!rule) {
      missing.push(type.name);
      continue;
    }
    const message = rule === AUTHENTICATED ? '' : `Reading ${type.name} needs the ${rule} role (or one that implies it).`;
    type.isTypeOf = (_value, context: RequestContext) => {
      context.budget.object();
      const caller = context.caller;
      if (rule !== AUTHENTICATED && !caller.has(rule)) throw forbidden(message);
      return true;
    };
  }
  if (missing.length > 0) throw new Error(`No read rule for ${missing.join(', ')}: add them to READ_RULES in src/resolvers/read-rules.ts`);
  return schema;
}
