// Issue 15.1 device masks (migration 011): the open masks, read by the main thread (API, kiosk
// views) and written by the writer thread only, inside its transactions (the alarm decisions
// that depend on them are made there, ALM-8).
import type { AlarmEventKind } from '../contract/alarm.ts';
import type { MaskEnd, OpenMask } from '../contract/masking.ts';
import type { Db } from './db.ts';

const OPEN = 'SELECT id, sn, reason, masked_by, masked_at, until FROM device_masks WHERE ended_at IS NULL';

export function createMaskRepository(db: Db) {
  const open = db.prepare<[], OpenMask>(`${OPEN} ORDER BY sn`);
  const insert = db.prepare<[{ sn: string; reason: string; by: string; at: number; until: number }], OpenMask>(`
    INSERT INTO device_masks (sn, reason, masked_by, masked_at, until) VALUES (@sn, @reason, @by, @at, @until)
    RETURNING id, sn, reason, masked_by, masked_at, until`);
  const end = db.prepare<[{ id: number; at: number; by: string; why: MaskEnd }]>(
    'UPDATE device_masks SET ended_at = @at, ended_by = @by, end_reason = @why WHERE id = @id AND ended_at IS NULL',
  );
  // The notification a masked alarm still owes: the newest event the mask kept from people
  // (a 'masked' journal entry "<kind>: not notified …") with no notification queued after it.
  const owed = db.prepare<[number], { detail: string }>(`
    SELECT m.detail FROM alarm_journal m
    WHERE m.alarm_id = ? AND m.kind = 'masked' AND m.detail LIKE '%: not notified%'
      AND NOT EXISTS (SELECT 1 FROM alarm_journal n WHERE n.alarm_id = m.alarm_id AND n.id > m.id AND n.kind = 'notification' AND n.detail LIKE '%: queued%')
    ORDER BY m.id DESC LIMIT 1`);
  // Whether an alarm's episode began under a mask not ended since: its newest raise (or re-raise)
  // was journaled as masked ('raised: not notified …'), with no 'unmasked' entry after that.
  const raisedMasked = db.prepare<[{ id: number }], number>(`
    SELECT EXISTS (SELECT 1 FROM alarm_journal m
      WHERE m.alarm_id = @id AND m.kind = 'masked' AND (m.detail LIKE 'raised: not notified%' OR m.detail LIKE 'repeat: not notified%')
        AND m.id > (SELECT coalesce(max(id), 0) FROM alarm_journal WHERE alarm_id = @id AND kind IN ('raised', 'repeat'))
        AND NOT EXISTS (SELECT 1 FROM alarm_journal u WHERE u.alarm_id = @id AND u.kind = 'unmasked' AND u.id > m.id))`).pluck();
  return {
    /** Every open mask (some may be past `until`, waiting for the expiry to end them). */
    open: (): OpenMask[] => open.all(),
    insert: (sn: string, reason: string, by: string, at: number, until: number): OpenMask => insert.get({ sn, reason, by, at, until })!,
    end: (id: number, at: number, by: string, why: MaskEnd): void => void end.run({ id, at, by, why }),
    /** The event kind (raised, repeat, level) whose notification a mask held back, or null. */
    owedNotification(alarmId: number): AlarmEventKind | null {
      const kind = owed.get(alarmId)?.detail.split(':')[0];
      return kind === 'raised' || kind === 'repeat' || kind === 'level' ? kind : null;
    },
    /** Issue 15.1/15.5: the alarm's episode was raised under a mask still in force (a bump test). */
    raisedUnderMask: (alarmId: number): boolean => raisedMasked.get({ id: alarmId }) === 1,
  };
}
export type MaskRepository = ReturnType<typeof createMaskRepository>;
