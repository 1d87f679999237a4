import type pg from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { beginWith, coalesceWrites, commitWith, type Statement } from '../db/pipeline';
import { APP_ROLE } from '../db/data-source';
import type { BrandEntity } from '../entities';
import { brandFromRow } from '../entities/rows';
import { AlliedError, unauthenticated } from '../errors';
import type { Admission } from '../limits/admission';

/** What a transaction may see: one brand's rows, or none (platform admin). */
export interface TenantScope {
  brandId: string | null;
  platformAdmin: boolean;
  /** Whose share of the pool this transaction counts against; the brand by default. */
  admissionKey?: string;
}

/** What the statement that opens a transaction reads: the tenant's own brand and its ACTIVE alliances. */
interface Opening {
  ownBrand: BrandEntity | null;
  alliances: string[];
}

/**
 * One database transaction running as the application role with the tenant
 * set transaction-locally, so nothing survives onto the pooled connection.
 *
 * On a pipelining connection the transaction is handed out as soon as its
 * opening statement is sent: the operation's first statements follow it in
 * the same round trip (PostgreSQL runs them in order, after the tenant is
 * set). If the opening statement fails, so does every statement after it,
 * with the opening's error, and the transaction never commits.
 */
export class TenantTransaction {
  private constructor(
    private readonly runner: QueryRunner,
    private opening: Promise<Opening>,
  ) {}

  /** Opens a transaction for `scope`; under `admission`, it first waits for the scope's share of the pool. */
  static async open(dataSource: DataSource, scope: TenantScope, admission?: Admission): Promise<TenantTransaction> {
    const release = admission ? await admission.acquire(scope.admissionKey ?? scope.brandId ?? 'platform') : () => undefined;
    let runner: QueryRunner;
    try {
      runner = dataSource.createQueryRunner();
      await runner.connect();
    } catch (error) {
      release();
      throw error;
    }
    releaseAfter(runner, release);
    let opened: Promise<Opening> = Promise.resolve({ ownBrand: null, alliances: [] });
    const pipelined = serializeQueries(runner, admission ? Date.now() + admission.options.operationTimeoutMs : Number.POSITIVE_INFINITY, () => opened);
    // With BEGIN: drop to the role that owns nothing and has no BYPASSRLS,
    // set the tenant, read the credential's brand (which must still exist;
    // most operations show it, e.g. as a course's owner) and the alliances
    // it is an ACTIVE member of (catalog queries need them). The alliance
    // subquery is correlated to the settings row so it runs after them.
    opened = beginWith(
      runner,
      `with settings as (
         select set_config('role', $1, true) as role,
                set_config('app.tenant_id', $2, true) as tenant,
                set_config('app.platform_admin', $3, true) as admin,
                set_config('statement_timeout', coalesce($4, current_setting('statement_timeout')), true) as timeout)
       select b.id as brand_id, b.slug as brand_slug, b.name as brand_name, b.kind as brand_kind,
              b.description as brand_description, b.resources as brand_resources,
              b.created_at as brand_created_at, b.updated_at as brand_updated_at,
              case when s.tenant = '' then '{}'::uuid[]
                   else array(select allied_active_alliances()) end as alliances
       from settings s left join brands b on b.id = nullif(s.tenant, '')::uuid`,
      [APP_ROLE, scope.brandId ?? '', scope.platformAdmin ? 'on' : 'off', admission ? `${admission.options.statementTimeoutMs}ms` : null],
    ).then(([row]) => {
      if (scope.brandId && !row.brand_id) throw unauthenticated("The credential's brand does not exist.");
      return { ownBrand: row.brand_id ? brandFromRow(row, 'brand_') : null, alliances: row.alliances };
    });
    const tx = new TenantTransaction(runner, opened);
    if (pipelined) {
      // Whoever uses the transaction sees a failure (its statements, ownBrand, commit); this only keeps it handled.
      opened.catch(() => undefined);
      return tx;
    }
    try {
      await opened;
      return tx;
    } catch (error) {
      await TenantTransaction.abandon(runner);
      throw error;
    }
  }

  /** The tenant's own brand, read by the statement that opened the transaction. */
  async ownBrand(): Promise<BrandEntity | null> {
    return (await this.opening).ownBrand;
  }

  /**
   * Alliances the tenant is an ACTIVE member of, as of the transaction's
   * start; refreshed by `refreshMembership` after a change in this transaction.
   */
  async activeAlliances(): Promise<string[]> {
    return (await this.opening).alliances;
  }

  async refreshMembership(): Promise<void> {
    const [row] = await this.runner.query(`select array(select allied_active_alliances()) as alliances`);
    const { ownBrand } = await this.opening;
    this.opening = Promise.resolve({ ownBrand, alliances: row.alliances });
  }

  get manager(): EntityManager {
    return this.runner.manager;
  }

  /** Commits, running `last` (change signals' NOTIFY) just before COMMIT in the same round trip. */
  async commit(last: readonly Statement[] = []): Promise<void> {
    try {
      await this.opening;
    } catch (error) {
      await this.rollback();
      throw error;
    }
    try {
      await commitWith(this.runner, last);
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

/** Gives the admission slot back when the connection goes back to the pool. */
function releaseAfter(runner: QueryRunner, release: () => void): void {
  const original = runner.release.bind(runner);
  runner.release = (async (...args: Parameters<QueryRunner['release']>) => {
    try {
      return await original(...args);
    } finally {
      release();
    }
  }) as QueryRunner['release'];
}

/**
 * Field resolvers of one operation run concurrently but share its one
 * connection. On a pipelining connection (createDataSource's) their
 * statements go out at once and PostgreSQL answers them in order, so
 * statements issued together cost one round trip, and a statement that fails
 * after a failed opening statement fails with the opening's error; otherwise
 * they queue here rather than inside the driver (which deprecates queueing on
 * a busy client). No statement starts after the operation's deadline.
 * Returns whether the connection pipelines.
 */
function serializeQueries(runner: QueryRunner, deadline: number, opening: () => Promise<unknown>): boolean {
  const query = runner.query.bind(runner);
  const client = (runner as unknown as { databaseConnection?: pg.PoolClient }).databaseConnection;
  const checked = (...args: Parameters<QueryRunner['query']>) => {
    if (Date.now() > deadline && runner.isTransactionActive && !/^\s*(commit|rollback)/i.test(String(args[0]))) {
      throw new AlliedError('QUERY_TOO_COMPLEX', 'The operation ran past its time limit; ask for less at once.', {
        limit: 'ALLIED_OPERATION_TIMEOUT_MS',
      });
    }
    return query(...args);
  };
  if (client?.pipeline) {
    runner.query = (async (...args: Parameters<QueryRunner['query']>) => {
      coalesceWrites(client);
      try {
        return await checked(...args);
      } catch (error) {
        await opening();
        throw error;
      }
    }) as QueryRunner['query'];
    return true;
  }
  let tail: Promise<unknown> = Promise.resolve();
  runner.query = ((...args: Parameters<QueryRunner['query']>) => {
    const run = tail.then(() => checked(...args));
    tail = run.catch(() => undefined);
    return run;
  }) as QueryRunner['query'];
  return false;
}
