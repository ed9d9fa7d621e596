export const m003_latest_readings = {
  version: 3,
  name: 'newest reading of each device, kept by the writer',
  sql: /* sql */ `
-- STO-5: "latest reading of every device" must be one cheap query for thousands of devices (a
-- kiosk asks every second). Two B-tree seeks per device in readings cost ~5 µs each; this table,
-- upserted once per device per group commit, answers with one scan. Same scaled columns as readings.
CREATE TABLE latest_readings (
  sn_id INTEGER PRIMARY KEY,
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
  recv_delta INTEGER NOT NULL
);
INSERT INTO latest_readings
  SELECT r.sn_id, r.ts, r.v_raw, r.ppm, r.temp, r.humi, r.bat, r.rssi, r.seq, r.err, r.flags, r.recv_delta
  FROM serials s CROSS JOIN readings r
  ON r.sn_id = s.id AND r.ts = (SELECT max(ts) FROM readings WHERE sn_id = s.id);
`,
};
