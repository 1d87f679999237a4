import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { packageRoot } from '../package-root';

// The page talks only to this server: its scripts, its GraphQL endpoint over HTTP and WebSocket.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * GET /dashboard: the live dashboard (public/dashboard), and the graphql-ws
 * browser client it uses, from the installed package. Static files; the
 * page signs in with a credential the user pastes.
 */
export function dashboard(): Router {
  const router = express.Router();
  const headers = (res: express.Response) => {
    res.set('content-security-policy', CSP);
    res.set('x-content-type-options', 'nosniff');
    res.set('referrer-policy', 'no-referrer');
  };
  const client = path.join(path.dirname(require.resolve('graphql-ws')), '..', 'umd', 'graphql-ws.min.js');
  router.get('/dashboard/graphql-ws.js', (_req, res) => {
    headers(res);
    res.type('application/javascript').sendFile(client);
  });
  router.get('/dashboard', (req, res, next) => {
    // /dashboard and /dashboard/ both serve the page; its assets are linked absolutely.
    if (req.path !== '/dashboard' && req.path !== '/dashboard/') return next();
    headers(res);
    res.sendFile(path.join(packageRoot(), 'public', 'dashboard', 'index.html'));
  });
  router.use('/dashboard', express.static(path.join(packageRoot(), 'public', 'dashboard'), { index: 'index.html', setHeaders: headers }));
  return router;
}
