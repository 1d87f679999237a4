import crypto from 'node:crypto';
import { ApiKeyEntity } from '../entities';
import { badInput, forbidden, notFound } from '../errors';
import type { RequestContext } from '../tenancy/context';
import { isUuid, newApiKeySecret } from '../tenancy/credentials';
import { BRAND_ROLES, Role } from '../tenancy/roles';

export interface CreatedApiKey {
  key: ApiKeyEntity;
  secret: string;
}

/** API keys of the caller's brand: the secret is returned once and stored only as a hash. */
export class ApiKeyService {
  /** `hashKey`: the server's key API keys are stored under (HMAC-SHA256). */
  constructor(private readonly hashKey: Buffer) {}

  /**
   * A key never holds more than its creator: each requested role must be one
   * the caller has, and no key is a platform admin.
   */
  async create(ctx: RequestContext, name: string, roles: Role[]): Promise<CreatedApiKey> {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 100) throw badInput('name must be 1..100 characters.');
    const unique = [...new Set(roles)];
    if (unique.length === 0) throw badInput('roles must name at least one role.');
    const invalid = unique.filter((r) => !BRAND_ROLES.includes(r));
    if (invalid.length > 0) throw badInput(`An API key cannot carry ${invalid.join(', ')}.`);
    const beyond = unique.filter((r) => !ctx.caller.has(r));
    if (beyond.length > 0) throw forbidden(`You cannot grant roles you do not hold: ${beyond.join(', ')}.`);

    const manager = await ctx.manager();
    const id = crypto.randomUUID();
    const { secret, hash } = newApiKeySecret(ctx.brandId, id, this.hashKey);
    await manager.insert(ApiKeyEntity, {
      tenantId: ctx.brandId,
      id,
      name: trimmed,
      roles: unique,
      secretHash: hash,
      createdBy: ctx.caller.subject,
    });
    return { key: await manager.findOneByOrFail(ApiKeyEntity, { tenantId: ctx.brandId, id }), secret };
  }

  /** Revokes a key of the caller's brand; revoking twice is harmless. */
  async revoke(ctx: RequestContext, id: string): Promise<boolean> {
    if (!isUuid(id)) throw notFound('API key');
    const manager = await ctx.manager();
    const key = await manager.findOneBy(ApiKeyEntity, { tenantId: ctx.brandId, id });
    if (!key) throw notFound('API key');
    if (!key.revokedAt) await manager.update(ApiKeyEntity, { tenantId: ctx.brandId, id }, { revokedAt: new Date() });
    return true;
  }

  async list(ctx: RequestContext): Promise<ApiKeyEntity[]> {
    const manager = await ctx.manager();
    return manager.find(ApiKeyEntity, { where: { tenantId: ctx.brandId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }
}
