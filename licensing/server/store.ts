// LIC-7: the vendor's license database (SQLite): the licenses it issued, their binding to the
// first machine that activated them, revocations, and every check-in.
import Database from 'better-sqlite3';
import type { License } from '../license-file.ts';

export interface LicenseRow {
  license_key: string;
  customer: string;
  max_devices: number;
  expire_date: string;
  machine_id: string | null;
  features: string;
  issued_at: string;
  /** The machine the license is bound to: from the file, or the first that activated it. */
  bound_machine: string | null;
  bound_at: number | null;
  revoked_at: number | null;
  revoke_reason: string | null;
}

export interface CheckinRow {
  id: number;
  ts: number;
  license_key: string;
  machine_id: string;
  version: string;
  remote: string | null;
  valid: number;
  code: number;
  reason: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS licenses (
  license_key TEXT PRIMARY KEY,
  customer TEXT NOT NULL,
  max_devices INTEGER NOT NULL,
  expire_date TEXT NOT NULL,
  machine_id TEXT,
  features TEXT NOT NULL DEFAULT '[]',
  issued_at TEXT NOT NULL,
  bound_machine TEXT,
  bound_at INTEGER,
  revoked_at INTEGER,
  revoke_reason TEXT
);
CREATE TABLE IF NOT EXISTS checkins (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  license_key TEXT NOT NULL,
  machine_id TEXT NOT NULL,
  version TEXT NOT NULL,
  remote TEXT,
  valid INTEGER NOT NULL,
  code INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkins_by_key ON checkins (license_key, ts);
`;

export function openLicenseStore(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SCHEMA);
  const byKey = db.prepare<[string], LicenseRow>('SELECT * FROM licenses WHERE license_key = ?');
  const insert = db.prepare(`INSERT INTO licenses (license_key, customer, max_devices, expire_date, machine_id, features, issued_at, bound_machine, bound_at)
    VALUES (@license_key, @customer, @max_devices, @expire_date, @machine_id, @features, @issued_at, @machine_id, NULL)`);
  // Only the first activation binds: the WHERE makes a race between two machines end with one winner.
  const bind = db.prepare<[string, number, string]>('UPDATE licenses SET bound_machine = ?, bound_at = ? WHERE license_key = ? AND bound_machine IS NULL');
  const revoke = db.prepare<[number, string, string]>('UPDATE licenses SET revoked_at = ?, revoke_reason = ? WHERE license_key = ? AND revoked_at IS NULL');
  const logCheckin = db.prepare(`INSERT INTO checkins (ts, license_key, machine_id, version, remote, valid, code, reason)
    VALUES (@ts, @license_key, @machine_id, @version, @remote, @valid, @code, @reason)`);

  return {
    get: (key: string): LicenseRow | undefined => byKey.get(key),
    add(license: License): void {
      insert.run({ ...license, features: JSON.stringify(license.features) });
    },
    /** Binds the license to `machineId` unless it is bound already; returns the row after. */
    bindFirst(key: string, machineId: string, at: number): LicenseRow | undefined {
      bind.run(machineId, at, key);
      return byKey.get(key);
    },
    revoke(key: string, at: number, reason: string): boolean {
      return revoke.run(at, reason, key).changes > 0;
    },
    list: (): LicenseRow[] => db.prepare<[], LicenseRow>('SELECT * FROM licenses ORDER BY issued_at, license_key').all(),
    logCheckin(row: Omit<CheckinRow, 'id'>): void {
      logCheckin.run(row);
    },
    checkins: (key?: string): CheckinRow[] =>
      key
        ? db.prepare<[string], CheckinRow>('SELECT * FROM checkins WHERE license_key = ? ORDER BY id').all(key)
        : db.prepare<[], CheckinRow>('SELECT * FROM checkins ORDER BY id').all(),
    close: () => db.close(),
  };
}
export type LicenseStore = ReturnType<typeof openLicenseStore>;
