// Archive test fixtures: a real SQLite file with readings of chosen days, the real group-commit
// writer (worker thread), storage settings and an archiver wired like app.ts.
import { gunzipSync } from 'node:zlib';
import { createArchiver } from '../../appliance/archive/archiver.ts';
import { createStorageSettings } from '../../appliance/archive/settings.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createSecretBox } from '../../appliance/core/secrets.ts';
import { createConfigRepository } from '../../appliance/storage/config.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createGroupCommitWriter, type GroupCommitWriter } from '../../appliance/storage/group-commit.ts';
import { tempDir } from '../helpers/appliance.ts';
import type { ReportSystemCondition } from '../../appliance/core/system-conditions.ts';

export const TZ = 'Asia/Shanghai';
export const HOUR = 3_600_000;
/** 2026-01-05 00:00 in Shanghai. */
export const JAN5 = Date.UTC(2026, 0, 4, 16);

export interface Fixture {
  dir: string;
  db: Db;
  writer: GroupCommitWriter;
  clock: ReturnType<typeof manualClock>;
  alarms: {
    raised: string[];
    cleared: number;
    active: Map<string, string>;
    raiseSystem(type: string, source: string, detail: string): void;
    clearSystem(type: string, source: string): void;
    /** The ReportSystemCondition port, recorded by the two above. */
    report: ReportSystemCondition;
  };
  settings: ReturnType<typeof createStorageSettings>;
  archiver: (overrides?: Partial<Parameters<typeof createArchiver>[0]>) => ReturnType<typeof createArchiver>;
  /** Inserts `perDevice` readings every `stepMs` from `start` for each serial; received `delayMs` after ts. */
  insert(serials: string[], start: number, perDevice: number, stepMs: number, delayMs?: number): void;
  rowsIn(from: number, to: number): string[];
  close(): Promise<void>;
}

export async function fixture(retentionDays = 1): Promise<Fixture> {
  const temp = tempDir();
  const file = dbFileIn(temp.dir);
  const db = openDb(file);
  const writer = createGroupCommitWriter({ file, synchronous: 'NORMAL', cacheMb: 4, commitIntervalMs: 1, commitMaxRows: 1000, log: silentLogger() });
  await writer.start();
  const clock = manualClock(JAN5 + 5 * 24 * HOUR);
  const settings = createStorageSettings({ config: createConfigRepository(db), box: createSecretBox(temp.dir), clock });
  const alarms = {
    raised: [] as string[],
    cleared: 0,
    active: new Map<string, string>(),
    raiseSystem(type: string, source: string, detail: string) {
      this.raised.push(`${type}/${source}: ${detail}`);
      this.active.set(`${type}/${source}`, detail);
    },
    clearSystem(type: string, source: string) {
      if (this.active.delete(`${type}/${source}`)) this.cleared++;
    },
    report: (type, source, condition) => (condition.holds ? alarms.raiseSystem(type, source, condition.detail ?? '') : alarms.clearSystem(type, source)),
  } satisfies Fixture['alarms'];
  const serialId = (sn: string) => {
    db.prepare('INSERT OR IGNORE INTO serials (sn) VALUES (?)').run(sn);
    return (db.prepare('SELECT id FROM serials WHERE sn = ?').get(sn) as { id: number }).id;
  };
  const insertRow = db.prepare('INSERT INTO readings VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
  return {
    dir: temp.dir,
    db,
    writer,
    clock,
    alarms,
    settings,
    archiver: (overrides = {}) =>
      createArchiver({
        db, dbFile: file, writer, settings, reportCondition: alarms.report, clock, log: silentLogger(), timezone: TZ, retentionDays, ...overrides,
      }),
    insert(serials, start, perDevice, stepMs, delayMs = 150) {
      db.transaction(() => {
        for (const sn of serials) {
          const id = serialId(sn);
          for (let i = 0; i < perDevice; i++) {
            const ts = start + i * stepMs;
            insertRow.run(id, ts, 1234 + i, 5025 + (i % 7), 2150, i % 5 === 0 ? null : 4500, 90, -70, i % 65536, 0, 0, delayMs);
          }
        }
      })();
    },
    rowsIn(from, to) {
      return (db.prepare(`
        SELECT s.sn, r.ts, r.v_raw, r.ppm, r.temp, r.humi, r.bat, r.rssi, r.seq FROM readings r JOIN serials s ON s.id = r.sn_id
        WHERE r.ts >= ? AND r.ts < ? ORDER BY s.sn, r.ts`).raw(true).all(from, to) as unknown[][]).map((row) => csvOf(row));
    },
    async close() {
      await writer.stop();
      db.close();
      temp.remove();
    },
  };
}

/** The CSV line the archive must hold for a stored row [sn, ts, v_raw, ppm, temp, humi, bat, rssi, seq]. */
function csvOf([sn, ts, vRaw, ppm, temp, humi, bat, rssi, seq]: unknown[]): string {
  const d = (n: unknown) => String((n as number) / 100);
  return `${new Date(ts as number).toISOString()},${sn},${d(vRaw)},${d(ppm)},${d(temp)},${humi === null ? '' : d(humi)},${bat},${rssi},${seq}`;
}

export async function objectLines(stream: NodeJS.ReadableStream): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return gunzipSync(Buffer.concat(chunks)).toString('utf8').trimEnd().split('\n');
}
