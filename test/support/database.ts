import crypto from 'node:crypto';
import fs from 'node:fs';
import { Client } from 'pg';
import { openDatabase, type Database } from '../../src/db/database';

/** The database a suite runs on: a real PostgreSQL when TEST_DATABASE_URL is set, else embedded PGlite. */
export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

/**
 * A fresh database for one suite: a new database on the TEST_DATABASE_URL
 * server (dropped on close), or an in-memory PGlite (a copy of the migrated
 * one global-setup.ts made, unless the suite asks for no migrations).
 */
export async function openTestDatabase(options: { runMigrations?: boolean } = {}): Promise<Database & { url?: string }> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const template = process.env.ALLIED_TEST_TEMPLATE;
    const embeddedTemplate = template && options.runMigrations !== false ? new Blob([fs.readFileSync(template)]) : undefined;
    return openDatabase({ databaseUrl: undefined, databasePoolSize: 1, dataDir: '' }, { embeddedDir: 'memory://', embeddedTemplate, ...options });
  }
  const name = `allied_test_${crypto.randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), databasePoolSize: 10, dataDir: '' }, options);
  return {
    ...database,
    url: url.toString(),
    async close() {
      await database.close();
      await withAdmin(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withAdmin<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
