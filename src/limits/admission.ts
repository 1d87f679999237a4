import { AlliedError } from '../errors';
import { rateLimited } from './rate';

export interface AdmissionOptions {
  /** Connections tenant transactions may hold at once (the pool's size). */
  capacity: number;
  /** Connections one key (a brand) may hold at once. */
  perKey: number;
  /** Longest wait for a connection before RATE_LIMITED. */
  waitMs: number;
  /** Waiting operations one key may have; more are refused at once. */
  queuePerKey: number;
  /** Longest single statement, and longest transaction, of one operation. */
  statementTimeoutMs: number;
  operationTimeoutMs: number;
}

interface Waiter {
  grant: (release: () => void) => void;
  timer: NodeJS.Timeout;
  since: number;
}

/** What /metrics reads of the pool's admission: each grant's wait, and each refusal. */
export interface AdmissionObserver {
  waited(ms: number): void;
  refused(reason: 'queue_full' | 'timeout'): void;
}

/**
 * Fair access to the database pool. Each brand may hold at most its share of
 * the pool's connections, so one brand's flood always leaves room for the
 * others; when the pool is full, waiting brands are served in turn (round
 * robin), not in arrival order, so a brand with one request waits for at most
 * one operation per other busy brand, not for a flood's whole queue. A wait
 * longer than `waitMs` is RATE_LIMITED with a retry time, never a pool
 * time-out reported as a server fault.
 */
export class Admission {
  private readonly active = new Map<string, number>();
  // Insertion order is the rotation: a key served moves to the back.
  private readonly queues = new Map<string, Waiter[]>();
  private total = 0;
  private observer: AdmissionObserver | undefined;

  constructor(readonly options: AdmissionOptions) {}

  /** Connections held by tenant transactions now. */
  get inUse(): number {
    return this.total;
  }

  /** Operations waiting for a connection now. */
  get waiting(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  observe(observer: AdmissionObserver): void {
    this.observer = observer;
  }

  /** Waits for a connection slot for `key`; call the returned function to give it back (once). */
  acquire(key: string): Promise<() => void> {
    if (this.canRun(key) && !this.queues.size) {
      this.observer?.waited(0);
      return Promise.resolve(this.take(key));
    }
    const queue = this.queues.get(key) ?? [];
    if (queue.length >= this.options.queuePerKey) {
      this.observer?.refused('queue_full');
      return Promise.reject(busy('Too many of your operations are waiting for the database; retry shortly.', 1));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(() => {
          const waiting = this.queues.get(key);
          const at = waiting?.indexOf(waiter) ?? -1;
          if (waiting && at >= 0) waiting.splice(at, 1);
          if (waiting?.length === 0) this.queues.delete(key);
          this.observer?.refused('timeout');
          reject(busy('The database is busy; retry shortly.', Math.max(1, Math.ceil(this.options.waitMs / 1000))));
        }, this.options.waitMs),
        since: performance.now(),
      };
      queue.push(waiter);
      this.queues.set(key, queue);
      this.dispatch();
    });
  }

  private canRun(key: string): boolean {
    return this.total < this.options.capacity && (this.active.get(key) ?? 0) < this.options.perKey;
  }

  private take(key: string): () => void {
    this.total++;
    this.active.set(key, (this.active.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.active.get(key) ?? 1) - 1;
      if (left > 0) this.active.set(key, left);
      else this.active.delete(key);
      this.dispatch();
    };
  }

  /** Grants free slots to waiting keys in turn. */
  private dispatch(): void {
    let granted = true;
    while (granted && this.total < this.options.capacity) {
      granted = false;
      for (const [key, queue] of this.queues) {
        if (!this.canRun(key)) continue;
        const waiter = queue.shift()!;
        this.queues.delete(key);
        if (queue.length > 0) this.queues.set(key, queue);
        clearTimeout(waiter.timer);
        this.observer?.waited(performance.now() - waiter.since);
        waiter.grant(this.take(key));
        granted = true;
        break;
      }
    }
  }
}

function busy(message: string, retryAfter: number): AlliedError {
  const error = rateLimited('DATABASE_POOL', retryAfter, message);
  // A busy server, not a client over its rate.
  (error.extensions.http as { status: number }).status = 503;
  return error;
}
