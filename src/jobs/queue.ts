import type { RequestContext } from '../tenancy/context';
import { enqueue, enqueueMany, type EnqueueSpec, type Job } from './job';

/**
 * How services enqueue later work: in the operation's own transaction (a
 * rolled-back change never runs its jobs), waking this instance's runner
 * once the transaction has committed, so the job starts at once instead of
 * at the next poll. Other instances find it at their next poll.
 */
export class JobQueue {
  private wake: () => void = () => undefined;

  /** The runner to wake after commits (the composition root builds it after the services whose handlers it runs). */
  attach(runner: { wake(): void }): void {
    this.wake = () => runner.wake();
  }

  /** Enqueues for the context's brand (FORBIDDEN for a caller without one, such as a platform admin). */
  async enqueue(ctx: RequestContext, spec: EnqueueSpec): Promise<Job> {
    void ctx.brandId;
    const job = await enqueue(await ctx.manager(), spec);
    ctx.afterCommit(() => this.wake());
    return job;
  }

  /** Many jobs of one kind in one statement (see enqueueMany); returns how many were new. */
  async enqueueMany(ctx: RequestContext, kind: string, jobs: readonly { payload: unknown; idempotencyKey: string; runAt: Date }[], maxAttempts?: number): Promise<number> {
    void ctx.brandId;
    const written = await enqueueMany(await ctx.manager(), kind, jobs, maxAttempts);
    if (written > 0) ctx.afterCommit(() => this.wake());
    return written;
  }
}
