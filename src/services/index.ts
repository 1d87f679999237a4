import { AgreementService } from './agreement.service';
import { AllianceService } from './alliance.service';
import { ApiKeyService } from './api-key.service';
import { AuditService } from './audit.service';
import { BrandService } from './brand.service';
import { CampaignService } from './campaign.service';
import { CourseService } from './course.service';
import { EventService } from './event.service';
import { IngestService } from './ingest.service';
import { JobService } from './job.service';
import { LearnerService } from './learner.service';
import { MetricsService } from './metrics.service';
import { NodeService } from './node.service';
import { PartnerService } from './partner.service';
import { SettlementService } from './settlement.service';

const audit = new AuditService();
const brands = new BrandService();
const alliances = new AllianceService(audit);
const agreements = new AgreementService(alliances, audit);
const courses = new CourseService(alliances);
const learners = new LearnerService();
const campaigns = new CampaignService(alliances, courses);
const events = new EventService(courses, campaigns);
const settlements = new SettlementService(alliances, audit, brands);

/** The domain services; stateless, so one instance of each serves every request. */
export const services = {
  brands,
  apiKeys: new ApiKeyService(),
  courses,
  learners,
  nodes: new NodeService(courses, learners, alliances, agreements, campaigns, settlements),
  campaigns,
  events,
  ingest: new IngestService(events),
  metrics: new MetricsService(alliances),
  audit,
  alliances,
  agreements,
  partners: new PartnerService(),
  settlements,
  jobs: new JobService(),
};
