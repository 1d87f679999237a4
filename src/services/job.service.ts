import { JOB_COLUMNS, jobFromRow, type Job, type JobState } from '../jobs/job';
import type { RequestContext } from '../tenancy/context';
import { newestFirst, paginate, type Page, type PageArgs } from './pagination';

/** The caller's brand's jobs; another brand's are never visible (RLS and the tenant filter). */
export class JobService {
  /** Newest first, optionally in one state. */
  async list(ctx: RequestContext, args: PageArgs & { state?: JobState | null }): Promise<Page<Job>> {
    const params: unknown[] = [ctx.brandId];
    const where = ['j.tenant_id = $1'];
    if (args.state != null) {
      params.push(args.state);
      where.push(`j.state = $${params.length}`);
    }
    return paginate(
      await ctx.manager(),
      { list: 'jobs', select: JOB_COLUMNS, from: 'jobs j', where, params, ...newestFirst('j'), map: jobFromRow },
      args,
    );
  }
}
