import crypto from 'node:crypto';
import { CourseEntity } from '../entities';
import { COURSE_COLUMNS, courseFromRow } from '../entities/rows';
import { notFound } from '../errors';
import type { CourseFilter, CreateCourseInput, UpdateCourseInput } from '../schema/course.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { containsPattern, emptyPage, newestFirst, paginate, type Page, type PageArgs } from './pagination';

const dedupe = (topics: string[]) => [...new Set(topics.map((t) => t.trim()))];

/** The caller's catalog. Every read and write is confined to the caller's brand by RLS and by these filters. */
export class CourseService {
  async create(ctx: RequestContext, input: CreateCourseInput): Promise<CourseEntity> {
    // Joint courses need an alliance the caller is an ACTIVE member of; none is visible yet.
    if (input.allianceId != null) throw notFound('Alliance');
    const manager = await ctx.manager();
    const id = crypto.randomUUID();
    await manager.insert(CourseEntity, {
      tenantId: ctx.brandId,
      id,
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

  /** Changes the given fields of one of the caller's courses; NOT_FOUND for any other id. */
  async update(ctx: RequestContext, id: string, input: UpdateCourseInput): Promise<CourseEntity> {
    const course = await this.get(ctx, id);
    if (!course) throw notFound('Course');
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

  /** One of the caller's courses, or null (also for ids of other brands). */
  async get(ctx: RequestContext, id: string): Promise<CourseEntity | null> {
    return isUuid(id) ? this.byId(ctx).load(id) : null;
  }

  async list(ctx: RequestContext, args: PageArgs & { filter?: CourseFilter | null }): Promise<Page<CourseEntity>> {
    const filter = args.filter ?? {};
    // No alliance is visible until alliances exist, so an alliance filter matches nothing.
    if (filter.allianceId != null) return emptyPage();
    const params: unknown[] = [ctx.brandId];
    const where = ['c.tenant_id = $1'];
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
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${COURSE_COLUMNS} from courses c where c.tenant_id = $1 and c.id = any($2::uuid[])`,
        [ctx.brandId, ids],
      );
      const byId = new Map(rows.map((row) => [row.id as string, courseFromRow(row)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }
}
