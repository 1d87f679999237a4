import { isISO4217CurrencyCode } from 'class-validator';
import { textProblem } from '../limits/text';
import { contactProblem } from './contact-rules';
import { EventType } from '../entities/enums';
import type { EventInput } from '../schema/event.types';

export const MAX_EVENTS_PER_CALL = 1000;
export const MAX_FEEDBACK_CHARS = 4000;

export interface Rejection {
  index: number;
  code: string;
  message: string;
}

const MONEY_TYPES = new Set([EventType.PURCHASE, EventType.REFUND]);

/**
 * The rules one event must meet on its own (no database needed). Returns the
 * first problem as a rejection code and message, or null.
 */
export function eventProblem(e: EventInput): { code: string; message: string } | null {
  for (const field of ['idempotencyKey', 'learnerExternalId', 'text'] as const) {
    const value = e[field];
    const problem = typeof value === 'string' ? textProblem(value) : null;
    if (problem) return { code: 'INVALID_TEXT', message: `${field} ${problem}.` };
  }
  if (!e.idempotencyKey || e.idempotencyKey.length > 200) {
    return { code: 'INVALID_IDEMPOTENCY_KEY', message: 'idempotencyKey must be 1..200 characters.' };
  }
  if (!e.learnerExternalId || e.learnerExternalId.length > 200) {
    return { code: 'INVALID_LEARNER', message: 'learnerExternalId must be 1..200 characters.' };
  }
  if (Number.isNaN(e.occurredAt?.getTime?.())) return { code: 'INVALID_TIME', message: 'occurredAt must be an RFC 3339 time.' };
  if (MONEY_TYPES.has(e.type)) {
    if (!e.amount) return { code: 'MISSING_AMOUNT', message: `${e.type} needs an amount.` };
    if (!Number.isSafeInteger(e.amount.amountMinor) || e.amount.amountMinor <= 0) {
      return { code: 'INVALID_AMOUNT', message: 'amount.amountMinor must be a positive whole number of minor units.' };
    }
    if (!/^[A-Z]{3}$/.test(e.amount.currency) || !isISO4217CurrencyCode(e.amount.currency)) {
      return { code: 'INVALID_CURRENCY', message: 'amount.currency must be an ISO 4217 code such as USD, EUR or CNY.' };
    }
    if (!e.courseId) return { code: 'MISSING_COURSE', message: `${e.type} needs a courseId.` };
  } else if (e.amount) {
    return { code: 'UNEXPECTED_FIELD', message: 'Only PURCHASE and REFUND events carry an amount.' };
  }
  if (e.type === EventType.REFUND) {
    if (!e.refundOf) return { code: 'MISSING_REFUND_OF', message: 'REFUND needs refundOf: the idempotencyKey of the purchase.' };
  } else if (e.refundOf != null) {
    return { code: 'UNEXPECTED_FIELD', message: 'Only REFUND events carry refundOf.' };
  }
  if (e.type === EventType.RATING) {
    if (e.rating == null || !Number.isInteger(e.rating) || e.rating < 1 || e.rating > 5) {
      return { code: 'INVALID_RATING', message: 'RATING needs a rating of 1..5.' };
    }
  } else if (e.rating != null) {
    return { code: 'UNEXPECTED_FIELD', message: 'Only RATING events carry a rating.' };
  }
  if (e.type === EventType.FEEDBACK) {
    if (e.text == null || e.text.trim() === '') return { code: 'MISSING_TEXT', message: 'FEEDBACK needs text.' };
    if (e.text.length > MAX_FEEDBACK_CHARS) {
      return { code: 'TEXT_TOO_LONG', message: `FEEDBACK text may hold at most ${MAX_FEEDBACK_CHARS} characters.` };
    }
  } else if (e.text != null) {
    return { code: 'UNEXPECTED_FIELD', message: 'Only FEEDBACK events carry text.' };
  }
  if (e.contact != null) {
    const problem = contactProblem(e.contact);
    if (problem) return { code: 'INVALID_CONTACT', message: problem };
  }
  return null;
}
