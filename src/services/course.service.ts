import crypto from 'node:crypto';
import { CourseEntity } from '../entities';
import { COURSE_COLUMNS, courseFromRow } from '../entities/rows';
import { forbidden, notFound } from '../errors';
import { CatalogScope } from '../entities/enums';
import type { CourseFilter, CreateCourseInput, UpdateCourseInput } from '../schema/course.types';
import type { RequestContext } from '../tenancy/context';
import type { AllianceService } from './alliance.service';
import { catalogScope as scopeClause } from './visibility';
import { isUuid } from '../tenancy/credentials';
import { containsPattern, emptyPage, newestFirst, paginate, type Page, type PageArgs } from './pagination';

const dedupe = (topics: string[]) => [...new Set(topics.map((t) => t.trim()))];

/** Courses: a brand's own catalog, joint courses of its alliances, and its partners' published courses. */
export class CourseService {
  constructor(private readonly alliances: AllianceService) {}

  /** A course of the caller's brand; with `allianceId`, a joint course of an ACTIVE alliance the caller is an ACTIVE member of. */
  async create(ctx: RequestContext, input: CreateCourseInput): Promise<CourseEntity> {
    const allianceId = input.allianceId != null ? await this.alliances.jointAlliance(ctx, input.allianceId, 'courses') : null;
    const manager = await ctx.manager();
    const id = crypto.randomUUID();
    await manager.insert(CourseEntity, {
      tenantId: ctx.brandId,
      id,
      allianceId,
      title: input.title.trim(),
      description: input.description ?? null,
      topics: dedupe(input.topics),
      level: input.level,
      format: input.format,
      priceMinor: input.price.amountMinor,
      currency: input.price.currency,
      status: 'DRAFT',
    });
    return this.getOrFail(ctx, id);
  }

  /** Changes the given fields of one of the caller's courses; a partner's course it can see is FORBIDDEN, any other id NOT_FOUND. */
  async update(ctx: RequestContext, id: string, input: UpdateCourseInput): Promise<CourseEntity> {
    const course = await this.get(ctx, id);
    if (!course) throw notFound('Course');
    if (course.tenantId !== ctx.brandId) throw forbidden('Only the brand that owns a course may change it.');
    const changes: Partial<CourseEntity> = {};
    if (input.title != null) changes.title = input.title.trim();
    if (input.description !== undefined) changes.description = input.description;
    if (input.topics != null) changes.topics = dedupe(input.topics);
    if (input.level != null) changes.level = input.level;
    if (input.format != null) changes.format = input.format;
    if (input.status != null) changes.status = input.status;
    if (input.price != null) {
      changes.priceMinor = input.price.amountMinor;
      changes.currency = input.price.currency;
    }
    if (Object.keys(changes).length > 0) {
      const manager = await ctx.manager();
      await manager.update(CourseEntity, { tenantId: ctx.brandId, id }, { ...changes, updatedAt: new Date() });
    }
    return this.getOrFail(ctx, id);
  }

  /** A course the caller may read, or null (also for ids it may not read). */
  async get(ctx: RequestContext, id: string): Promise<CourseEntity | null> {
    return isUuid(id) ? this.byId(ctx).load(id) : null;
  }

  async list(ctx: RequestContext, args: PageArgs & { filter?: CourseFilter | null }): Promise<Page<CourseEntity>> {
    const filter = args.filter ?? {};
    const params: unknown[] = [ctx.brandId];
    const where = [await scopeClause(ctx, filter.scope ?? CatalogScope.ALLIANCE, params)];
    if (filter.allianceId != null) {
      // Narrows the scope to one alliance's joint courses.
      if (!isUuid(filter.allianceId)) return emptyPage();
      params.push(filter.allianceId);
      where.push(`c.alliance_id = $${params.length}`);
    }
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filter.status) add((p) => `c.status = ${p}`, filter.status);
    if (filter.topic) add((p) => `${p} = any(c.topics)`, filter.topic);
    if (filter.search) add((p) => `(c.title ilike ${p} or c.description ilike ${p})`, containsPattern(filter.search));
    return paginate(
      await ctx.manager(),
      {
        list: 'courses',
        select: COURSE_COLUMNS,
        from: 'courses c',
        where,
        params,
        ...newestFirst('c'),
        map: courseFromRow,
      },
      args,
    );
  }

  private async getOrFail(ctx: RequestContext, id: string): Promise<CourseEntity> {
    const manager = await ctx.manager();
    return manager.findOneByOrFail(CourseEntity, { tenantId: ctx.brandId, id });
  }

  private byId(ctx: RequestContext) {
    return ctx.loader<string, CourseEntity | null>('course.byId', async (ids) => {
      const manager = await ctx.manager();
      const params: unknown[] = [ctx.brandId, ids];
      const visible = await scopeClause(ctx, CatalogScope.PARTNERS, params);
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${COURSE_COLUMNS} from courses c where c.id = any($2::uuid[]) and ${visible}`,
        params,
      );
      const byId = new Map(rows.map((row) => [row.id as string, courseFromRow(row)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }
}
