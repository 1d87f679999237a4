import type { TenantScope } from '../tenant';
import { TtlCache } from '../ttl-cache';

/** A course's recency-weighted popularity among the brand's learners. */
export interface Popular {
  courseId: string;
  /** 0..1: the most popular course is 1. */
  score: number;
  /** Had interactions in the last seven days. */
  thisWeek: boolean;
}

/** Popularity is a statistic of many events: one computation serves the brand for this long. */
const TTL_MS = 60_000;
/** Interactions older than this do not count; within it, weight halves every HALF_LIFE_DAYS. */
const HORIZON_DAYS = 365;
const HALF_LIFE_DAYS = 7;
/** Courses kept per brand. */
const KEEP = 500;

/**
 * The fallback ranking for learners and brands the model knows too little
 * about: courses by the brand's learners' interactions, weighted by type
 * (a purchase counts five views) and halving every week. Cached per brand;
 * what is shown from it is still checked against the catalog as it is now.
 */
export class PopularityIndex {
  private readonly byBrand: TtlCache<Popular[]>;

  constructor(maxBrands = 10_000) {
    this.byBrand = new TtlCache(TTL_MS, maxBrands);
  }

  list(ctx: TenantScope): Promise<Popular[]> {
    return this.byBrand.get(ctx.brandId, () => compute(ctx));
  }
}

async function compute(ctx: TenantScope): Promise<Popular[]> {
  const rows: { course_id: string; score: number; week: boolean }[] = await (await ctx.manager()).query(
    `select e.course_id,
            sum(case e.type when 'PURCHASE' then 5 when 'ENROLL' then 3 when 'COMPLETE' then 4 when 'RATING' then 2 else 1 end
                * power(0.5, extract(epoch from (now() - e.occurred_at)) / ($3 * 86400.0)))::float8 as score,
            bool_or(e.occurred_at > now() - interval '7 days') as week
     from events e
     where e.tenant_id = $1 and e.course_id is not null
       and e.type in ('VIEW', 'CLICK', 'ENROLL', 'PURCHASE', 'COMPLETE', 'RATING')
       and e.occurred_at > now() - $2 * interval '1 day'
     group by e.course_id
     order by score desc
     limit $4`,
    [ctx.brandId, HORIZON_DAYS, HALF_LIFE_DAYS, KEEP],
  );
  const top = rows[0]?.score ?? 0;
  return rows.map((r) => ({ courseId: r.course_id, score: top > 0 ? r.score / top : 0, thisWeek: r.week }));
}
