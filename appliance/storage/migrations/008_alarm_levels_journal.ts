export const m008_alarm_levels_journal = {
  version: 8,
  name: 'second-level setpoint, alarm level and priority, latching, alarm journal',
  sql: /* sql */ `
-- ALM-9 (GB/T 50493-2019): high_limit stays the first-level (一级) setpoint; high2_limit is the
-- second level (二级) above it. NULL: no second level.
ALTER TABLE devices ADD COLUMN high2_limit REAL;

-- ALM-9/ALM-10/ALM-11: a gas episode's level (1, 2; NULL for other types), its priority, and
-- whether a cleared gas alarm latches (stays listed until acknowledged). Records from before keep
-- latched = 0: they were cleared under the old rules and do not flood the kiosk after an upgrade.
ALTER TABLE alarms ADD COLUMN level INTEGER;
ALTER TABLE alarms ADD COLUMN priority TEXT NOT NULL DEFAULT 'low';
ALTER TABLE alarms ADD COLUMN latched INTEGER NOT NULL DEFAULT 0;
UPDATE alarms SET level = CASE WHEN type = 'HIGH' THEN 1 END,
  priority = CASE type WHEN 'HIGH' THEN 'high' WHEN 'LOW' THEN 'critical' WHEN 'FAULT' THEN 'medium'
    WHEN 'OFFLINE' THEN 'medium' WHEN 'CHANNEL' THEN 'medium' ELSE 'low' END;
CREATE INDEX alarms_listed ON alarms (state, latched, ack_at);

-- ALM-12: every episode's events, in order — raised, level, peak, repeat, cleared, acknowledged,
-- notifications per channel with their result, silenced — written with the change they record.
CREATE TABLE alarm_journal (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alarm_id INTEGER NOT NULL REFERENCES alarms (id),
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  level INTEGER,
  value REAL,
  actor TEXT,                     -- who acknowledged, which kiosk silenced, which channel sent
  detail TEXT                     -- comment, delivery result
);
CREATE INDEX journal_by_alarm ON alarm_journal (alarm_id, id);
-- The history the records themselves tell, so that no upgraded episode has an empty journal.
INSERT INTO alarm_journal (alarm_id, at, kind, level, value) SELECT id, triggered_at, 'raised', level, value FROM alarms;
INSERT INTO alarm_journal (alarm_id, at, kind, value) SELECT id, cleared_at, 'cleared', peak FROM alarms WHERE cleared_at IS NOT NULL;
INSERT INTO alarm_journal (alarm_id, at, kind, actor, detail) SELECT id, ack_at, 'acknowledged', ack_by, ack_comment FROM alarms WHERE ack_at IS NOT NULL;
`,
};
