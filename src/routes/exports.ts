import { Router } from 'express';
import type { App } from '../app';
import { Role } from '../tenancy/roles';
import { brandPrincipal, sendError, type LoggedRequest } from './respond';

/** GET /settlements/<id>.csv: a settlement for BI tools and accounting, readable by whoever may read it through GraphQL. */
export function exportRoutes(app: App): Router {
  const router = Router();
  router.get('/settlements/:file', async (req, res, next) => {
    try {
      const [, id] = /^([0-9a-f-]{36})\.csv$/i.exec(String(req.params.file)) ?? [];
      if (!id) return sendError(res, 404, 'NOT_FOUND', 'Ask for /settlements/<settlement id>.csv.');
      const principal = await brandPrincipal(
        app.authenticator,
        app.guard,
        req,
        res,
        Role.ANALYST,
        'Reading settlements needs a brand credential with ANALYST, EDITOR, ADMIN or OWNER.',
      );
      if (!principal) return;
      const { log, id: requestId } = req as unknown as LoggedRequest;
      const csv = await app.runAs(principal, (ctx) => app.services.settlements.csv(ctx, id.toLowerCase()), { requestId, log });
      if (csv === null) return sendError(res, 404, 'NOT_FOUND', 'Settlement not found.');
      res
        .status(200)
        .type('text/csv; charset=utf-8; header=present')
        .set('content-disposition', `attachment; filename="settlement-${id.toLowerCase()}.csv"`)
        .set('cache-control', 'no-store')
        .send(csv);
    } catch (error) {
      next(error);
    }
  });
  return router;
}
