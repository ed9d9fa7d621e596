export const m002_rollup_dirty = {
  version: 2,
  name: 'minute buckets that received late readings, kept across restarts',
  sql: /* sql */ `
-- A reading stored for a minute already rolled up marks that minute here, in the same transaction,
-- so the next roll-up redoes it even if the appliance restarted in between (STO-3).
CREATE TABLE rollup_dirty (
  sn_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (sn_id, ts)
) WITHOUT ROWID;
`,
};
