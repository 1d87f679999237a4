import crypto from 'node:crypto';
import { In } from 'typeorm';
import { BrandEntity } from '../entities';
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
    if (Object.keys(changes).length > 0) {
      await manager.update(BrandEntity, { id: ctx.brandId }, { ...changes, updatedAt: new Date() });
    }
    return this.own(ctx);
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

  /** Public profiles, by name, optionally of one kind and matching a name search. */
  async list(ctx: RequestContext, args: BrandListArgs): Promise<Page<BrandEntity>> {
    const manager = await ctx.manager();
    const query = manager.createQueryBuilder(BrandEntity, 'b');
    if (args.kind) query.andWhere('b.kind = :kind', { kind: args.kind });
    if (args.search) query.andWhere('b.name ilike :search', { search: containsPattern(args.search) });
    return paginate(
      'brands',
      query,
      args,
      [
        { sql: 'lower(b.name)', cast: 'text', of: (b) => b.name.toLowerCase() },
        { sql: 'b.id', cast: 'uuid', of: (b) => b.id },
      ],
      'ASC',
    );
  }

  /** Brand profiles by id, batched per request. */
  profiles(ctx: RequestContext) {
    return ctx.loader<string, BrandEntity | null>('brand.profiles', async (ids) => {
      const manager = await ctx.manager();
      const rows = await manager.findBy(BrandEntity, { id: In([...ids]) });
      const byId = new Map(rows.map((b) => [b.id, b]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }
}
