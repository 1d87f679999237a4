import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import { openDatabase } from '../../src/db/database';

/**
 * On the embedded database, migrates one database before any suite runs and
 * keeps its data directory in a file: each suite's database starts as a copy
 * of it (test/support/database.ts) instead of running initdb and every
 * migration again. The migration step still runs on each copy, and finds
 * nothing to do unless a suite asks for an unmigrated database.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  const database = await openDatabase({ databaseUrl: undefined, databasePoolSize: 1, dataDir: '' }, { embeddedDir: 'memory://' });
  try {
    const archive = Buffer.from(await (await database.dump!()).arrayBuffer());
    const file = path.join(os.tmpdir(), `allied-test-template-${process.pid}.tar`);
    fs.writeFileSync(file, archive);
    process.env.ALLIED_TEST_TEMPLATE = file;
  } finally {
    await database.close();
  }
}
