'use strict';
// A worker instance for jobs-kill.e2e.ts, from the build in dist/: it opens
// the database (JOB_DATABASE_URL, or the embedded one in JOB_DATA_DIR),
// runs `test.effect` jobs whose handler writes its effect row, says so on
// stdout and then never returns, so the test can kill it mid-job.
const { openDatabase } = require('../../dist/src/db/database');
const { JobRunner } = require('../../dist/src/jobs/runner');
const { tenantEntry } = require('../../dist/src/tenancy/run-as');
const { createLogger } = require('../../dist/src/logger');

(async () => {
  const db = await openDatabase(
    { databaseUrl: process.env.JOB_DATABASE_URL || undefined, databasePoolSize: 2, dataDir: '' },
    { embeddedDir: process.env.JOB_DATA_DIR },
  );
  const handlers = {
    'test.effect': async (job, ctx) => {
      await (await ctx.manager()).query(`insert into job_effects (tenant_id, job_id, runner) values ($1, $2, 'killed')`, [job.brandId, job.id]);
      process.stdout.write(`EFFECT_WRITTEN ${job.id}\n`);
      await new Promise(() => undefined);
    },
  };
  const log = createLogger('warn');
  const runner = new JobRunner(db.dataSource, log, handlers, {
    runAs: tenantEntry(db.dataSource, log).runAs,
    leaseMs: Number(process.env.JOB_LEASE_MS),
    pollIntervalMs: 50,
  });
  runner.start();
  process.stdout.write('RUNNER_STARTED\n');
})().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
