import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { AgreementAcceptanceResolver, AgreementResolver, RevenueShareResolver } from '../resolvers/agreement.resolver';
import {
  AllianceMemberResolver,
  AllianceResolver,
  AuditEntryResolver,
  PartnerSuggestionResolver,
} from '../resolvers/alliance.resolver';
import { ApiKeyResolver } from '../resolvers/api-key.resolver';
import { CampaignResolver } from '../resolvers/campaign.resolver';
import { EventResolver } from '../resolvers/event.resolver';
import { JobResolver } from '../resolvers/job.resolver';
import { MetricsResolver } from '../resolvers/metrics.resolver';
import { BrandResolver } from '../resolvers/brand.resolver';
import { CourseResolver } from '../resolvers/course.resolver';
import { authChecker } from '../resolvers/guards';
import { applyReadRules } from '../resolvers/read-rules';
import { LearnerResolver } from '../resolvers/learner.resolver';
import { LiveResolver } from '../resolvers/live.resolver';
import { MeResolver } from '../resolvers/me.resolver';
import { SettlementLineResolver, SettlementResolver } from '../resolvers/settlement.resolver';
import { Agreement, Alliance } from './alliance.types';
import { Brand } from './brand.types';
import { Campaign, Creative } from './campaign.types';
import { Course } from './course.types';
import { Learner } from './learner.types';
import { Settlement } from './settlement.types';
import { DateTimeScalar } from './scalars';

let built: Promise<GraphQLSchema> | undefined;

/** The executable schema, with the read rule of every type installed; built once per process (type-graphql metadata is global). */
export function buildAlliedSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [
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
      SettlementResolver,
      SettlementLineResolver,
      LiveResolver,
      JobResolver,
    ],
    // Types reachable only through the Node interface.
    orphanedTypes: [Brand, Course, Learner, Alliance, Agreement, Campaign, Creative, Settlement],
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
  return built;
}
