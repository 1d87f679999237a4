import { ApiKeyService } from './api-key.service';
import { BrandService } from './brand.service';
import { CourseService } from './course.service';
import { LearnerService } from './learner.service';
import { NodeService } from './node.service';

/** The domain services; stateless, so one instance of each serves every request. */
export const services = {
  brands: new BrandService(),
  apiKeys: new ApiKeyService(),
  courses: new CourseService(),
  learners: new LearnerService(),
  nodes: new NodeService(),
};
