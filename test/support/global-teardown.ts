import fs from 'node:fs';

/** Removes the migrated template database that global-setup.ts wrote. */
export default async function globalTeardown(): Promise<void> {
  const file = process.env.ALLIED_TEST_TEMPLATE;
  if (file) fs.rmSync(file, { force: true });
}
