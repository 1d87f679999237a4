import crypto from 'node:crypto';
import { BrandEntity } from '../entities';
import { BRAND_COLUMNS, brandFromRow } from '../entities/rows';
import { conflict, notFound, pgCode, PG } from '../errors';
import type { BrandKind, CreateBrandInput, UpdateBrandInput } from '../schema/brand.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { containsPattern, paginate, type Page, type PageArgs } from './pagination';

export interface BrandListArgs extends PageArgs {
  kind?: BrandKind | null;
  search?: string | null;
}

/** Brands are the tenants. Profiles are public to authenticated callers; a brand edits only itself. */
export class BrandService {
  /** Creates a brand (platform admins only; the database policy enforces it too). Slugs are unique. */
  async create(ctx: RequestContext, input: CreateBrandInput): Promise<BrandEntity> {
    const manager = await ctx.manager();
    const brand = manager.create(BrandEntity, {
      id: crypto.randomUUID(),
      slug: input.slug,
      name: input.name.trim(),
      kind: input.kind,
      description: input.description ?? null,
      resources: input.resources ?? {},
    });
    try {
      await manager.insert(BrandEntity, brand);
    } catch (error) {
      if (pgCode(error) === PG.uniqueViolation) throw conflict(`A brand with slug "${input.slug}" already exists.`);
      throw error;
    }
    return manager.findOneByOrFail(BrandEntity, { id: brand.id });
  }

  /** Updates the caller's own brand; fields left out stay as they are. */
  async updateOwn(ctx: RequestContext, input: UpdateBrandInput): Promise<BrandEntity> {
    const manager = await ctx.manager();
    const changes: Partial<BrandEntity> = {};
    if (input.name != null) changes.name = input.name.trim();
    if (input.description !== undefined) changes.description = input.description;
    if (input.resources != null) changes.resources = input.resources;
    if (Object.keys(changes).length === 0) return this.own(ctx);
    await manager.update(BrandEntity, { id: ctx.brandId }, { ...changes, updatedAt: new Date() });
    // The request's copy of its own brand was read when the transaction opened.
    const fresh = await manager.findOneByOrFail(BrandEntity, { id: ctx.brandId });
    this.profiles(ctx).clear(fresh.id).prime(fresh.id, fresh);
    return fresh;
  }

  /** The caller's brand. */
  async own(ctx: RequestContext): Promise<BrandEntity> {
    const brand = await this.profiles(ctx).load(ctx.brandId);
    if (!brand) throw notFound('Brand');
    return brand;
  }

  async findProfile(ctx: RequestContext, by: { id?: string | null; slug?: string | null }): Promise<BrandEntity | null> {
    if (by.id != null) return isUuid(by.id) ? this.profiles(ctx).load(by.id) : null;
    const manager = await ctx.manager();
    return manager.findOneBy(BrandEntity, { slug: by.slug ?? '' });
  }

  /** Whether there is no brand at all (a fresh database). */
  async none(ctx: RequestContext): Promise<boolean> {
    const [row] = await (await ctx.manager()).query(`select not exists (select 1 from brands) as none`);
    return row.none;
  }

  /** Public profiles, by name, optionally of one kind and matching a name search. */
  async list(ctx: RequestContext, args: BrandListArgs): Promise<Page<BrandEntity>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (args.kind) {
      params.push(args.kind);
      where.push(`b.kind = $${params.length}`);
    }
    if (args.search) {
      params.push(containsPattern(args.search));
      where.push(`b.name ilike $${params.length}`);
    }
    return paginate(
      await ctx.manager(),
      {
        list: 'brands',
        select: BRAND_COLUMNS.replace(/(\w+)/g, 'b.$1'),
        from: 'brands b',
        where,
        params,
        keys: [
          { sql: 'lower(b.name)', type: 'text', of: (b) => b.name.toLowerCase() },
          { sql: 'b.id', type: 'uuid', of: (b) => b.id },
        ],
        direction: 'ASC',
        map: (row) => brandFromRow(row),
      },
      args,
    );
  }

  /** Brand profiles by id, batched per request; the caller's own brand costs no query. */
  profiles(ctx: RequestContext) {
    return ctx.loader<string, BrandEntity | null>('brand.profiles', async (ids) => {
      const own = ctx.caller.brandId ? await ctx.ownBrand() : null;
      const byId = new Map<string, BrandEntity>(own ? [[own.id, own]] : []);
      const others = ids.filter((id) => !byId.has(id));
      if (others.length > 0) {
        const manager = await ctx.manager();
        const rows: Record<string, unknown>[] = await manager.query(
          `select ${BRAND_COLUMNS} from brands where id = any($1::uuid[])`,
          [others],
        );
        for (const row of rows) byId.set(row.id as string, brandFromRow(row));
      }
      return ids.map((id) => byId.get(id) ?? null);
    });
  }
}
