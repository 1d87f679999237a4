import type { JobQueue } from '../jobs/queue';
import type { ModelLayer } from '../ml/layer';
import type { RunAs } from '../tenancy/run-as';
import { AgreementService } from './agreement.service';
import { AllianceService } from './alliance.service';
import { ApiKeyService } from './api-key.service';
import { AuditService } from './audit.service';
import { BrandService } from './brand.service';
import { CampaignService } from './campaign.service';
import { CourseService } from './course.service';
import { CtrService } from './ctr.service';
import { ContactService } from './contact.service';
import { DeliveryService, type DeliveryOptions } from './delivery.service';
import { DemandService } from './demand.service';
import { EmailSettingsService } from './email-settings.service';
import { JourneyService } from './journey.service';
import { TemplateService } from './template.service';
import { LifecycleService } from './lifecycle.service';
import { EventService, type AfterStoreHook } from './event.service';
import { ExperimentService } from './experiment.service';
import { IngestService } from './ingest.service';
import { JobService } from './job.service';
import { LearnerService } from './learner.service';
import { MetricsService } from './metrics.service';
import { ModelService } from './model.service';
import { NodeService } from './node.service';
import { PartnerService } from './partner.service';
import { RecommendationService } from './recommendation.service';
import { SegmentService } from './segment.service';
import { RateLimiter } from '../limits/rate';
import { LoyaltyService } from './loyalty.service';
import { ImpactService } from './impact.service';
import { BudgetService } from './budget.service';
import { SettlementService } from './settlement.service';

/** What the domain services need from outside the domain. */
export interface ServiceDependencies {
  /** The one way into a tenant, for services that open transactions of their own (bulk ingestion). */
  runAs: RunAs;
  /** Later work, enqueued in the operation's transaction (src/jobs). */
  jobs: JobQueue;
  /** The model layer (src/ml): registry, training, serving. */
  models: ModelLayer;
  /** Run after events are stored, in the same transaction (see EventService). */
  afterStore?: AfterStoreHook[];
  /** Share (0..1) of bestCreative answers that explore instead of exploiting. */
  ctrExplorationShare: number;
  /** Email: where it goes, how links are signed, how often journeys tick. */
  mail: DeliveryOptions & { maxAttempts: number; journeyTickSeconds: number };
  /** Keys the HMAC that loyalty member codes are stored as. */
  loyaltyCodeKey: Buffer;
  /** The HMAC key API keys are stored under. */
  apiKeyHashKey: Buffer;
  /** Wrong member codes a brand may try: per minute, and at once. */
  loyaltyCodeFailures: { perMinute: number; burst: number };
}

/**
 * The domain services, each handed the others it uses. They hold no request
 * state: one set serves every request of an application. Built by the
 * composition root (src/app.ts) only.
 */
export function buildServices(deps: ServiceDependencies) {
  const audit = new AuditService();
  const brands = new BrandService();
  const alliances = new AllianceService(audit);
  const agreements = new AgreementService(alliances, audit);
  const courses = new CourseService(alliances);
  const learners = new LearnerService();
  const campaigns = new CampaignService(alliances, courses);
  const settlements = new SettlementService(alliances, audit, brands);
  const segments = new SegmentService(deps.models);
  const models = new ModelService(deps.models, segments);
  // Experiments record the arms of the events they affect, in the events' transaction.
  const experiments = new ExperimentService(campaigns, models);
  // Feedback is queued for demand extraction in the events' transaction.
  const demands = new DemandService(deps.models, deps.jobs, alliances);
  const lifecycle = new LifecycleService();
  const contacts = new ContactService();
  // Loyalty points are earned in the events' transaction.
  const loyalty = new LoyaltyService(alliances, audit, {
    codeKey: deps.loyaltyCodeKey,
    codeFailures: new RateLimiter('loyaltyCodes', deps.loyaltyCodeFailures.perMinute / 60, deps.loyaltyCodeFailures.burst),
  });
  const events = new EventService(courses, campaigns, [
    ...(deps.afterStore ?? []),
    experiments.afterStore,
    demands.afterStore,
    lifecycle.afterStore,
    contacts.afterStore,
    loyalty.afterStore,
  ]);
  const ctr = new CtrService(deps.models, campaigns, { explorationShare: deps.ctrExplorationShare }, experiments);
  const recommendations = new RecommendationService(deps.models, experiments);
  const templates = new TemplateService(brands, contacts, recommendations);
  const emailSettings = new EmailSettingsService();
  const journeys = new JourneyService(campaigns, emailSettings, deps.jobs, { tickSeconds: deps.mail.journeyTickSeconds, mailMaxAttempts: deps.mail.maxAttempts });
  const delivery = new DeliveryService(templates, contacts, events, deps.jobs, deps.mail);
  return {
    brands,
    apiKeys: new ApiKeyService(deps.apiKeyHashKey),
    courses,
    learners,
    nodes: new NodeService(courses, learners, alliances, agreements, campaigns, settlements, models),
    campaigns,
    events,
    ingest: new IngestService(events, deps.runAs),
    jobs: new JobService(),
    metrics: new MetricsService(alliances, lifecycle),
    impact: new ImpactService(alliances),
    audit,
    alliances,
    agreements,
    partners: new PartnerService(demands),
    settlements,
    models,
    experiments,
    recommendations,
    contacts,
    templates,
    emailSettings,
    journeys,
    delivery,
    loyalty,
    segments,
    demands,
    lifecycle,
    ctr,
    budget: new BudgetService(ctr),
  };
}

export type Services = ReturnType<typeof buildServices>;
