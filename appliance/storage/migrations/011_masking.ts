export const m011_masking = {
  version: 11,
  name: 'device masks (shelving) for maintenance and bump tests',
  sql: /* sql */ `
-- Issue 15.1 (ISA-18.2 shelving, 屏蔽): an operator masks a detector for a bounded time with a
-- reason. While a mask is open (ended_at NULL, until in the future) its alarms are recorded and
-- journaled but not notified. A mask ends by hand ('unmasked'), by itself ('expired') or when a
-- new mask of the same detector replaces it ('replaced'); the rows stay as the record of who did what.
CREATE TABLE device_masks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sn TEXT NOT NULL,
  reason TEXT NOT NULL,
  masked_by TEXT NOT NULL,
  masked_at INTEGER NOT NULL,
  until INTEGER NOT NULL,
  ended_at INTEGER,
  ended_by TEXT,
  end_reason TEXT
);
CREATE INDEX device_masks_open ON device_masks (sn) WHERE ended_at IS NULL;
CREATE INDEX device_masks_by_time ON device_masks (masked_at);
`,
};
