export const m007_alarm_ids = {
  version: 7,
  name: 'alarm ids never reused (AUTOINCREMENT)',
  // ALM-8: an INTEGER PRIMARY KEY without AUTOINCREMENT hands out max(id)+1, so the id of a record
  // that was rolled back (or deleted) came back for another device's alarm. SQLite can only add
  // AUTOINCREMENT by rebuilding the table (https://sqlite.org/lang_altertable.html, "other kinds of
  // table schema changes"); the outbox keeps pointing at the same ids.
  foreignKeysOff: true,
  sql: /* sql */ `
CREATE TABLE alarms_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sn TEXT,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'cleared')),
  value REAL,
  threshold REAL,
  peak REAL,
  detail TEXT,
  triggered_at INTEGER NOT NULL,
  cleared_at INTEGER,
  repeat_count INTEGER NOT NULL DEFAULT 0,
  notified_at INTEGER,
  ack_at INTEGER,
  ack_by TEXT,
  ack_comment TEXT,
  updated_at INTEGER NOT NULL
);
INSERT INTO alarms_new SELECT id, sn, source, type, state, value, threshold, peak, detail, triggered_at, cleared_at,
  repeat_count, notified_at, ack_at, ack_by, ack_comment, updated_at FROM alarms;
DROP TABLE alarms;
ALTER TABLE alarms_new RENAME TO alarms;
CREATE UNIQUE INDEX alarms_one_active ON alarms (source, type) WHERE state = 'active';
CREATE INDEX alarms_by_time ON alarms (triggered_at);
CREATE INDEX alarms_by_source ON alarms (source, type, triggered_at);
`,
};
