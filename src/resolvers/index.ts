import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import type { Services } from '../services';
import { AgreementAcceptanceResolver, AgreementResolver, RevenueShareResolver } from './agreement.resolver';
import {
  AllianceMemberResolver,
  AllianceResolver,
  AuditEntryResolver,
  PartnerSuggestionResolver,
} from './alliance.resolver';
import { ApiKeyResolver } from './api-key.resolver';
import { CampaignResolver } from './campaign.resolver';
import { EventResolver } from './event.resolver';
import { ExperimentArmResolver, ExperimentResolver } from './experiment.resolver';
import { JobResolver } from './job.resolver';
import { MetricsResolver, MetricsSnapshotResolver } from './metrics.resolver';
import { BrandResolver } from './brand.resolver';
import { CourseResolver } from './course.resolver';
import { authChecker } from './guards';
import { applyReadRules } from './read-rules';
import { LearnerResolver } from './learner.resolver';
import { LiveResolver } from './live.resolver';
import { CreativeCtrResolver, MarketingResolver } from './marketing.resolver';
import { DemandResolver } from './demand.resolver';
import { ImpactResolver } from './impact.resolver';
import { LearnerLoyaltyResolver, LoyaltyMemberResolver, LoyaltyRedemptionResolver, LoyaltyResolver } from './loyalty.resolver';
import { CampaignJourneyResolver, CampaignJourneysResolver, EmailResolver, LearnerContactResolver } from './email.resolver';
import { MeResolver } from './me.resolver';
import { LearnerRecommendationResolver, ModelResolver } from './model.resolver';
import { SettlementLineResolver, SettlementResolver } from './settlement.resolver';
import { Agreement, Alliance } from '../schema/alliance.types';
import { Brand } from '../schema/brand.types';
import { Campaign, Creative } from '../schema/campaign.types';
import { Course } from '../schema/course.types';
import { Learner } from '../schema/learner.types';
import { ModelVersion } from '../schema/model.types';
import { Settlement } from '../schema/settlement.types';
import { DateTimeScalar } from '../schema/scalars';

const RESOLVERS = [
  MeResolver,
  BrandResolver,
  ApiKeyResolver,
  CourseResolver,
  LearnerResolver,
  AllianceResolver,
  AllianceMemberResolver,
  AuditEntryResolver,
  PartnerSuggestionResolver,
  AgreementResolver,
  RevenueShareResolver,
  AgreementAcceptanceResolver,
  CampaignResolver,
  EventResolver,
  MetricsResolver,
  MetricsSnapshotResolver,
  SettlementResolver,
  SettlementLineResolver,
  LiveResolver,
  JobResolver,
  ModelResolver,
  LearnerRecommendationResolver,
  ExperimentResolver,
  ExperimentArmResolver,
  MarketingResolver,
  CreativeCtrResolver,
  DemandResolver,
  EmailResolver,
  LearnerContactResolver,
  CampaignJourneyResolver,
  CampaignJourneysResolver,
  LoyaltyResolver,
  ImpactResolver,
  LoyaltyMemberResolver,
  LoyaltyRedemptionResolver,
  LearnerLoyaltyResolver,
] as const;

let printable: Promise<GraphQLSchema> | undefined;

/**
 * The executable schema, with the read rule of every type installed. With
 * `services`, each resolver is built once with them (type-graphql's container
 * hands out these instances), so every application gets resolvers wired to
 * its own services. Without, the schema is for printing and checking only,
 * and is built once per process.
 */
export function buildAlliedSchema(services?: Services): Promise<GraphQLSchema> {
  if (!services) return (printable ??= build(undefined));
  return build(services);
}

function build(services: Services | undefined): Promise<GraphQLSchema> {
  const instances = new Map<Function, unknown>(services ? RESOLVERS.map((R) => [R, new R(services)]) : []);
  return buildSchema({
    resolvers: RESOLVERS,
    container: {
      get: (resolverClass: new (services?: Services) => unknown) => {
        const instance = instances.get(resolverClass);
        if (!instance) throw new Error(`${resolverClass.name} has no services: this schema is for printing only`);
        return instance;
      },
    },
    // Types reachable only through the Node interface.
    orphanedTypes: [Brand, Course, Learner, Alliance, Agreement, Campaign, Creative, Settlement, ModelVersion],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    authChecker,
    // Every subscription brings its own source (src/realtime); type-graphql's
    // topic-based pub/sub is never used, but it insists on one.
    pubSub: {
      publish: () => {
        throw new Error('Allied subscriptions do not use topic pub/sub');
      },
      subscribe: () => {
        throw new Error('Allied subscriptions do not use topic pub/sub');
      },
    },
    validate: { forbidUnknownValues: false, validationError: { target: false, value: false } },
    emitSchemaFile: false,
  }).then(applyReadRules);
}
