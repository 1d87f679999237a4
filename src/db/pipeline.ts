import type pg from 'pg';
import type { QueryRunner } from 'typeorm';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  parameters: unknown[];
}

type Runner = PostgresQueryRunner & { transactionDepth: number };

const CORKED = Symbol('allied.corked');
type Corkable = pg.PoolClient & { connection?: { stream?: { cork?(): void; uncork?(): void } }; [CORKED]?: boolean };

/**
 * Holds a pipelining connection's writes until the statements issued in this
 * turn of the event loop (promise continuations included) have all been
 * queued, then sends them in one write: each write to the database's socket
 * is a system call and a wake-up on both sides, the largest cost of a short
 * statement. No effect on a connection that does not pipeline.
 */
export function coalesceWrites(client: pg.PoolClient): void {
  const c = client as Corkable;
  const stream = c.connection?.stream;
  if (!c.pipeline || c[CORKED] || !stream?.cork || !stream.uncork) return;
  c[CORKED] = true;
  stream.cork();
  setImmediate(() => {
    c[CORKED] = false;
    stream.uncork!();
  });
}

/**
 * Opens `runner`'s transaction and runs `sql` as its first statement, in one
 * round trip where the connection pipelines (createDataSource turns the
 * driver's pipeline mode on): BEGIN and the statement go out together and
 * PostgreSQL runs them in order. Returns the statement's rows.
 *
 * The runner must be connected. It is then as `startTransaction` leaves it,
 * so its commit and rollback work as usual. On a pipelining connection both
 * statements are sent before this returns, so statements the caller issues
 * next follow them. If the statement fails, the transaction is open (and
 * aborted) until the caller rolls it back.
 */
export function beginWith(runner: QueryRunner, sql: string, parameters: unknown[]): Promise<any[]> {
  const postgres = runner as Runner;
  const client = (runner as unknown as { databaseConnection?: pg.PoolClient }).databaseConnection;
  if (!client) return Promise.reject(new Error('beginWith needs a connected query runner'));
  postgres.isTransactionActive = true;
  postgres.transactionDepth = 1;
  if (!client.pipeline) return client.query('begin').then(() => client.query(sql, parameters)).then((r) => r.rows);
  // Both are on their way before this returns: whatever the caller issues next follows them.
  coalesceWrites(client);
  return Promise.all([client.query('begin'), client.query(sql, parameters)]).then(([, first]) => first.rows);
}

/**
 * Runs `statements` as the last of `runner`'s transaction and commits it, in
 * one round trip where the connection pipelines. The statements go out before
 * COMMIT, in order; if one fails, PostgreSQL answers COMMIT with a rollback and
 * this throws that statement's error. The runner is then as
 * `commitTransaction` leaves it.
 */
export async function commitWith(runner: QueryRunner, statements: readonly Statement[]): Promise<void> {
  if (statements.length === 0) return runner.commitTransaction();
  const postgres = runner as Runner;
  const client = (await postgres.connect()) as pg.PoolClient;
  try {
    if (!client.pipeline) {
      try {
        for (const s of statements) await client.query(s.sql, s.parameters);
      } catch (error) {
        await client.query('rollback');
        throw error;
      }
      await client.query('commit');
    } else {
      coalesceWrites(client);
      const sent = [...statements.map((s) => client.query(s.sql, s.parameters)), client.query('commit')];
      await Promise.all(sent);
    }
  } finally {
    postgres.isTransactionActive = false;
    postgres.transactionDepth = 0;
  }
}
