import type { BrandEntity } from '../entities';
import { BRAND_COLUMNS, brandFromRow } from '../entities/rows';
import type { RequestContext } from '../tenancy/context';
import { topicKey, type DemandService, type UnmetDemand } from './demand.service';
import { checkFirst } from './pagination';

/** Capabilities every brand is scored on, whether or not it lists them. */
export const STANDARD_CAPABILITIES = ['content', 'technology', 'channels', 'audience', 'venue', 'capital'];

export interface Suggestion {
  brand: BrandEntity;
  complementarity: number;
  unmetDemands: string[];
  rank: number;
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

/** How much unmet demand weighs in a partner's rank against complementarity. */
export const DEMAND_WEIGHT = 0.5;
/** The window of feedback whose uncovered topics partner suggestions consider, in days. */
export const UNMET_DEMAND_DAYS = 90;

/**
 * A candidate's rank: complementarity + DEMAND_WEIGHT × demandShare, where
 *
 *   demandShare = Σ learners(d) over the uncovered demands d the partner's
 *                 PUBLISHED catalog covers ÷ Σ learners(d) over every
 *                 uncovered demand   (0 when none is uncovered),
 *
 * an uncovered demand being a TOPIC the caller's learners voiced in the last
 * UNMET_DEMAND_DAYS days that its own PUBLISHED catalog does not have (the
 * MAX_UNMET_TOPICS most voiced), and learners(d) the distinct learners who
 * voiced it: a learner asking for two uncovered topics weighs in both. A
 * partner covers d when one of its published topics is d by canonical name
 * (the lexicon's: 茶艺 is tea ceremony), case- and width-insensitive.
 *
 * Example: the caller's learners ask for 茶艺 (30 learners) and 古琴 (10),
 * neither in its catalog; a candidate with complementarity 0.28 publishes 茶艺
 * courses: demandShare = 30 / 40 = 0.75, rank = 0.28 + 0.5 × 0.75 = 0.655,
 * ahead of a candidate with complementarity 0.6 and no such course (0.6).
 */
export function rankOf(complementarityScore: number, unmet: readonly UnmetDemand[], covered: readonly UnmetDemand[]): number {
  const all = unmet.reduce((s, d) => s + d.learners, 0);
  const met = covered.reduce((s, d) => s + d.learners, 0);
  return Math.round((complementarityScore + DEMAND_WEIGHT * (all > 0 ? met / all : 0)) * 10_000) / 10_000;
}

/** The uncovered demands a catalog of topics covers (the same canonical topic), most voiced first. */
export function coveredBy(unmet: readonly UnmetDemand[], topics: readonly string[]): UnmetDemand[] {
  const keys = new Set(topics.map(topicKey));
  return unmet.filter((d) => keys.has(topicKey(d.demand)));
}

function reasonFor(fills: Fill[]): string {
  if (fills.length === 0) return 'Brings nothing your brand lacks.';
  const top = fills.slice(0, 3).map((f) => `${f.capability} (${f.theirs.toFixed(2)} against your ${f.mine.toFixed(2)})`);
  return `Fills your gaps in ${top.join(', ')}.`;
}

/** Brands the caller is not yet allied with, ranked by how much they fill its gaps. */
export class PartnerService {
  constructor(private readonly demands: DemandService) {}

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
    const brands = rows.map((row) => brandFromRow(row));
    const unmet = await this.demands.unmetTopics(ctx, UNMET_DEMAND_DAYS);
    const topics = new Map<string, string[]>();
    if (unmet.length > 0 && brands.length > 0) {
      const published: { brand_id: string; topic: string }[] = await manager.query(`select brand_id, topic from allied_published_topics($1::uuid[])`, [
        brands.map((b) => b.id),
      ]);
      for (const r of published) {
        const list = topics.get(r.brand_id);
        if (list) list.push(r.topic);
        else topics.set(r.brand_id, [r.topic]);
      }
    }
    return brands
      .map((brand) => {
        const { score, fills } = complementarity(own.resources, brand.resources);
        const covered = coveredBy(unmet, topics.get(brand.id) ?? []);
        const reason = covered.length > 0 ? `${reasonFor(fills)} Publishes courses on ${covered.slice(0, 3).map((d) => `${d.demand} (${d.learners} of your learners asked)`).join(', ')}.` : reasonFor(fills);
        return { brand, complementarity: score, unmetDemands: covered.map((d) => d.demand), rank: rankOf(score, unmet, covered), reason };
      })
      .sort((a, b) => b.rank - a.rank || b.complementarity - a.complementarity || a.brand.name.localeCompare(b.brand.name) || a.brand.id.localeCompare(b.brand.id))
      .slice(0, limit);
  }
}
