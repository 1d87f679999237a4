import { badInput } from '../errors';
import type { EmailSettings, EmailSettingsInput } from '../schema/email.types';
import type { RequestContext } from '../tenancy/context';
import { isTimeZone } from './sending-window';

export const DEFAULT_EMAIL_SETTINGS: EmailSettings = { timeZone: 'UTC', quietStartHour: 21, quietEndHour: 8, weeklyCap: 3, perMinute: 600 };

export const EMAIL_SETTINGS_COLUMNS = 'time_zone, quiet_start_hour, quiet_end_hour, weekly_cap, per_minute';

/** The brand's settings row, or the defaults where it has none (a row of nulls from an outer join counts as none). */
export function emailSettingsFromRow(row: Record<string, any> | undefined): EmailSettings {
  return row && row.time_zone != null
    ? { timeZone: row.time_zone, quietStartHour: row.quiet_start_hour, quietEndHour: row.quiet_end_hour, weeklyCap: row.weekly_cap, perMinute: row.per_minute }
    : { ...DEFAULT_EMAIL_SETTINGS };
}

/** A brand's sending rules (time zone, quiet hours, weekly cap, rate), and the slots its rate hands out. */
export class EmailSettingsService {
  async get(ctx: RequestContext): Promise<EmailSettings> {
    const [row] = await (await ctx.manager()).query(`select ${EMAIL_SETTINGS_COLUMNS} from email_settings where tenant_id = $1`, [ctx.brandId]);
    return emailSettingsFromRow(row);
  }

  async set(ctx: RequestContext, input: EmailSettingsInput): Promise<EmailSettings> {
    const current = await this.get(ctx);
    const next: EmailSettings = {
      timeZone: input.timeZone ?? current.timeZone,
      quietStartHour: input.quietStartHour ?? current.quietStartHour,
      quietEndHour: input.quietEndHour ?? current.quietEndHour,
      weeklyCap: input.weeklyCap ?? current.weeklyCap,
      perMinute: input.perMinute ?? current.perMinute,
    };
    if (!isTimeZone(next.timeZone)) throw badInput(`"${next.timeZone}" is not an IANA time zone such as Europe/Berlin or Asia/Shanghai.`);
    await (await ctx.manager()).query(
      `insert into email_settings (tenant_id, time_zone, quiet_start_hour, quiet_end_hour, weekly_cap, per_minute)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (tenant_id) do update set time_zone = excluded.time_zone, quiet_start_hour = excluded.quiet_start_hour,
         quiet_end_hour = excluded.quiet_end_hour, weekly_cap = excluded.weekly_cap, per_minute = excluded.per_minute, updated_at = now()`,
      [ctx.brandId, next.timeZone, next.quietStartHour, next.quietEndHour, next.weeklyCap, next.perMinute],
    );
    return next;
  }

  /**
   * `count` send times at the brand's rate, the first at `from` or at the
   * brand's next free slot if later; the slots are taken (the brand's row
   * is locked until the caller's transaction ends, so instances never hand
   * out the same slot).
   */
  async takeSlots(ctx: RequestContext, count: number, from: Date): Promise<Date[]> {
    if (count === 0) return [];
    const manager = await ctx.manager();
    const d = DEFAULT_EMAIL_SETTINGS;
    await manager.query(
      `insert into email_settings (tenant_id, time_zone, quiet_start_hour, quiet_end_hour, weekly_cap, per_minute)
       values ($1, $2, $3, $4, $5, $6) on conflict (tenant_id) do nothing`,
      [ctx.brandId, d.timeZone, d.quietStartHour, d.quietEndHour, d.weeklyCap, d.perMinute],
    );
    const [row] = await manager.query(`select per_minute, next_slot_at from email_settings where tenant_id = $1 for update`, [ctx.brandId]);
    const gapMs = 60_000 / row.per_minute;
    const start = Math.max(from.getTime(), row.next_slot_at ? (row.next_slot_at as Date).getTime() : 0);
    const slots = Array.from({ length: count }, (_, i) => new Date(Math.round(start + i * gapMs)));
    await manager.query(`update email_settings set next_slot_at = $2 where tenant_id = $1`, [ctx.brandId, new Date(Math.round(start + count * gapMs))]);
    return slots;
  }
}
