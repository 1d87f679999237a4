import type { BrandEntity } from '../entities';
import { BRAND_COLUMNS, brandFromRow } from '../entities/rows';
import type { RequestContext } from '../tenancy/context';
import { checkFirst } from './pagination';

/** Capabilities every brand is scored on, whether or not it lists them. */
export const STANDARD_CAPABILITIES = ['content', 'technology', 'channels', 'audience', 'venue', 'capital'];

export interface Suggestion {
  brand: BrandEntity;
  complementarity: number;
  unmetDemands: string[];
  reason: string;
}

export interface Fill {
  capability: string;
  mine: number;
  theirs: number;
  fill: number;
}

/**
 * How much `theirs` fills the gaps in `mine`, in 0..1.
 *
 * For each capability c (the standard six plus any either brand lists; a
 * missing value counts as 0): gap(c) = 1 − mine(c) and
 * fill(c) = min(theirs(c), gap(c)). Then
 *
 *   complementarity = Σ fill(c) / Σ gap(c)   (0 when there is no gap).
 *
 * Example: mine = {content 0.9, venue 0.1}, theirs = {venue 0.95, audience 0.5}.
 * Gaps: content 0.1, venue 0.9, audience 1, and technology, channels, capital
 * 1 each: Σ gap = 5. Fills: venue 0.9, audience 0.5: Σ fill = 1.4.
 * Complementarity = 1.4 / 5 = 0.28.
 */
export function complementarity(mine: Record<string, number>, theirs: Record<string, number>): { score: number; fills: Fill[] } {
  const capabilities = new Set([...STANDARD_CAPABILITIES, ...Object.keys(mine), ...Object.keys(theirs)]);
  let gaps = 0;
  let filled = 0;
  const fills: Fill[] = [];
  for (const capability of capabilities) {
    const m = mine[capability] ?? 0;
    const t = theirs[capability] ?? 0;
    const gap = 1 - m;
    const fill = Math.min(t, gap);
    gaps += gap;
    filled += fill;
    if (fill > 0) fills.push({ capability, mine: m, theirs: t, fill });
  }
  fills.sort((a, b) => b.fill - a.fill || a.capability.localeCompare(b.capability));
  return { score: gaps > 0 ? Math.round((filled / gaps) * 10_000) / 10_000 : 0, fills };
}

function reasonFor(fills: Fill[]): string {
  if (fills.length === 0) return 'Brings nothing your brand lacks.';
  const top = fills.slice(0, 3).map((f) => `${f.capability} (${f.theirs.toFixed(2)} against your ${f.mine.toFixed(2)})`);
  return `Fills your gaps in ${top.join(', ')}.`;
}

/** Brands the caller is not yet allied with, ranked by how much they fill its gaps. */
export class PartnerService {
  async suggestions(ctx: RequestContext, first: number | null | undefined): Promise<Suggestion[]> {
    const limit = checkFirst(first ?? 10);
    const manager = await ctx.manager();
    const own = await ctx.ownBrand();
    if (!own) return [];
    // Every brand profile is scored; fine for thousands of brands, a
    // precomputed ranking is the next step beyond that.
    const rows: Record<string, unknown>[] = await manager.query(
      `select ${BRAND_COLUMNS} from brands
       where id <> $1 and id not in (select allied_partner_brands())`,
      [own.id],
    );
    return rows
      .map((row) => brandFromRow(row))
      .map((brand) => {
        const { score, fills } = complementarity(own.resources, brand.resources);
        // Seam: demands voiced by the caller's learners that its catalog does not meet
        // arrive with demand extraction.
        return { brand, complementarity: score, unmetDemands: [] as string[], reason: reasonFor(fills) };
      })
      .sort((a, b) => b.complementarity - a.complementarity || a.brand.name.localeCompare(b.brand.name) || a.brand.id.localeCompare(b.brand.id))
      .slice(0, limit);
  }
}
