import { Router, type Response } from 'express';
import type { App } from '../app';
import type { TrackingAction } from '../mail/tokens';
import { Principal } from '../tenancy/principal';
import { Role } from '../tenancy/roles';
import { brandPrincipal, sendError, type LoggedRequest } from './respond';

/** A transparent 1×1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function page(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .type('text/html; charset=utf-8')
    .set('cache-control', 'no-store')
    .set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .set('referrer-policy', 'no-referrer')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title>` +
        `<style>body{font:16px/1.5 sans-serif;max-width:32em;margin:4em auto;padding:0 1em}button{font:inherit;padding:.5em 1em}</style></head>` +
        `<body><h1>${title}</h1>${body}</body></html>`,
    );
}

const INVALID = 'This link is not valid, or it has expired.';

/**
 * What learners reach from an email: the open pixel (`/t/o/<token>.gif`),
 * click-through links (`/t/c/<token>`), and unsubscribing (`/u/<token>`: a
 * page with one button on GET, and RFC 8058 one-click POST). A forged,
 * altered or expired token does nothing and gets the same answer as any
 * other bad one. And `/outbox`, where messages go when no SMTP_URL is set.
 */
export function mailRoutes(app: App): Router {
  const router = Router();
  const { tokens } = app.services.delivery;
  const verify = (token: string, action: TrackingAction) => tokens.verify(token, action);
  const asBrand = <T>(req: LoggedRequest, brandId: string, work: Parameters<App['runAs']>[1]) =>
    app.runAs(Principal.system(brandId, 'email tracking'), work as never, { requestId: req.id, log: req.log }) as Promise<T>;

  router.get('/t/o/:file', async (req, res) => {
    const token = String(req.params.file).replace(/\.gif$/, '');
    const claims = verify(token, 'open');
    if (claims) {
      try {
        await asBrand(req as unknown as LoggedRequest, claims.brandId, (ctx) => app.services.delivery.opened(ctx, claims.messageId));
      } catch (error) {
        (req as unknown as LoggedRequest).log.error({ err: error }, 'recording an email open failed');
      }
    }
    res.status(200).type('image/gif').set('cache-control', 'no-store, private').send(PIXEL);
  });

  router.get('/t/c/:token', async (req, res) => {
    const claims = verify(String(req.params.token), 'click');
    if (!claims?.url || !/^https?:\/\//i.test(claims.url)) return page(res, 404, 'Link not valid', `<p>${INVALID}</p>`);
    try {
      await asBrand(req as unknown as LoggedRequest, claims.brandId, (ctx) => app.services.delivery.clicked(ctx, claims.messageId, claims.url!));
    } catch (error) {
      // The learner still gets where the link goes; only the count is lost.
      (req as unknown as LoggedRequest).log.error({ err: error }, 'recording an email click failed');
    }
    res.set('cache-control', 'no-store').set('referrer-policy', 'no-referrer').redirect(302, claims.url);
  });

  router.get('/u/:token', (req, res) => {
    if (!verify(String(req.params.token), 'unsubscribe')) return page(res, 404, 'Link not valid', `<p>${INVALID}</p>`);
    // A page with a button, not an unsubscribe on GET: mail scanners follow links, and must not unsubscribe anyone.
    page(res, 200, 'Unsubscribe', `<p>Stop all email from this sender?</p><form method="post"><button type="submit">Unsubscribe</button></form>`);
  });

  router.post('/u/:token', async (req, res) => {
    const claims = verify(String(req.params.token), 'unsubscribe');
    if (!claims) return page(res, 404, 'Link not valid', `<p>${INVALID}</p>`);
    try {
      await asBrand(req as unknown as LoggedRequest, claims.brandId, (ctx) => app.services.delivery.unsubscribed(ctx, claims.messageId));
    } catch (error) {
      (req as unknown as LoggedRequest).log.error({ err: error }, 'unsubscribing failed');
      return page(res, 503, 'Please try again', '<p>We could not record that just now. Please try again in a minute.</p>');
    }
    page(res, 200, 'Unsubscribed', '<p>You will receive no more email from this sender.</p>');
  });

  router.get('/outbox', async (req, res, next) => {
    try {
      if (app.services.delivery.mailerKind !== 'outbox') return sendError(res, 404, 'NOT_FOUND', 'Mail goes to the SMTP server (SMTP_URL); there is no outbox.');
      const principal = await brandPrincipal(app.authenticator, app.guard, req, res, Role.EDITOR, 'The outbox holds addresses: EDITOR, ADMIN or OWNER of the brand.');
      if (!principal) return;
      const { log, id: requestId } = req as unknown as LoggedRequest;
      const messages = await app.runAs(principal, (ctx) => app.services.delivery.outbox(ctx, String(req.query.message ?? '') || null), { requestId, log });
      if (req.query.message && messages.length === 0) return sendError(res, 404, 'NOT_FOUND', 'Message not found in the outbox.');
      res.status(200).set('cache-control', 'no-store').json({ messages });
    } catch (error) {
      next(error);
    }
  });
  return router;
}
