// Issue 17 (SYNC-2): a target's telemetry budget — a token bucket of records per second (one
// second's worth at most) and bytes per UTC day, for links paid by the byte. Alarms and device
// events are never held back by it; only readings and aggregates spend it.
import type { UplinkTarget } from '../contract/uplink.ts';

const DAY = 86_400_000;

export function createTelemetryBudget(startAt: number) {
  let tokens = 0;
  let tokensAt = startAt;
  const today = { day: -1, bytes: 0, records: 0 };

  function rollDay(now: number) {
    const day = Math.floor(now / DAY);
    if (day === today.day) return;
    today.day = day;
    today.bytes = 0;
    today.records = 0;
  }

  return {
    today,
    /** Whether telemetry may go now; fills the bucket for the time since the last look. */
    allows(now: number, target: Pick<UplinkTarget, 'max_records_per_s' | 'max_bytes_per_day'>): boolean {
      rollDay(now);
      if (target.max_bytes_per_day > 0 && today.bytes >= target.max_bytes_per_day) return false;
      if (target.max_records_per_s <= 0) return true;
      tokens = Math.min(target.max_records_per_s, tokens + ((now - tokensAt) / 1000) * target.max_records_per_s);
      tokensAt = now;
      return tokens >= 1;
    },
    /** The most records the next telemetry frame may hold. */
    maxRecords(frameLimit: number, target: Pick<UplinkTarget, 'max_records_per_s'>): number {
      return target.max_records_per_s > 0 ? Math.max(1, Math.min(frameLimit, Math.floor(tokens))) : frameLimit;
    },
    /** Telemetry handed out. */
    spend(records: number) {
      tokens -= records;
    },
    /** A frame acknowledged (any lane): today's figures. */
    acknowledged(now: number, records: number, bytes: number) {
      rollDay(now);
      today.bytes += bytes;
      today.records += records;
    },
  };
}
