// Issue 17 (SYNC-1): the uplink's durable queue, kept on the box's own SQLite without a copy of
// every reading. What is to be sent is decided in the transaction that stores it:
//   - readings: each group commit that stores readings while a target exists appends ONE row to
//     uplink_batches with the (sn_id, ts) keys it stored, varint-packed (storage/uplink-log.ts),
//     about 4 bytes a reading beside the reading's ~40 (BENCHMARKS.md measures the cost);
//   - alarms: the alarm journal is already written with every change (ALM-12); its AUTOINCREMENT
//     ids are the lane's sequence (SQLite serialises writers, so ids grow in commit order);
//   - device state: uplink_device_events, written with the status change (writer thread) or by the
//     triggers below for configuration changes and removals.
// Each target keeps its cursors in uplink_cursors; they move only on the target's acknowledgement.
export const m014_uplink = {
  version: 14,
  name: 'uplink: batch log, device events, per-target cursors, resend requests, clock trust',
  sql: /* sql */ `
CREATE TABLE uplink_cursors (
  target TEXT PRIMARY KEY,
  journal_id INTEGER NOT NULL,     -- alarm_journal ids up to this one acknowledged
  device_event_id INTEGER NOT NULL,
  batch_id INTEGER NOT NULL,       -- uplink_batches up to this one acknowledged (the backfill lane)
  live_from INTEGER,               -- after an outage: batches after this one are the live lane…
  live_batch_id INTEGER,           -- …acknowledged up to this one; NULL: no split
  minute_ts INTEGER,               -- telemetry = aggregate: minute buckets before this sent
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE uplink_batches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,             -- the newest receive time in the batch (box clock)
  n INTEGER NOT NULL,              -- readings in the batch
  ts_min INTEGER NOT NULL,         -- their reading times, for aggregates and gap records
  ts_max INTEGER NOT NULL,
  keys BLOB                        -- (sn_id, ts) keys; NULL: cut by the disk guard, only the span is known
);

CREATE TABLE uplink_device_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sn TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('online', 'offline', 'config', 'removed')),
  at INTEGER NOT NULL
);
CREATE TRIGGER uplink_device_config AFTER UPDATE OF
  name, location, gas, unit, range_max, high_limit, high2_limit, low_limit, enabled ON devices
  WHEN EXISTS (SELECT 1 FROM uplink_cursors)
  BEGIN INSERT INTO uplink_device_events (sn, event, at) VALUES (NEW.sn, 'config', NEW.updated_at); END;
CREATE TRIGGER uplink_device_added AFTER INSERT ON devices
  WHEN EXISTS (SELECT 1 FROM uplink_cursors)
  BEGIN INSERT INTO uplink_device_events (sn, event, at) VALUES (NEW.sn, 'config', NEW.created_at); END;
CREATE TRIGGER uplink_device_removed AFTER DELETE ON devices
  WHEN EXISTS (SELECT 1 FROM uplink_cursors)
  BEGIN INSERT INTO uplink_device_events (sn, event, at)
    VALUES (OLD.sn, 'removed', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;

-- SYNC-5: "resend this range" from the cloud, worked through device by device as historical.
CREATE TABLE uplink_resends (
  id INTEGER PRIMARY KEY,
  target TEXT NOT NULL,
  from_ts INTEGER NOT NULL,
  to_ts INTEGER NOT NULL,
  sns TEXT,                        -- JSON array; NULL: every device
  next_sn_id INTEGER NOT NULL DEFAULT 0,
  next_ts INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

-- SYNC-6: the spans in which the box's clock was not known to be synchronised (to_at NULL: still).
CREATE TABLE clock_unsynced (
  id INTEGER PRIMARY KEY,
  from_at INTEGER NOT NULL,
  to_at INTEGER,
  reason TEXT NOT NULL
);
`,
};
