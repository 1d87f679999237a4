import fs from 'node:fs';
import path from 'node:path';

/** A PGlite database served on a loopback socket, reached with the normal `pg` driver. */
export interface EmbeddedDatabase {
  url: string;
  /** The whole data directory as one tar archive (what `loadDataDir` starts a copy from). */
  dump(): Promise<Blob>;
  stop(): Promise<void>;
}

/**
 * Opens PGlite at `dir` (a folder, created if absent, or `memory://` for a
 * throwaway database) and serves it on 127.0.0.1 on a free port. With
 * `loadDataDir` (a data directory as PGlite's `dumpDataDir` writes it), a
 * new database starts as a copy of that one.
 *
 * PGlite is one Postgres session. The socket server queues clients and keeps a
 * transaction's statements together, but session state is shared: the
 * application therefore runs every statement inside a transaction and uses
 * only transaction-local settings.
 */
export async function startEmbeddedDatabase(dir: string, options: { loadDataDir?: Blob } = {}): Promise<EmbeddedDatabase> {
  // Both packages load their WASM through dynamic import; import them lazily so
  // a PostgreSQL deployment never pays for them.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dataDir = dir === 'memory://' ? dir : path.resolve(dir);
  if (dataDir !== 'memory://') fs.mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  return {
    url: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
    dump: () => db.dumpDataDir('none'),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
