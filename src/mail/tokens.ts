import crypto from 'node:crypto';

/** What a tracking link does: record an open, record a click and redirect, or unsubscribe. */
export type TrackingAction = 'open' | 'click' | 'unsubscribe';

export interface TrackingClaims {
  action: TrackingAction;
  brandId: string;
  messageId: string;
  /** Click links only: where the learner goes. */
  url?: string;
  /** Seconds since the epoch after which the token does nothing. */
  expires: number;
}

const ACTION_CODES: Record<TrackingAction, string> = { open: 'o', click: 'c', unsubscribe: 'u' };
const ACTIONS = new Map(Object.entries(ACTION_CODES).map(([action, code]) => [code, action as TrackingAction]));

/**
 * Signed tracking tokens: `base64url(payload).base64url(HMAC-SHA256(payload))`
 * with a key of the deployment's (ALLIED_TRACKING_SECRET). The payload names
 * the brand, the message and the action, so a token of one message, action
 * or brand is useless for another; it expires. `verify` answers null for
 * anything forged, altered, truncated or expired, and never says which.
 */
export class TrackingTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new RangeError('the tracking secret must be at least 32 characters');
    // A key of its own, derived, so the secret is never used for two things.
    this.key = crypto.createHmac('sha256', secret).update('allied tracking tokens v1').digest();
  }

  sign(claims: TrackingClaims): string {
    const body = [ACTION_CODES[claims.action], claims.brandId, claims.messageId, String(claims.expires), claims.url ?? ''];
    const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  verify(token: string, action: TrackingAction, now = Date.now()): TrackingClaims | null {
    if (typeof token !== 'string' || token.length > 8192) return null;
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (!Array.isArray(body) || body.length !== 5 || !body.every((x) => typeof x === 'string')) return null;
    const [code, brandId, messageId, expires, url] = body as string[];
    if (ACTIONS.get(code) !== action) return null;
    const expiry = Number(expires);
    if (!Number.isSafeInteger(expiry) || expiry * 1000 < now) return null;
    return { action, brandId, messageId, expires: expiry, ...(url ? { url } : {}) };
  }

  private mac(payload: string): string {
    return crypto.createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
