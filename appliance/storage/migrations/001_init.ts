export const m001_init = {
  version: 1,
  name: 'devices, readings, roll-ups, pending devices, config',
  sql: /* sql */ `
-- A serial number's stable integer key. Readings are keyed by it instead of the text serial:
-- a reading stays near 40 bytes on disk (STO target ≤ 55 B) and the key outlives a removed device.
CREATE TABLE serials (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sn TEXT NOT NULL UNIQUE
);

-- seed §5.1 devices, plus credentials, enabled, gas/unit, measuring range.
CREATE TABLE devices (
  sn TEXT PRIMARY KEY,
  sn_id INTEGER NOT NULL UNIQUE REFERENCES serials(id),
  name TEXT NOT NULL DEFAULT '',
  location TEXT NOT NULL DEFAULT '',
  pos_x REAL,
  pos_y REAL,
  gas TEXT NOT NULL DEFAULT 'CH4',
  unit TEXT NOT NULL DEFAULT 'ppm',
  calib_k REAL NOT NULL DEFAULT 1,
  calib_b REAL NOT NULL DEFAULT 0,
  calib_t_ref REAL NOT NULL DEFAULT 25,
  calib_t_comp REAL NOT NULL DEFAULT 0,
  range_max REAL NOT NULL DEFAULT 50000,
  high_limit REAL,
  low_limit REAL,
  enabled INTEGER NOT NULL DEFAULT 1,
  -- NULL: the factory-derived password (DEV-5) is the credential.
  password_hash TEXT,
  status TEXT NOT NULL DEFAULT 'offline',
  last_seen INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Bumped by any change of a device's settings (not its status), so a running appliance notices
-- changes made by another process (the CLI) with one cheap read.
CREATE TABLE device_changes (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT INTO device_changes VALUES (1, 0);
CREATE TRIGGER devices_changed_insert AFTER INSERT ON devices
  BEGIN UPDATE device_changes SET version = version + 1; END;
CREATE TRIGGER devices_changed_delete AFTER DELETE ON devices
  BEGIN UPDATE device_changes SET version = version + 1; END;
CREATE TRIGGER devices_changed_update AFTER UPDATE OF
  name, location, pos_x, pos_y, gas, unit, calib_k, calib_b, calib_t_ref, calib_t_comp,
  range_max, high_limit, low_limit, enabled, password_hash ON devices
  BEGIN UPDATE device_changes SET version = version + 1; END;

-- STO-1/STO-2 readings. v_raw, ppm, temp and humi are stored as integers scaled by 100 (0.01
-- resolution), which SQLite packs into 2-3 bytes instead of 8 for a REAL; bat (%) and rssi (dBm)
-- as whole numbers.
--   ts          reading time, UTC ms: device second × 1000 + seq mod 1000 (see ingest/steps.ts)
--   recv_delta  server receive time − ts, ms (ING-5)
--   flags       bit 0 overrange (ING-2), bit 1 device clock skewed (ING-5)
CREATE TABLE readings (
  sn_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  v_raw INTEGER NOT NULL,
  ppm INTEGER NOT NULL,
  temp INTEGER NOT NULL,
  humi INTEGER,
  bat INTEGER NOT NULL,
  rssi INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  err INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  recv_delta INTEGER NOT NULL,
  PRIMARY KEY (sn_id, ts)
) WITHOUT ROWID;

-- STO-3 roll-ups of ppm (scaled ×100 like readings): bucket start ts, count, min, max, sum.
CREATE TABLE readings_1m (
  sn_id INTEGER NOT NULL, ts INTEGER NOT NULL,
  n INTEGER NOT NULL, ppm_min INTEGER NOT NULL, ppm_max INTEGER NOT NULL, ppm_sum INTEGER NOT NULL,
  PRIMARY KEY (sn_id, ts)
) WITHOUT ROWID;
CREATE TABLE readings_1h (
  sn_id INTEGER NOT NULL, ts INTEGER NOT NULL,
  n INTEGER NOT NULL, ppm_min INTEGER NOT NULL, ppm_max INTEGER NOT NULL, ppm_sum INTEGER NOT NULL,
  PRIMARY KEY (sn_id, ts)
) WITHOUT ROWID;
-- How far each roll-up is complete (bucket starts below the watermark are final).
CREATE TABLE rollup_state (name TEXT PRIMARY KEY, watermark INTEGER NOT NULL);

-- A readable view of readings in natural units.
CREATE VIEW readings_v AS
  SELECT s.sn AS sn, r.ts AS ts, r.v_raw / 100.0 AS v_raw, r.ppm / 100.0 AS ppm, r.temp / 100.0 AS temp,
         r.humi / 100.0 AS humi, r.bat AS bat, r.rssi AS rssi, r.seq AS seq, r.err AS err,
         r.flags AS flags, r.ts + r.recv_delta AS received_at
  FROM readings r JOIN serials s ON s.id = r.sn_id;

-- ING-3: serials that authenticated with a factory-derived password but are not registered.
CREATE TABLE pending_devices (
  sn TEXT PRIMARY KEY,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  messages INTEGER NOT NULL DEFAULT 0,
  last_payload TEXT,
  remote_address TEXT
);

CREATE TABLE system_config (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`,
};
