/**
 * Change signals as values: what they say and how they travel as text. A
 * leaf module (it imports nothing), so the request context can raise
 * signals without knowing the buses that carry them (src/realtime/signals.ts).
 */

/**
 * "Something changed here": ids only, never rows or figures. Ingestion
 * signals the brands and alliances whose metrics it changed, settlements the
 * alliance whose settlement was run or finalized. `resync` is local: this
 * instance may have missed signals and must refresh everything it serves.
 */
export type Signal =
  | { kind: 'brand'; id: string }
  | { kind: 'alliance'; id: string }
  | { kind: 'settlement'; allianceId: string; settlementId: string }
  /** A model version of the brand trained further, finished, failed or was activated. */
  | { kind: 'model'; brandId: string; versionId: string }
  /** A loyalty membership's ledger gained entries (earned, spent, expired, reversed, adjusted): its balance may have changed. */
  | { kind: 'loyalty'; memberId: string }
  | { kind: 'resync' };

export type SignalListener = (signals: Signal[]) => void;

/** Carries signals to every instance serving subscriptions (this one included). */
export interface SignalBus {
  publish(signals: Signal[]): void;
  /**
   * Where signals can travel inside the transaction that raised them (NOTIFY
   * is delivered when it commits, never if it rolls back): the statements
   * that send them. Absent where signals stay in this process; those are
   * published after commit.
   */
  statements?(signals: Signal[]): { sql: string; parameters: unknown[] }[];
  listen(listener: SignalListener): () => void;
  close(): Promise<void>;
}

/** The NOTIFY channel of PostgresBus. */
export const CHANNEL = 'allied_signals';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ENCODED = new RegExp(`^(b|a|l):(${UUID})$|^(s|m):(${UUID}):(${UUID})$`);

export function encodeSignal(s: Signal): string | null {
  switch (s.kind) {
    case 'brand':
      return `b:${s.id}`;
    case 'alliance':
      return `a:${s.id}`;
    case 'settlement':
      return `s:${s.allianceId}:${s.settlementId}`;
    case 'model':
      return `m:${s.brandId}:${s.versionId}`;
    case 'loyalty':
      return `l:${s.memberId}`;
    default:
      return null;
  }
}

/** Signals from a NOTIFY payload; anything malformed is dropped. */
export function decodeSignals(payload: string): Signal[] {
  const signals: Signal[] = [];
  for (const part of payload.split(',')) {
    const m = ENCODED.exec(part);
    if (!m) continue;
    if (m[1] === 'b') signals.push({ kind: 'brand', id: m[2] });
    else if (m[1] === 'a') signals.push({ kind: 'alliance', id: m[2] });
    else if (m[1] === 'l') signals.push({ kind: 'loyalty', memberId: m[2] });
    else if (m[3] === 's') signals.push({ kind: 'settlement', allianceId: m[4], settlementId: m[5] });
    else signals.push({ kind: 'model', brandId: m[4], versionId: m[5] });
  }
  return signals;
}

/** Comma-joined encodings, in payloads under PostgreSQL's size limit. */
export function payloads(signals: Signal[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const code of new Set(signals.map(encodeSignal).filter((c): c is string => c !== null))) {
    if (current && current.length + 1 + code.length > MAX_PAYLOAD) {
      out.push(current);
      current = '';
    }
    current = current ? `${current},${code}` : code;
  }
  if (current) out.push(current);
  return out;
}
