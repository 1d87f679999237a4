import {
  AgreementAcceptanceEntity,
  AgreementEntity,
  AgreementShareEntity,
  AllianceEntity,
  AllianceMemberEntity,
  AuditEntryEntity,
} from './alliance.entity';
import { ApiKeyEntity } from './api-key.entity';
import { CampaignEntity, CreativeEntity } from './campaign.entity';
import { BrandEntity } from './brand.entity';
import { CourseEntity } from './course.entity';
import { LearnerEntity } from './learner.entity';
import { SettlementEntity, SettlementLineEntity } from './settlement.entity';

export {
  AgreementAcceptanceEntity,
  AgreementEntity,
  AgreementShareEntity,
  AllianceEntity,
  AllianceMemberEntity,
  ApiKeyEntity,
  AuditEntryEntity,
  BrandEntity,
  CampaignEntity,
  CourseEntity,
  CreativeEntity,
  LearnerEntity,
  SettlementEntity,
  SettlementLineEntity,
};
export const entities = [
  BrandEntity,
  ApiKeyEntity,
  CourseEntity,
  LearnerEntity,
  AllianceEntity,
  AllianceMemberEntity,
  AgreementEntity,
  AgreementShareEntity,
  AgreementAcceptanceEntity,
  AuditEntryEntity,
  CampaignEntity,
  CreativeEntity,
];
