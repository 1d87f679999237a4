import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { CHANNEL, decodeSignals, payloads, type Signal, type SignalBus, type SignalListener } from './signal';

/** One process, one database (the embedded one): signals stay in memory. */
export class InProcessBus implements SignalBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(signals: Signal[]): void {
    if (signals.length === 0) return;
    setImmediate(() => this.emitter.emit('signals', signals));
  }

  listen(listener: SignalListener): () => void {
    this.emitter.on('signals', listener);
    return () => this.emitter.off('signals', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/**
 * Several instances on one PostgreSQL: NOTIFY on publish (this instance hears
 * its own through LISTEN like everyone else's), one LISTEN connection per
 * instance. A lost LISTEN connection is re-opened with backoff; once it is
 * back, listeners get `resync`, since signals sent meanwhile were missed.
 */
export class PostgresBus implements SignalBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private attempt = 0;

  constructor(
    private readonly url: string,
    private readonly dataSource: DataSource,
    private readonly log: Logger,
  ) {}

  /** Resolves once the first LISTEN is in place. */
  async start(): Promise<void> {
    await this.connect(false);
  }

  /** One NOTIFY per payload, for the publishing transaction to run before its COMMIT (RequestContext.finish). */
  statements(signals: Signal[]): { sql: string; parameters: unknown[] }[] {
    return payloads(signals).map((payload) => ({ sql: 'select pg_notify($1, $2)', parameters: [CHANNEL, payload] }));
  }

  /** Signals raised outside a transaction (a training worker's progress), each NOTIFY on a pool connection. */
  publish(signals: Signal[]): void {
    for (const { sql, parameters } of this.statements(signals)) {
      this.dataSource.query(sql, parameters).catch((error: unknown) => {
        this.log.warn({ err: error }, 'could not send a change signal; subscribers catch up on the next change or refresh');
      });
    }
  }

  listen(listener: SignalListener): () => void {
    this.emitter.on('signals', listener);
    return () => this.emitter.off('signals', listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.emitter.removeAllListeners();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** The backend pid of the LISTEN connection (tests end it to check recovery). */
  get listenerPid(): number | null {
    return (this.client as unknown as { processID?: number } | null)?.processID ?? null;
  }

  private async connect(reconnecting: boolean): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'allied-signals' });
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      const signals = decodeSignals(message.payload);
      if (signals.length) this.emitter.emit('signals', signals);
    });
    const lost = (error?: unknown) => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.log.warn({ err: error }, 'lost the LISTEN connection for change signals; reconnecting');
      this.schedule();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (error) {
      client.end().catch(() => undefined);
      if (!reconnecting) throw error;
      this.log.warn({ err: error }, 'could not reopen the LISTEN connection; retrying');
      this.schedule();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.attempt = 0;
    if (reconnecting) {
      this.log.info('LISTEN connection for change signals restored; refreshing every subscription');
      this.emitter.emit('signals', [{ kind: 'resync' }]);
    }
  }

  private schedule(): void {
    if (this.retry || this.closed) return;
    const delay = Math.min(10_000, 250 * 2 ** this.attempt++);
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect(true);
    }, delay);
    this.retry.unref();
  }
}
