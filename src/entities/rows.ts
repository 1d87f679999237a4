import { BrandEntity } from './brand.entity';
import { CourseEntity } from './course.entity';
import { LearnerEntity } from './learner.entity';

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
  'c.tenant_id, c.id, c.title, c.description, c.topics, c.level, c.format, c.price_minor, c.currency, c.status, c.created_at, c.updated_at';

export function courseFromRow(row: Row): CourseEntity {
  return Object.assign(new CourseEntity(), {
    tenantId: row.tenant_id,
    id: row.id,
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

export const LEARNER_COLUMNS = 'l.tenant_id, l.id, l.external_id, l.segment, l.demands, l.created_at';

export function learnerFromRow(row: Row): LearnerEntity {
  return Object.assign(new LearnerEntity(), {
    tenantId: row.tenant_id,
    id: row.id,
    externalId: row.external_id,
    segment: row.segment,
    demands: row.demands,
    createdAt: row.created_at,
  });
}
