// Issue 15.2: the calibration records and the per-device intervals (migration 012). Records are
// only added, never changed: they are the detector's verification history (JJG 693-2011).
import type { CalibrationKind } from '../contract/calibration.ts';
import type { Db } from '../storage/db.ts';

export interface CalibrationRecord {
  id: number;
  sn: string;
  kind: CalibrationKind;
  at: number;
  by: string;
  test_gas: string | null;
  concentration: number | null;
  as_found: number | null;
  as_left: number | null;
  passed: boolean;
  new_k: number | null;
  new_b: number | null;
  comment: string | null;
  recorded_at: number;
}

export type NewCalibrationRecord = Omit<CalibrationRecord, 'id'>;

export interface DeviceIntervals {
  calibration_days: number | null;
  bump_test_days: number | null;
}

type Row = Omit<CalibrationRecord, 'passed'> & { passed: number };
const recordOf = (row: Row): CalibrationRecord => ({ ...row, passed: row.passed === 1 });

export function createCalibrationRepository(db: Db) {
  const insert = db.prepare(`
    INSERT INTO calibrations (sn, kind, at, by, test_gas, concentration, as_found, as_left, passed, new_k, new_b, comment, recorded_at)
    VALUES (@sn, @kind, @at, @by, @test_gas, @concentration, @as_found, @as_left, @passed, @new_k, @new_b, @comment, @recorded_at)`);
  const byId = db.prepare<[number], Row>('SELECT * FROM calibrations WHERE id = ?');
  const ofDevice = db.prepare<[string, number], Row>('SELECT * FROM calibrations WHERE sn = ? ORDER BY at DESC, id DESC LIMIT ?');
  const lastPassed = db.prepare<[], { sn: string; kind: CalibrationKind; at: number }>(
    'SELECT sn, kind, MAX(at) AS at FROM calibrations WHERE passed = 1 GROUP BY sn, kind');
  const lastPassedOf = db.prepare<[string], { sn: string; kind: CalibrationKind; at: number }>(
    'SELECT sn, kind, MAX(at) AS at FROM calibrations WHERE passed = 1 AND sn = ? GROUP BY kind');
  const intervalsAll = db.prepare<[], DeviceIntervals & { sn: string }>('SELECT sn, calibration_days, bump_test_days FROM calibration_intervals');
  const intervalsOf = db.prepare<[string], DeviceIntervals>('SELECT calibration_days, bump_test_days FROM calibration_intervals WHERE sn = ?');
  const upsertIntervals = db.prepare(`
    INSERT INTO calibration_intervals (sn, calibration_days, bump_test_days, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (sn) DO UPDATE SET calibration_days = excluded.calibration_days, bump_test_days = excluded.bump_test_days, updated_at = excluded.updated_at`);

  const recordsSinceGet = db.prepare<[], number>("SELECT value FROM calibration_meta WHERE key = 'records_since'").pluck();
  const recordsSinceSet = db.prepare<[number]>("INSERT OR IGNORE INTO calibration_meta (key, value) VALUES ('records_since', ?)");

  /** sn → kind → the newest passing record's time. */
  function lastPassedMap(rows: { sn: string; kind: CalibrationKind; at: number }[]) {
    const map = new Map<string, Partial<Record<CalibrationKind, number>>>();
    for (const row of rows) map.set(row.sn, { ...map.get(row.sn), [row.kind]: row.at });
    return map;
  }

  return {
    insert(record: NewCalibrationRecord): CalibrationRecord {
      const { lastInsertRowid } = insert.run({ ...record, passed: record.passed ? 1 : 0 });
      return recordOf(byId.get(Number(lastInsertRowid))!);
    },
    /** Newest first. */
    list: (sn: string, limit = 200): CalibrationRecord[] => ofDevice.all(sn, limit).map(recordOf),
    lastPassed: (sn?: string) => lastPassedMap(sn === undefined ? lastPassed.all() : lastPassedOf.all(sn)),
    intervals: (sn: string): DeviceIntervals => intervalsOf.get(sn) ?? { calibration_days: null, bump_test_days: null },
    allIntervals: (): Map<string, DeviceIntervals> => new Map(intervalsAll.all().map(({ sn, ...intervals }) => [sn, intervals])),
    /** When records began on this appliance; set to `now` the first time it is asked (migration 012). */
    recordsSince(now: number): number {
      recordsSinceSet.run(now);
      return recordsSinceGet.get()!;
    },
    setIntervals(sn: string, intervals: DeviceIntervals, at: number): void {
      upsertIntervals.run(sn, intervals.calibration_days, intervals.bump_test_days, at);
    },
  };
}
export type CalibrationRepository = ReturnType<typeof createCalibrationRepository>;
