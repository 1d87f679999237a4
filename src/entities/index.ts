import { ApiKeyEntity } from './api-key.entity';
import { BrandEntity } from './brand.entity';
import { CourseEntity } from './course.entity';
import { LearnerEntity } from './learner.entity';

export { ApiKeyEntity, BrandEntity, CourseEntity, LearnerEntity };
export const entities = [BrandEntity, ApiKeyEntity, CourseEntity, LearnerEntity];
