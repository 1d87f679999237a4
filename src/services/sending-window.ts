import type { CampaignEntity } from '../entities';
import { localClock } from '../ml/ctr/clock';
import { deliveryProblem } from './ctr.service';

/** The brand's quiet hours: no email from `quietStartHour`:00 until `quietEndHour`:00 in `timeZone` (equal hours: none). */
export interface QuietHours {
  timeZone: string;
  quietStartHour: number;
  quietEndHour: number;
}

const QUARTER_HOUR_MS = 15 * 60_000;
/** How far ahead the next allowed time is looked for: a week and a day covers every daily rule. */
const HORIZON_MS = 8 * 86_400_000;

export function inQuietHours(quiet: QuietHours, ms: number): boolean {
  const { quietStartHour: start, quietEndHour: end } = quiet;
  if (start === end) return false;
  const { hourOfDay: hour } = localClock(quiet.timeZone, ms);
  return start < end ? hour >= start && hour < end : hour >= start || hour < end;
}

/**
 * Why an email of the campaign may not go out at `at`: quiet hours in the
 * brand's zone, or the campaign's own rules (ACTIVE, started, not ended,
 * inside its daily delivery window in its zone). Null when it may.
 */
export function sendingProblem(campaign: CampaignEntity, quiet: QuietHours, at: Date): string | null {
  const problem = deliveryProblem(campaign, at);
  if (problem) return problem.reason;
  return inQuietHours(quiet, at.getTime()) ? 'QUIET_HOURS' : null;
}

/**
 * The first time at or after `at` when an email of the campaign may go out,
 * by quarter hours (every zone's offset and every hour rule changes on
 * one); null when none comes within eight days, or when the campaign can
 * never send again (not ACTIVE, or ended).
 */
export function nextSendingTime(campaign: CampaignEntity, quiet: QuietHours, at: Date): Date | null {
  let t = at.getTime();
  const stop = t + HORIZON_MS;
  while (t <= stop) {
    const problem = sendingProblem(campaign, quiet, new Date(t));
    if (problem === null) return new Date(t);
    if (problem === 'CAMPAIGN_NOT_ACTIVE' || problem === 'ENDED') return null;
    t = (Math.floor(t / QUARTER_HOUR_MS) + 1) * QUARTER_HOUR_MS;
  }
  return null;
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
