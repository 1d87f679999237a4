import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../src/db/data-source';
import { applySqlFunctions, loadSqlFunctions, SQL_FUNCTIONS_DIR } from '../../src/db/sql-functions';
import { openTestDatabase } from '../support/database';

type Db = Awaited<ReturnType<typeof openTestDatabase>>;

/** What a re-applied function must keep: every attribute but its body. */
const ATTRIBUTES = `
  select p.oid::regprocedure::text as signature, p.prosecdef, p.proconfig, p.provolatile, p.proparallel, (select l.lanname from pg_language l where l.oid = p.prolang) as language,
         pg_get_userbyid(p.proowner) as owner, p.proacl::text[] as acl, pg_get_function_result(p.oid) as result
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'public' and p.proname like 'allied\\_%'
  order by 1`;

describe('SQL functions as files', () => {
  let db: Db;
  /** The functions as the versioned migrations alone left them. */
  let migrated: Record<string, unknown>[];

  beforeAll(async () => {
    db = await openTestDatabase({ runMigrations: false });
    await db.dataSource.runMigrations({ transaction: 'all' });
    migrated = await db.dataSource.query(ATTRIBUTES);
    const applied = await migrate(db.dataSource, { lock: db.kind === 'postgres' });
    // No versioned migration was pending, and every file was new.
    expect(applied.sort()).toEqual(loadSqlFunctions().map((f) => f.name).sort());
  });
  afterAll(async () => {
    await db?.close();
  });

  it('keeps owner, grants, SECURITY DEFINER, SET, volatility and parallel safety of every function the migrations made', async () => {
    const now = new Map<string, Record<string, unknown>>((await db.dataSource.query(ATTRIBUTES)).map((r: { signature: string }) => [r.signature, r]));
    expect(migrated.length).toBeGreaterThan(15);
    for (const before of migrated) expect(now.get(before.signature as string)).toEqual(before);
    // The one function the migrations never made is the one a file adds, with no grant to the application.
    const added = [...now.values()].filter((r) => !migrated.some((m) => m.signature === r.signature));
    expect(added.map((r) => [r.signature, r.acl])).toEqual([
      ['allied_attributed_revenue(uuid,uuid,uuid,timestamp with time zone,timestamp with time zone)', ['postgres=X/postgres']],
    ]);
  });

  it('has a file for every allied_ function and a function for every file, running the body the file holds', async () => {
    const rows: { proname: string; prosrc: string }[] = await db.dataSource.query(
      `select p.proname, p.prosrc from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.proname like 'allied\\_%' order by 1`,
    );
    const files = loadSqlFunctions();
    expect(rows.map((r) => r.proname)).toEqual(files.map((f) => f.name).sort());
    const byName = new Map(files.map((f) => [f.name, f]));
    for (const r of rows) expect(r.prosrc).toBe(byName.get(r.proname)!.body);
  });

  it('applies a file again only when its checksum changes, and records what it applied', async () => {
    expect(await migrate(db.dataSource, { lock: db.kind === 'postgres' })).toEqual([]);
    const before = await db.dataSource.query(ATTRIBUTES);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-sql-'));
    try {
      for (const f of fs.readdirSync(SQL_FUNCTIONS_DIR)) fs.copyFileSync(path.join(SQL_FUNCTIONS_DIR, f), path.join(dir, f));
      const file = path.join(dir, 'allied_is_platform_admin.sql');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(`= 'on'`, `= 'on' /* changed */`));
      const runner = db.dataSource.createQueryRunner();
      try {
        await runner.startTransaction();
        expect(await applySqlFunctions(runner, dir)).toEqual(['allied_is_platform_admin']);
        const [{ prosrc }] = await runner.query(`select prosrc from pg_proc where proname = 'allied_is_platform_admin'`);
        expect(prosrc).toContain('/* changed */');
        expect(await applySqlFunctions(runner, dir)).toEqual([]);
        // The repository's file again: applied back, and the attributes are those of before.
        expect(await applySqlFunctions(runner)).toEqual(['allied_is_platform_admin']);
        await runner.commitTransaction();
      } finally {
        await runner.release();
      }
      expect(await db.dataSource.query(ATTRIBUTES)).toEqual(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that does not define the function it is named after', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-sql-'));
    try {
      fs.writeFileSync(path.join(dir, 'allied_x.sql'), `create or replace function allied_y() returns int language sql as $$ select 1 $$;`);
      expect(() => loadSqlFunctions(dir)).toThrow(/exactly one "create or replace function allied_x/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
