// ING-3: serials that sent data without being registered, for the admin to adopt.
import type { Db } from './db.ts';

export interface PendingDevice {
  sn: string;
  first_seen: number;
  last_seen: number;
  messages: number;
  last_payload: string | null;
  remote_address: string | null;
}

export function createPendingRepository(db: Db) {
  const upsert = db.prepare(`
    INSERT INTO pending_devices (sn, first_seen, last_seen, messages, last_payload, remote_address)
    VALUES (@sn, @ts, @ts, @messages, @payload, @remote)
    ON CONFLICT (sn) DO UPDATE SET last_seen = excluded.last_seen,
      messages = messages + excluded.messages,
      last_payload = coalesce(excluded.last_payload, last_payload),
      remote_address = coalesce(excluded.remote_address, remote_address)`);
  const selectAll = db.prepare<[], PendingDevice>('SELECT * FROM pending_devices ORDER BY last_seen DESC');
  const selectOne = db.prepare<[string], PendingDevice>('SELECT * FROM pending_devices WHERE sn = ?');
  const remove = db.prepare<[string]>('DELETE FROM pending_devices WHERE sn = ?');
  return {
    record(entry: { sn: string; ts: number; messages: number; payload: string | null; remote: string | null }): void {
      upsert.run(entry);
    },
    list: (): PendingDevice[] => selectAll.all(),
    get: (sn: string): PendingDevice | undefined => selectOne.get(sn),
    remove: (sn: string): boolean => remove.run(sn).changes > 0,
  };
}
export type PendingRepository = ReturnType<typeof createPendingRepository>;
