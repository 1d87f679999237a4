import type { Logger } from 'pino';
import { EventType } from '../entities/enums';
import type { ContactConsent } from '../schema/email.types';
import type { EventInput } from '../schema/event.types';
import type { Principal } from '../tenancy/principal';
import type { RunAs } from '../tenancy/run-as';
import type { EventService } from './event.service';
import { MAX_EVENTS_PER_CALL } from './event-rules';

/** A rejected line of an NDJSON upload (1-based line numbers). */
export interface LineRejection {
  line: number;
  code: string;
  message: string;
}

export interface IngestSummary {
  accepted: number;
  duplicates: number;
  rejected: LineRejection[];
  /** Lines read, blank ones included. */
  lines: number;
  /** Set when the body ended inside a line: that fragment was not stored. */
  truncated: { line: number } | null;
}

// RFC 3339 with a time zone, as the GraphQL DateTime scalar requires.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const EVENT_TYPES = new Set<string>(Object.values(EventType));
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Parsed = { event: EventInput } | { code: string; message: string };

/**
 * One NDJSON line as an event, with the checks GraphQL's input coercion makes
 * for `recordEvents` (types, time format, integer amounts); the event rules
 * themselves are the EventService's.
 */
export function parseLine(bytes: Buffer): Parsed {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { code: 'INVALID_UTF8', message: 'The line is not valid UTF-8.' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { code: 'INVALID_JSON', message: 'The line is not a JSON object.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { code: 'INVALID_JSON', message: 'The line is not a JSON object.' };
  }
  const v = value as Record<string, unknown>;
  const str = (k: string) => v[k] == null || typeof v[k] === 'string';
  if (typeof v.idempotencyKey !== 'string') return { code: 'INVALID_IDEMPOTENCY_KEY', message: 'idempotencyKey must be a string.' };
  if (typeof v.type !== 'string' || !EVENT_TYPES.has(v.type)) return { code: 'INVALID_TYPE', message: `type must be one of ${[...EVENT_TYPES].join(', ')}.` };
  if (typeof v.learnerExternalId !== 'string') return { code: 'INVALID_LEARNER', message: 'learnerExternalId must be a string.' };
  if (typeof v.occurredAt !== 'string' || !RFC3339.test(v.occurredAt) || Number.isNaN(Date.parse(v.occurredAt))) {
    return { code: 'INVALID_TIME', message: 'occurredAt must be an RFC 3339 time with a zone, e.g. 2026-11-22T10:00:00Z.' };
  }
  if (!['courseId', 'campaignId', 'creativeId', 'text', 'refundOf'].every(str)) {
    return { code: 'INVALID_FIELD', message: 'courseId, campaignId, creativeId, text and refundOf must be strings.' };
  }
  if (v.rating != null && !Number.isInteger(v.rating)) return { code: 'INVALID_RATING', message: 'rating must be an integer 1..5.' };
  let amount: EventInput['amount'] = null;
  if (v.amount != null) {
    const a = v.amount as Record<string, unknown>;
    if (typeof a !== 'object' || !Number.isSafeInteger(a.amountMinor) || typeof a.currency !== 'string') {
      return { code: 'INVALID_AMOUNT', message: 'amount must be { amountMinor: integer within ±(2^53 − 1), currency }.' };
    }
    amount = { amountMinor: a.amountMinor as number, currency: a.currency };
  }
  let contact: EventInput['contact'] = null;
  if (v.contact != null) {
    const c = v.contact as Record<string, unknown>;
    const cstr = (k: string) => c[k] == null || typeof c[k] === 'string';
    if (typeof c !== 'object' || Array.isArray(c) || typeof c.email !== 'string' || !['name', 'consent', 'source'].every(cstr)) {
      return { code: 'INVALID_CONTACT', message: 'contact must be { email, name?, consent?: OPTED_IN | OPTED_OUT, source? } with string values.' };
    }
    contact = { email: c.email, name: (c.name as string) ?? null, consent: (c.consent as ContactConsent) ?? null, source: (c.source as string) ?? null };
  }
  return {
    event: {
      idempotencyKey: v.idempotencyKey,
      type: v.type as EventType,
      learnerExternalId: v.learnerExternalId,
      occurredAt: new Date(v.occurredAt),
      courseId: (v.courseId as string | null) ?? null,
      campaignId: (v.campaignId as string | null) ?? null,
      creativeId: (v.creativeId as string | null) ?? null,
      amount,
      rating: (v.rating as number | null) ?? null,
      text: (v.text as string | null) ?? null,
      refundOf: (v.refundOf as string | null) ?? null,
      contact: contact ?? null,
    },
  };
}

/**
 * Bulk ingestion: reads an NDJSON body as it streams in, and stores it in
 * batches of up to 1000 events, each in its own transaction, with the same
 * rules and idempotency as `recordEvents`. Lines of a batch are committed
 * before the next batch is read, so a body cut off mid-way keeps everything
 * before the cut, and resending the whole file stores only what is missing.
 */
export class IngestService {
  constructor(
    private readonly events: EventService,
    private readonly runAs: RunAs,
  ) {}

  async ingest(principal: Principal, log: Logger, body: AsyncIterable<Buffer>, maxLineBytes: number): Promise<IngestSummary> {
    const summary: IngestSummary = { accepted: 0, duplicates: 0, rejected: [], lines: 0, truncated: null };
    let batch: { line: number; event: EventInput }[] = [];
    // A batch that could not be stored (the database busy, say) ends the upload with its error: everything
    // before it is committed, and resending the whole body stores only what is missing.
    let storeFailed = false;
    const flush = async () => {
      if (batch.length === 0) return;
      const pending = batch;
      batch = [];
      const result = await this.runAs(principal, (ctx) => this.events.record(ctx, pending.map((p) => p.event)), { log }).catch((error: unknown) => {
        storeFailed = true;
        throw error;
      });
      summary.accepted += result.accepted;
      summary.duplicates += result.duplicates;
      for (const r of result.rejected) summary.rejected.push({ line: pending[r.index].line, code: r.code, message: r.message });
    };
    const take = async (bytes: Buffer) => {
      summary.lines++;
      const line = summary.lines;
      if (bytes.length > maxLineBytes) {
        summary.rejected.push({ line, code: 'LINE_TOO_LONG', message: `A line may hold at most ${maxLineBytes} bytes.` });
        return;
      }
      if (bytes.toString('latin1').trim() === '') return;
      const parsed = parseLine(bytes);
      if ('event' in parsed) batch.push({ line, event: parsed.event });
      else summary.rejected.push({ line, ...parsed });
      if (batch.length >= MAX_EVENTS_PER_CALL) await flush();
    };

    let carry: Buffer[] = [];
    let carried = 0;
    const readLines = async () => {
      for await (const chunk of body) {
        let start = 0;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
          const piece = chunk.subarray(start, i);
          const line = carry.length ? Buffer.concat([...carry, piece]) : piece;
          carry = [];
          carried = 0;
          await take(line.at(-1) === 13 ? line.subarray(0, -1) : line);
          start = i + 1;
        }
        if (start < chunk.length) {
          // Keep at most one byte past the limit: enough to know the line is too long.
          if (carried <= maxLineBytes) carry.push(chunk.subarray(start, start + maxLineBytes + 1 - carried));
          carried += chunk.length - start;
        }
      }
    };
    try {
      await readLines();
    } catch (error) {
      if (storeFailed) throw error;
      // The client went away mid-body: keep the complete lines read so far.
      log.warn({ err: error, lines: summary.lines }, 'ingest body cut off; storing the complete lines before the cut');
      await flush();
      summary.truncated = { line: summary.lines + 1 };
      return summary;
    }

    if (carried > 0) {
      // The body ended inside a line: store it if it is a whole event, else report the cut.
      const last = Buffer.concat(carry);
      const parsed = carried <= maxLineBytes ? parseLine(last) : null;
      if (parsed && 'event' in parsed) await take(last);
      else summary.truncated = { line: summary.lines + 1 };
    }
    await flush();
    summary.rejected.sort((x, y) => x.line - y.line);
    return summary;
  }
}
