import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A graphql-ws subscription that records what arrives, for tests to wait on. */
export class Watch<T = any> {
  readonly values: T[] = [];
  errors: { message: string; extensions?: { code?: string } }[] | null = null;
  completed = false;
  private waiters: (() => void)[] = [];
  private readonly dispose: () => void;

  constructor(
    readonly client: Client,
    query: string,
    variables: Record<string, unknown> = {},
    pick: (data: any) => T = (data) => Object.values(data)[0] as T,
  ) {
    this.dispose = client.subscribe(
      { query, variables },
      {
        next: (result) => {
          if (result.errors) this.errors = result.errors as never;
          else this.values.push(pick(result.data));
          this.wake();
        },
        error: (error) => {
          this.errors = Array.isArray(error) ? error : [{ message: String((error as Error)?.message ?? error) }];
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  /** Resolves with the first value (already received or coming) that satisfies `test`. */
  async until(test: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.values.find(test);
      if (hit !== undefined) return hit;
      if (this.errors) throw new Error(`subscription failed: ${JSON.stringify(this.errors)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching value within ${timeoutMs} ms; got ${JSON.stringify(this.values)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves with the error codes once the subscription fails. */
  async failure(timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.errors) {
      if (Date.now() > deadline) throw new Error(`no error within ${timeoutMs} ms; got ${JSON.stringify(this.values)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.errors.map((e) => e.extensions?.code ?? e.message);
  }

  stop(): void {
    this.dispose();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A graphql-ws client for `httpUrl`'s server with `token` in connectionParams. */
export function wsClient(httpUrl: string, token: string | null, on: { closed?: (code: number) => void } = {}): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: token },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => on.closed?.((event as { code: number }).code) },
  });
}

export const METRICS_SUBSCRIPTION = `subscription($w: MetricsWindow, $a: ID) { metrics(window: $w, allianceId: $a) {
  at windowStart revenue { amountMinor currency } purchases refunds impressions clicks ctr conversions conversionRate satisfaction ratings activeLearners } }`;
