import { Router } from 'express';
import type { App } from '../app';
import { Role } from '../tenancy/roles';
import { brandPrincipal, isRefusal, sendError, sendRefusal, type LoggedRequest, type PendingWork } from './respond';

/** An NDJSON event line: 4000 characters of feedback text fit many times over. */
const MAX_NDJSON_LINE_BYTES = 64 * 1024;

/**
 * POST /ingest: events as NDJSON, stored in batches as the body streams in
 * (IngestService). Uploads in progress are tracked so shutdown waits for
 * them before the database closes.
 */
export function ingestRoute(app: App, uploads: PendingWork): Router {
  const router = Router();
  router.post('/ingest', async (req, res, next) => {
    try {
      if (!/^application\/(x-)?ndjson\b/i.test(req.headers['content-type'] ?? '')) {
        return sendError(res, 415, 'BAD_USER_INPUT', 'Send one JSON event per line with Content-Type: application/x-ndjson.');
      }
      const principal = await brandPrincipal(
        app.authenticator,
        app.guard,
        req,
        res,
        Role.INGEST,
        'Ingesting events needs a brand credential with INGEST, EDITOR, ADMIN or OWNER.',
      );
      if (!principal) return;
      const work = app.services.ingest.ingest(principal, (req as LoggedRequest).log, req, MAX_NDJSON_LINE_BYTES);
      uploads.track(work);
      const summary = await work;
      if (!res.destroyed) res.json(summary);
    } catch (error) {
      // A refusal (the database busy: 503 with Retry-After) is the client's to retry, never a server fault.
      if (isRefusal(error) && !res.headersSent) return sendRefusal(res, error);
      next(error);
    }
  });
  return router;
}
