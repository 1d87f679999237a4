import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { EnqueueSpec } from '../jobs/job';
import type { Signal } from '../realtime/signal';
import type { Principal } from '../tenancy/principal';

/**
 * What the model layer needs of a tenant transaction: the brand, its
 * manager (under the brand's row-level security), and signals after commit.
 * The request context (src/tenancy/context.ts) is one; the layer names only
 * this, so it depends on nothing above it.
 */
export interface TenantScope {
  readonly brandId: string;
  readonly caller: { readonly subject: string };
  manager(): Promise<EntityManager>;
  changed(signals: Signal[]): void;
  afterCommit(hook: () => void): void;
}

/** The application's one way into a tenant (src/tenancy/run-as.ts), as the layer calls it. */
export type RunInTenant = <T>(principal: Principal, work: (scope: TenantScope) => Promise<T>, options?: { log?: Logger }) => Promise<T>;

/** Where the layer enqueues later work (src/jobs/queue.ts). */
export interface EnqueueJobs {
  enqueue(scope: TenantScope, spec: EnqueueSpec): Promise<unknown>;
}

/** A claimed job as the layer's handlers read it (src/jobs/runner.ts). */
export interface JobOfBrand {
  brandId: string;
  payload: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
