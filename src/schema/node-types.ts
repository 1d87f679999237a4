import { ModelVersionRow } from '../ml/registry/registry';
import { AgreementEntity, AllianceEntity, BrandEntity, CampaignEntity, CourseEntity, CreativeEntity, LearnerEntity, SettlementEntity } from '../entities';

/** The GraphQL type of a Node value, by the entity it was loaded as. */
export function nodeTypeName(value: unknown): string | undefined {
  if (value instanceof CourseEntity) return 'Course';
  if (value instanceof LearnerEntity) return 'Learner';
  if (value instanceof AllianceEntity) return 'Alliance';
  if (value instanceof AgreementEntity) return 'Agreement';
  if (value instanceof CampaignEntity) return 'Campaign';
  if (value instanceof CreativeEntity) return 'Creative';
  if (value instanceof SettlementEntity) return 'Settlement';
  if (value instanceof ModelVersionRow) return 'ModelVersion';
  // Only the caller's own brand is ever returned as a Node (other brands are BrandProfiles).
  if (value instanceof BrandEntity) return 'Brand';
  return undefined;
}
