import { CatalogScope } from '../entities/enums';
import type { RequestContext } from '../tenancy/context';

/**
 * Rows of table `alias` the caller may read as its own or as joint rows of
 * its ACTIVE alliances: `$1` must be the caller's brand; the alliance ids
 * (read when the transaction opened) are appended to `params`. A brand with
 * no alliances gets the plain `tenant_id = $1`, which its indexes serve.
 */
export async function ownOrJoint(ctx: RequestContext, alias: string, params: unknown[]): Promise<string> {
  const alliances = await ctx.activeAlliances();
  if (alliances.length === 0) return `${alias}.tenant_id = $1`;
  params.push(alliances);
  return `(${alias}.tenant_id = $1 or ${alias}.alliance_id = any($${params.length}::uuid[]))`;
}

/**
 * Which courses a brand may read, beyond RLS (two locks): its own; joint
 * courses of alliances it is an ACTIVE member of; PUBLISHED courses of brands
 * it is allied with. The caller's alliances arrive as a parameter (read when
 * the transaction opened), so a brand without alliances gets the plain
 * indexed query on its own rows.
 */
export async function catalogScope(ctx: RequestContext, scope: CatalogScope, params: unknown[]): Promise<string> {
  if (scope === CatalogScope.OWN) return 'c.tenant_id = $1';
  const allied = await ownOrJoint(ctx, 'c', params);
  if (scope === CatalogScope.ALLIANCE) return allied;
  return `(${allied} or (c.status = 'PUBLISHED' and c.tenant_id in (select allied_partner_brands())))`;
}
