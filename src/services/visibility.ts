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
