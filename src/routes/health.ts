import { Router } from 'express';
import type { Database } from '../db/database';
import type { LoggedRequest } from './respond';

/** GET /healthz (the process answers) and GET /readyz (the database answers and is migrated). Never rate-limited. */
export function healthRoutes(database: Database): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    const ready = await readiness(database).catch((error: unknown) => {
      (req as LoggedRequest).log.warn({ err: error }, 'readiness check failed');
      return 'database unreachable';
    });
    if (ready === true) res.json({ status: 'ready', database: database.kind });
    else res.status(503).json({ status: 'unavailable', reason: ready });
  });
  return router;
}

async function readiness(database: Database): Promise<true | string> {
  await database.dataSource.query('select 1');
  const pending = await database.dataSource.showMigrations();
  return pending ? 'migrations pending' : true;
}
