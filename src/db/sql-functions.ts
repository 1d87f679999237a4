import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { QueryRunner } from 'typeorm';
import { packageRoot } from '../package-root';

/**
 * SQL functions as files: `sql/functions/NAME.sql` holds the one statement
 * that defines function NAME as it is now (`create or replace function NAME(...)`),
 * optionally preceded by a `drop function` of an old signature and followed
 * by grants for a function that is new. Migrations hold tables, policies and
 * history; the files hold the bodies that run.
 *
 * `applySqlFunctions` runs after the versioned migrations, in their
 * transaction: a file whose checksum differs from the one recorded in
 * `allied_sql_functions` (or that has none) is executed and its checksum
 * recorded. `create or replace` keeps a function's owner and grants; its
 * language, volatility, SECURITY DEFINER and SET clauses are whatever the
 * file says, so a file states them exactly as the function has them.
 */

export interface SqlFunctionFile {
  name: string;
  file: string;
  sql: string;
  checksum: string;
  /** The body between the dollar quotes: what `pg_proc.prosrc` holds once applied. */
  body: string;
}

export const SQL_FUNCTIONS_DIR = path.join(packageRoot(), 'sql', 'functions');

/** Every function file, in an order where each comes after the functions it names (SQL bodies are checked when created). */
export function loadSqlFunctions(dir = SQL_FUNCTIONS_DIR): SqlFunctionFile[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const byName = new Map<string, SqlFunctionFile>();
  for (const file of files) {
    const name = file.slice(0, -'.sql'.length);
    const sql = fs.readFileSync(path.join(dir, file), 'utf8');
    const creates = [...sql.matchAll(/create\s+or\s+replace\s+function\s+(?:public\.)?(\w+)\s*\(/gi)].map((m) => m[1]);
    if (creates.length !== 1 || creates[0] !== name) {
      throw new Error(`sql/functions/${file} must hold exactly one "create or replace function ${name}(...)"`);
    }
    const body = /\bas\s+\$\$([\s\S]*?)\$\$/i.exec(sql);
    if (!body) throw new Error(`sql/functions/${file}: the body must be quoted as $$ ... $$`);
    const checksum = crypto.createHash('sha256').update(sql).digest('hex');
    byName.set(name, { name, file, sql, checksum, body: body[1] });
  }
  const ordered: SqlFunctionFile[] = [];
  const visiting = new Set<string>();
  const visit = (fn: SqlFunctionFile) => {
    if (ordered.includes(fn) || visiting.has(fn.name)) return;
    visiting.add(fn.name);
    for (const other of byName.values()) {
      if (other !== fn && new RegExp(`\\b${other.name}\\s*\\(`).test(fn.body)) visit(other);
    }
    ordered.push(fn);
  };
  for (const fn of byName.values()) visit(fn);
  return ordered;
}

/**
 * Applies the function files whose checksum changed, inside the caller's
 * transaction (and lock), and returns their names.
 */
export async function applySqlFunctions(runner: QueryRunner, dir = SQL_FUNCTIONS_DIR): Promise<string[]> {
  const files = loadSqlFunctions(dir);
  const recorded = new Map<string, string>(
    ((await runner.query(`select name, checksum from allied_sql_functions`)) as { name: string; checksum: string }[]).map((r) => [r.name, r.checksum]),
  );
  const applied: string[] = [];
  for (const fn of files) {
    if (recorded.get(fn.name) === fn.checksum) continue;
    try {
      await runner.query(fn.sql);
    } catch (error) {
      throw new Error(`sql/functions/${fn.file}: ${(error as Error).message}`, { cause: error });
    }
    await runner.query(
      `insert into allied_sql_functions (name, checksum) values ($1, $2)
       on conflict (name) do update set checksum = excluded.checksum, applied_at = now()`,
      [fn.name, fn.checksum],
    );
    applied.push(fn.name);
  }
  // A file removed (its function dropped by a migration) is forgotten, so adding it back applies it.
  const names = files.map((f) => f.name);
  await runner.query(`delete from allied_sql_functions where name <> all($1::text[])`, [names]);
  return applied;
}
