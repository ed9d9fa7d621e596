export const m004_alarms = {
  version: 4,
  name: 'alarms with lifecycle, notification outbox and attempts',
  sql: /* sql */ `
-- seed alarm_logs plus the lifecycle of ALM-2: one record per excursion of a device (or a system
-- part) and type; active → cleared; acknowledged independently; repeats within the debounce
-- window re-open the record and are counted instead of notifying again (ALM-3).
CREATE TABLE alarms (
  id INTEGER PRIMARY KEY,
  sn TEXT,                        -- NULL for system alarms
  source TEXT NOT NULL,           -- the device serial, or the system part (disk, archive, license, channel:<kind>)
  type TEXT NOT NULL,             -- HIGH LOW OFFLINE LOW_BAT FAULT | DISK ARCHIVE LICENSE CHANNEL
  state TEXT NOT NULL CHECK (state IN ('active', 'cleared')),
  value REAL,                     -- the value that raised it
  threshold REAL,
  peak REAL,                      -- the worst value while active
  detail TEXT,
  triggered_at INTEGER NOT NULL,
  cleared_at INTEGER,
  repeat_count INTEGER NOT NULL DEFAULT 0,
  notified_at INTEGER,            -- when a notification was last queued for it
  ack_at INTEGER,
  ack_by TEXT,
  ack_comment TEXT,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX alarms_one_active ON alarms (source, type) WHERE state = 'active';
CREATE INDEX alarms_by_time ON alarms (triggered_at);
CREATE INDEX alarms_by_source ON alarms (source, type, triggered_at);

-- ALM-6: notifications to send, one row per alarm event and channel, and every attempt.
CREATE TABLE notification_outbox (
  id INTEGER PRIMARY KEY,
  alarm_id INTEGER REFERENCES alarms (id),
  event TEXT NOT NULL,            -- raised | cleared | test
  channel TEXT NOT NULL,          -- email | dingtalk | feishu | wecom | webhook | sms
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON notification_outbox (status, next_attempt_at);
CREATE TABLE notification_attempts (
  id INTEGER PRIMARY KEY,
  outbox_id INTEGER NOT NULL REFERENCES notification_outbox (id),
  at INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  detail TEXT,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX attempts_by_outbox ON notification_attempts (outbox_id);
`,
};
