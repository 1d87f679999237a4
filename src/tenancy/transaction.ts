import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../db/data-source';
import { unauthenticated } from '../errors';

/** What a transaction may see: one brand's rows, or none (platform admin). */
export interface TenantScope {
  brandId: string | null;
  platformAdmin: boolean;
}

/**
 * One database transaction running as the application role with the tenant
 * set transaction-locally, so nothing survives onto the pooled connection.
 */
export class TenantTransaction {
  private constructor(private readonly runner: QueryRunner) {}

  static async open(dataSource: DataSource, scope: TenantScope): Promise<TenantTransaction> {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    serializeQueries(runner);
    try {
      await runner.startTransaction();
      // One round trip: drop to the role that owns nothing and has no BYPASSRLS,
      // set the tenant, and confirm the credential's brand still exists.
      const [row] = await runner.query(
        `select set_config('role', $1, true) as role,
                set_config('app.tenant_id', $2, true) as tenant,
                set_config('app.platform_admin', $3, true) as admin,
                ($2 = '' or exists (select 1 from brands where id = nullif($2, '')::uuid)) as brand_exists`,
        [APP_ROLE, scope.brandId ?? '', scope.platformAdmin ? 'on' : 'off'],
      );
      if (!row.brand_exists) throw unauthenticated("The credential's brand does not exist.");
      return new TenantTransaction(runner);
    } catch (error) {
      await TenantTransaction.abandon(runner);
      throw error;
    }
  }

  get manager(): EntityManager {
    return this.runner.manager;
  }

  async commit(): Promise<void> {
    try {
      await this.runner.commitTransaction();
    } finally {
      await this.runner.release();
    }
  }

  async rollback(): Promise<void> {
    await TenantTransaction.abandon(this.runner);
  }

  private static async abandon(runner: QueryRunner): Promise<void> {
    try {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
  }
}

/**
 * Field resolvers of one operation run concurrently but share its one
 * connection; queue their statements here rather than inside the driver
 * (which deprecates queueing on a busy client).
 */
function serializeQueries(runner: QueryRunner): void {
  const query = runner.query.bind(runner);
  let tail: Promise<unknown> = Promise.resolve();
  runner.query = ((...args: Parameters<QueryRunner['query']>) => {
    const run = tail.then(() => query(...args));
    tail = run.catch(() => undefined);
    return run;
  }) as QueryRunner['query'];
}

/** Runs `fn` in its own tenant transaction: committed if it returns, rolled back if it throws. */
export async function inTenantTransaction<T>(
  dataSource: DataSource,
  scope: TenantScope,
  fn: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  const tx = await TenantTransaction.open(dataSource, scope);
  let result: T;
  try {
    result = await fn(tx.manager);
  } catch (error) {
    await tx.rollback();
    throw error;
  }
  await tx.commit();
  return result;
}
