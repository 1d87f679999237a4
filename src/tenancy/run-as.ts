import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Admission } from '../limits/admission';
import type { OperationLimits } from '../limits/budget';
import type { SignalBus } from '../realtime/signal';
import { RequestContext } from './context';
import type { Principal } from './principal';

export interface RunOptions {
  /** The request's id, when the work serves one; a new id otherwise. */
  requestId?: string;
  /** The request's logger; the entry's, with the request id and caller, otherwise. */
  log?: Logger;
  limits?: OperationLimits;
  /** Whose share of the database pool the transaction counts against; the brand by default. */
  admissionKey?: string;
}

/**
 * The one way into a tenant: runs `work` with a fresh context for
 * `principal` (null: an anonymous caller, who reaches no tenant data), in one
 * tenant-scoped transaction opened on first use. The transaction commits
 * when `work` returns (rolls back if it asked to, see
 * `RequestContext.rollbackOnly`), then the context's after-commit hooks run
 * and its signals are published; if `work` throws, it rolls back and nothing
 * is published. A failed commit throws, so the caller never reports a result
 * that was not stored.
 */
export type RunAs = <T>(principal: Principal | null, work: (ctx: RequestContext) => Promise<T>, options?: RunOptions) => Promise<T>;

/** A context for `principal` on one database, signal bus and pool admission: what `runAs` runs work in. */
export type ContextFactory = (principal: Principal | null, options?: RunOptions) => RequestContext;

/** The `runAs` of one database, signal bus and pool admission, and its context factory (built by the composition root). */
export function tenantEntry(
  dataSource: DataSource,
  log: Logger,
  shared: { bus?: SignalBus; admission?: Admission } = {},
): { runAs: RunAs; newContext: ContextFactory } {
  const newContext: ContextFactory = (principal, options = {}) => {
    const requestId = options.requestId ?? crypto.randomUUID();
    return new RequestContext(dataSource, principal, requestId, options.log ?? log.child({ requestId, caller: principal?.subject }), {
      bus: shared.bus,
      limits: options.limits,
      admissionKey: options.admissionKey,
      admission: shared.admission,
    });
  };
  const runAs: RunAs = (principal, work, options) => {
    const ctx = newContext(principal, options);
    return runIn(ctx, () => work(ctx));
  };
  return { runAs, newContext };
}

/**
 * `runAs` for a context that already exists: a WebSocket operation's, built
 * by graphql-ws before the operation runs. Everything else goes through
 * `runAs`. Either way the context is finished for good afterwards.
 */
export async function runIn<T>(ctx: RequestContext, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await ctx.end(false).catch((rollbackError: unknown) => ctx.log.warn({ err: rollbackError }, 'rollback failed'));
    throw error;
  }
  await ctx.end(!ctx.wantsRollback);
  return result;
}
